package rehive

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RateLimits are Rehive's request limits per client IP. Zero fields take
// Rehive's values; a negative field turns that limit off (load tests that
// send everything from one address).
type RateLimits struct {
	PerTenSeconds  int // any API call: 300 per 10 s
	LoginPerMinute int // POST /3/auth/login/: 6 per minute
	LoginPerHour   int // and 20 per hour
}

func (l RateLimits) withDefaults() RateLimits {
	def := func(v, d int) int {
		if v == 0 {
			return d
		}
		return v
	}
	return RateLimits{def(l.PerTenSeconds, 300), def(l.LoginPerMinute, 6), def(l.LoginPerHour, 20)}
}

// limiter counts requests in sliding windows.
type limiter struct {
	limits RateLimits
	mu     sync.Mutex
	seen   map[string][]time.Time // window name + client → request times, oldest first
	calls  int                    // requests counted since the last sweep
}

// allow records a request of client against each window it falls in and
// reports how long to wait when one of them is full (the request is then
// not counted).
func (l *limiter) allow(client string, login bool, now time.Time) (bool, time.Duration) {
	type window struct {
		name  string
		limit int
		span  time.Duration
	}
	ws := []window{{"all", l.limits.PerTenSeconds, 10 * time.Second}}
	if login {
		ws = append(ws, window{"login-m", l.limits.LoginPerMinute, time.Minute}, window{"login-h", l.limits.LoginPerHour, time.Hour})
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[string][]time.Time{}
	}
	if l.calls++; l.calls >= 10_000 {
		l.sweepLocked(now)
	}
	for _, w := range ws {
		if w.limit < 0 {
			continue
		}
		k := w.name + "|" + client
		times := l.seen[k]
		for len(times) > 0 && now.Sub(times[0]) >= w.span {
			times = times[1:]
		}
		l.seen[k] = times
		if len(times) >= w.limit {
			return false, w.span - now.Sub(times[0])
		}
	}
	for _, w := range ws {
		if w.limit >= 0 {
			k := w.name + "|" + client
			l.seen[k] = append(l.seen[k], now)
		}
	}
	return true, 0
}

// sweepLocked forgets clients idle for an hour, bounding memory.
func (l *limiter) sweepLocked(now time.Time) {
	l.calls = 0
	for k, times := range l.seen {
		if len(times) == 0 || now.Sub(times[len(times)-1]) >= time.Hour {
			delete(l.seen, k)
		}
	}
}

// middleware answers 429 with Retry-After once a client is over a limit.
func (l *limiter) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		client, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			client = r.RemoteAddr
		}
		login := r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/3/auth/login/")
		if ok, wait := l.allow(client, login, time.Now()); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
			writeError(w, &apiError{status: http.StatusTooManyRequests, message: "Request was throttled."})
			return
		}
		next.ServeHTTP(w, r)
	})
}
