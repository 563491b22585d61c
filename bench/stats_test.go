package bench

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestSeries(t *testing.T) {
	s := newSeries([]float64{30, 10, 20})
	if s.Median != 20 || s.Min != 10 || s.Max != 30 || s.Spread != 1 {
		t.Fatalf("odd rounds: %+v", s)
	}
	if s := newSeries([]float64{4, 1, 3, 2}); s.Median != 2.5 {
		t.Fatalf("even rounds: median %v, want 2.5", s.Median)
	}
	if s := newSeries(nil); s.Median != 0 || s.Spread != 0 {
		t.Fatalf("no rounds: %+v", s)
	}
}

func TestLatencyNearestRank(t *testing.T) {
	var s samples
	for i := 100; i >= 1; i-- { // out of order on purpose
		s.add(time.Duration(i) * time.Millisecond)
	}
	l := s.latency()
	if l.N != 100 || l.P50 != 50 || l.P90 != 90 || l.P99 != 99 || l.Max != 100 {
		t.Fatalf("1..100 ms: %+v", l)
	}
	var one samples
	one.add(7 * time.Millisecond)
	if l := one.latency(); l.P50 != 7 || l.P99 != 7 {
		t.Fatalf("one sample: %+v", l)
	}
}

func TestClosedLoop(t *testing.T) {
	var ran, inFlight, most atomic.Int64
	rate, err := closedLoop(40, 4, func(int) error {
		n := inFlight.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(time.Millisecond)
		inFlight.Add(-1)
		ran.Add(1)
		return nil
	})
	if err != nil || ran.Load() != 40 || rate <= 0 {
		t.Fatalf("ran %d, rate %v, err %v", ran.Load(), rate, err)
	}
	if most.Load() > 4 {
		t.Fatalf("%d in flight, want at most 4", most.Load())
	}
	boom := errors.New("boom")
	ran.Store(0)
	if _, err := closedLoop(100, 2, func(i int) error {
		ran.Add(1)
		if i == 3 {
			return boom
		}
		return nil
	}); !errors.Is(err, boom) {
		t.Fatalf("err %v, want boom", err)
	}
	if ran.Load() >= 100 {
		t.Fatal("the loop went on after an error")
	}
}
