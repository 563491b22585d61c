package checkoutcom

import (
	"encoding/json"
	"net/http"
)

// idemKey scopes a Cko-Idempotency-Key to the endpoint path it was used on.
type idemKey struct{ path, key string }

// idemEntry is a request in flight (done false) or its stored success.
type idemEntry struct {
	done   bool
	status int
	body   []byte
}

// apiFunc handles a provider API call, returning the status and the value to
// send as JSON (nil = empty body).
type apiFunc func(w http.ResponseWriter, r *http.Request) (int, any)

// idempotent honours Cko-Idempotency-Key: a repeat of a successful request
// gets the first status and body again, a repeat while the first is in flight
// gets 429 duplicate_request, and a failed request leaves the key unused.
func (s *Sandbox) idempotent(f apiFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Cko-Idempotency-Key")
		if key == "" {
			status, v := f(w, r)
			respond(w, status, v)
			return
		}
		k := idemKey{path: r.URL.Path, key: key}
		s.mu.Lock()
		if e, ok := s.idem[k]; ok {
			prev := *e // copied under the lock; a done entry never changes again
			s.mu.Unlock()
			if prev.done {
				writeRaw(w, prev.status, prev.body)
				return
			}
			writeJSON(w, http.StatusTooManyRequests, errorBody(w, "request_invalid", []string{"duplicate_request"}))
			return
		}
		e := &idemEntry{}
		s.idem[k] = e
		s.mu.Unlock()

		status, body := encode(f(w, r))
		s.mu.Lock()
		if status >= 200 && status <= 299 {
			e.done, e.status, e.body = true, status, body
		} else {
			delete(s.idem, k)
		}
		s.mu.Unlock()
		writeRaw(w, status, body)
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
