package rehive

import (
	"crypto/sha256"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/payflow/payflow/sandbox/faults"
)

// idempotencyTTL is how long Rehive keeps a key.
const idempotencyTTL = 24 * time.Hour

// idempotency does what Rehive does with an Idempotency-Key on a
// POST/PUT/PATCH: every answer is saved, errors included (all but 429), and
// replayed for the same key, method and URL, marked Idempotent-Replayed —
// the body is not compared, so a key reused for another request silently
// gets the old answer. A retry after a refusal therefore needs a new key.
// A repeat while the first request runs gets 409.
type idempotency struct {
	mu      sync.Mutex
	entries map[[32]byte]*idemEntry
}

type idemEntry struct {
	done    bool // false while the first request runs
	status  int
	payload []byte
	at      time.Time
}

// It also applies lose_answers_next to the money-moving calls: the call is
// carried out and its answer kept under the key (what was lost is the way
// back, e.g. a gateway timing out in front of Rehive), then lost: a 502, a
// hold while the key stays in flight (a retry gets 409), or a cut
// connection.
func (ix *idempotency) middleware(next http.Handler, inj *faults.Injector) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var loss faults.LoseMode
		if movesMoney(r) {
			loss = inj.TakeLoss()
		}
		key := r.Header.Get("Idempotency-Key")
		if key == "" || r.Method == http.MethodGet || r.Method == http.MethodDelete {
			if loss == "" {
				next.ServeHTTP(w, r)
				return
			}
			rec := faults.NewRecorder()
			next.ServeHTTP(rec, r)
			faults.Lose(w, r, loss, rec)
			return
		}
		if len(key) >= 100 {
			writeError(w, fieldError("Idempotency-Key", "Ensure the key has fewer than 100 characters."))
			return
		}
		scope := sha256.Sum256([]byte(r.Method + " " + r.URL.RequestURI() + "\x00" + key))

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
			ix.entries[scope] = &idemEntry{at: time.Now()}
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

		rec := faults.NewRecorder()
		next.ServeHTTP(rec, r)
		late := loss != faults.LoseHang || faults.Hold(r) // in flight while held

		ix.mu.Lock()
		if rec.Status != http.StatusTooManyRequests {
			ix.entries[scope] = &idemEntry{done: true, status: rec.Status, payload: rec.Body.Bytes(), at: time.Now()}
		} else {
			delete(ix.entries, scope)
		}
		ix.mu.Unlock()
		switch loss {
		case "", faults.LoseHang:
			if late {
				rec.CopyTo(w)
			}
		default:
			faults.Lose(w, r, loss, rec)
		}
	})
}

// movesMoney reports whether r is one of the calls lose_answers_next
// applies to: creating transfers and collections, and moving transactions,
// collections and transitions.
func movesMoney(r *http.Request) bool {
	p := strings.TrimPrefix(r.URL.Path, prefix+"/3")
	switch r.Method {
	case http.MethodPost:
		return p == "/transactions/transfer/" || p == "/transaction-collections/" || p == "/admin/transaction-collections/"
	case http.MethodPatch:
		return strings.HasPrefix(p, "/admin/transactions/") || strings.HasPrefix(p, "/admin/transaction-collections/") ||
			strings.HasPrefix(p, "/admin/transaction-transitions/")
	}
	return false
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
