package bench

import (
	"math"
	"sort"
	"sync"
	"time"
)

// Series is one measure taken in several rounds.
type Series struct {
	Rounds []float64 `json:"rounds"`
	Median float64   `json:"median"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
	// Spread is (max-min)/median: how far one round is from another.
	Spread float64 `json:"spread"`
}

func newSeries(rounds []float64) Series {
	s := Series{Rounds: rounds}
	if len(rounds) == 0 {
		return s
	}
	sorted := append([]float64(nil), rounds...)
	sort.Float64s(sorted)
	s.Min, s.Max = sorted[0], sorted[len(sorted)-1]
	if n := len(sorted); n%2 == 1 {
		s.Median = sorted[n/2]
	} else {
		s.Median = (sorted[n/2-1] + sorted[n/2]) / 2
	}
	if s.Median > 0 {
		s.Spread = (s.Max - s.Min) / s.Median
	}
	return s
}

// Latency is a latency distribution in milliseconds.
type Latency struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_ms"`
	P90 float64 `json:"p90_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

// samples collects latencies from many goroutines.
type samples struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *samples) add(d time.Duration) {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
}

func (s *samples) latency() Latency {
	s.mu.Lock()
	d := append([]time.Duration(nil), s.d...)
	s.mu.Unlock()
	if len(d) == 0 {
		return Latency{}
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	// Nearest rank: the p-quantile is the smallest sample with at least
	// p of the samples at or below it.
	q := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(d)))) - 1
		return ms(d[max(i, 0)])
	}
	return Latency{N: len(d), P50: q(0.50), P90: q(0.90), P99: q(0.99), Max: ms(d[len(d)-1])}
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/float64(time.Microsecond)) / 1000 }

// closedLoop runs f for i in [0, n) with conc callers, each starting the
// next item when its previous one ended, and returns completions per second.
func closedLoop(n, conc int, f func(i int) error) (float64, error) {
	var (
		mu      sync.Mutex
		next    int
		first   error
		wg      sync.WaitGroup
		started = time.Now()
	)
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if next >= n || first != nil {
			return 0, false
		}
		next++
		return next - 1, true
	}
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, ok := take(); ok; i, ok = take() {
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return 0, first
	}
	return float64(n) / time.Since(started).Seconds(), nil
}

func (s *samples) reset() {
	s.mu.Lock()
	s.d = nil
	s.mu.Unlock()
}
