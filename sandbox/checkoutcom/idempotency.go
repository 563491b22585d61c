package checkoutcom

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/payflow/payflow/sandbox/faults"
)

// DefaultIdempotencyTTL is how long Checkout.com keeps an idempotency key.
const DefaultIdempotencyTTL = 24 * time.Hour

// idemKey scopes a Cko-Idempotency-Key to the endpoint path it was used on.
type idemKey struct{ path, key string }

// idemEntry is a request in flight (done false) or its stored success.
type idemEntry struct {
	done   bool
	status int
	body   []byte
	at     time.Time // when the first request arrived
}

// apiFunc handles a provider API call, returning the status and the value to
// send as JSON (nil = empty body).
type apiFunc func(w http.ResponseWriter, r *http.Request) (int, any)

// idempotent serves a money-moving call (payments, captures, refunds, voids)
// and honours Cko-Idempotency-Key as Checkout.com does: a repeat of a
// successful request gets the first status and body again, a repeat while
// the first is still being processed gets 409, a non-2xx result is not kept
// (the key can be used again), and keys expire after the TTL.
//
// It also applies lose_answers_next: the call is carried out, then its
// answer is lost. 5xx: a 502 and, the result not being 2xx as far as the
// key is concerned, no record (a retry of a charge meets token_used). hang:
// the answer is held while the key stays in flight (a retry gets 409), then
// kept. reset: the record is kept and the connection cut.
func (s *Sandbox) idempotent(f apiFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		loss := s.faults.TakeLoss()
		key := r.Header.Get("Cko-Idempotency-Key")
		k := idemKey{path: r.URL.Path, key: key}
		var e *idemEntry
		if key != "" {
			s.mu.Lock()
			now := s.now()
			prev, ok := s.idem[k]
			if ok && prev.done && now.Sub(prev.at) >= s.idemTTL {
				ok = false // expired: the key is new again
			}
			if ok {
				p := *prev // copied under the lock; a done entry never changes again
				s.mu.Unlock()
				if p.done {
					writeRaw(w, p.status, p.body)
					return
				}
				writeJSON(w, http.StatusConflict, errorBody(w, "request_invalid", []string{"request_in_progress"}))
				return
			}
			s.pruneIdemLocked(now)
			e = &idemEntry{at: now}
			s.idem[k] = e
			s.mu.Unlock()
		}
		status, body := encode(f(w, r))
		keep := func() {
			if e == nil {
				return
			}
			s.mu.Lock()
			if status >= 200 && status <= 299 {
				e.done, e.status, e.body = true, status, body
			} else {
				delete(s.idem, k)
			}
			s.mu.Unlock()
		}
		switch loss {
		case "":
			keep()
			writeRaw(w, status, body)
		case faults.Lose5xx:
			status = http.StatusBadGateway
			keep()
			faults.WriteLost5xx(w)
		case faults.LoseHang:
			late := faults.Hold(r)
			keep()
			if late {
				writeRaw(w, status, body)
			}
		case faults.LoseReset:
			keep()
			faults.Reset(w)
		}
	}
}

// pruneIdemLocked drops expired keys now and then, bounding memory in long
// runs. s.mu must be held.
func (s *Sandbox) pruneIdemLocked(now time.Time) {
	if len(s.idem)%1024 != 1023 {
		return
	}
	for k, e := range s.idem {
		if e.done && now.Sub(e.at) >= s.idemTTL {
			delete(s.idem, k)
		}
	}
}

func respond(w http.ResponseWriter, status int, v any) {
	status, body := encode(status, v)
	writeRaw(w, status, body)
}

func encode(status int, v any) (int, []byte) {
	if v == nil {
		return status, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return http.StatusInternalServerError, []byte(`{"error_type":"internal_error"}`)
	}
	return status, b
}
