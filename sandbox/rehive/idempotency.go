package rehive

import (
	"bytes"
	"crypto/sha256"
	"io"
	"net/http"
	"sync"
	"time"
)

// idempotencyTTL is how long Rehive keeps a key.
const idempotencyTTL = 24 * time.Hour

// idempotency replays the first successful answer to a POST/PUT/PATCH for
// the same Idempotency-Key, caller and path, marked Idempotent-Replayed. A
// failed first attempt is not kept, so it can be retried.
type idempotency struct {
	mu      sync.Mutex
	entries map[[32]byte]*idemEntry
}

type idemEntry struct {
	body    [32]byte // hash of the request body
	done    bool     // false while the first request runs
	status  int
	payload []byte
	at      time.Time
}

func (ix *idempotency) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if key == "" || r.Method == http.MethodGet || r.Method == http.MethodDelete {
			next.ServeHTTP(w, r)
			return
		}
		if len(key) >= 100 {
			writeError(w, fieldError("Idempotency-Key", "Ensure the key has fewer than 100 characters."))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
		if err != nil {
			writeError(w, invalid("Malformed request body."))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		// The caller is identified by a hash of its credentials, never kept in clear.
		scope := sha256.Sum256([]byte(r.Header.Get("Authorization") + "\x00" + r.Method + " " + r.URL.Path + "\x00" + key))
		hash := sha256.Sum256(body)

		ix.mu.Lock()
		if ix.entries == nil {
			ix.entries = map[[32]byte]*idemEntry{}
		}
		e := ix.entries[scope]
		if e != nil && time.Since(e.at) > idempotencyTTL {
			e = nil
		}
		switch {
		case e == nil:
			ix.pruneLocked()
			ix.entries[scope] = &idemEntry{body: hash, at: time.Now()}
		case e.body != hash:
			ix.mu.Unlock()
			writeError(w, &apiError{status: http.StatusConflict, message: "The Idempotency-Key was used with a different request."})
			return
		case !e.done:
			ix.mu.Unlock()
			writeError(w, &apiError{status: http.StatusConflict, message: "A request with this Idempotency-Key is in progress."})
			return
		default:
			status, payload := e.status, e.payload
			ix.mu.Unlock()
			w.Header().Set("Idempotent-Replayed", "true")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write(payload) // the client has gone if this fails
			return
		}
		ix.mu.Unlock()

		rec := &recorder{header: http.Header{}, status: http.StatusOK}
		next.ServeHTTP(rec, r)

		ix.mu.Lock()
		if rec.status >= 200 && rec.status < 300 {
			ix.entries[scope] = &idemEntry{body: hash, done: true, status: rec.status, payload: rec.buf.Bytes(), at: time.Now()}
		} else {
			delete(ix.entries, scope)
		}
		ix.mu.Unlock()
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.buf.Bytes()) // the client has gone if this fails
	})
}

// pruneLocked drops expired keys now and then, bounding memory in long runs.
func (ix *idempotency) pruneLocked() {
	if len(ix.entries)%1024 != 1023 {
		return
	}
	for k, e := range ix.entries {
		if e.done && time.Since(e.at) > idempotencyTTL {
			delete(ix.entries, k)
		}
	}
}

// recorder buffers a handler's answer so that it can be stored.
type recorder struct {
	header http.Header
	status int
	buf    bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) WriteHeader(status int)      { r.status = status }
func (r *recorder) Write(b []byte) (int, error) { return r.buf.Write(b) }
