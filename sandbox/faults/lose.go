package faults

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"
)

// LoseMode is how a lost answer is lost.
type LoseMode string

const (
	// Lose5xx answers 502, as a gateway in front of the provider does when
	// the provider's answer does not reach it in time.
	Lose5xx LoseMode = "5xx"
	// LoseHang holds the answer until the client gives up (or MaxHold).
	LoseHang LoseMode = "hang"
	// LoseReset cuts the connection without an answer.
	LoseReset LoseMode = "reset"
)

// MaxHold bounds how long a hanging answer is held when the client never
// gives up; after it the answer is sent late.
var MaxHold = 2 * time.Minute

func (c Config) validate() error {
	switch c.LoseMode {
	case "", Lose5xx, LoseHang, LoseReset:
	default:
		return errors.New("lose_mode must be 5xx, hang or reset")
	}
	switch c.Approvals {
	case "", "immediate", "queued", "pending", "held":
	default:
		return errors.New("approvals must be immediate, queued, pending or held")
	}
	if c.LoseAnswersNext < 0 || c.FailNext < 0 {
		return errors.New("counts must not be negative")
	}
	return nil
}

// TakeLoss consumes one lost answer and returns its mode, or "" when none is
// due. A money-moving handler calls it once per call, before carrying the
// call out.
func (i *Injector) TakeLoss() LoseMode {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.cfg.LoseAnswersNext <= 0 {
		return ""
	}
	i.cfg.LoseAnswersNext--
	i.stats.AnswersLost++
	return i.cfg.LoseMode
}

// Approvals returns the current approvals setting ("immediate" by default).
func (i *Injector) Approvals() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.cfg.Approvals == "" {
		return "immediate"
	}
	return i.cfg.Approvals
}

// Hold blocks until the client gives up on r or MaxHold passes, and reports
// whether the client is still waiting.
func Hold(r *http.Request) bool {
	// The server notices a client that hangs up only once the request body
	// has been read to its end; the handler is done with it by now.
	_, _ = io.Copy(io.Discard, r.Body)
	t := time.NewTimer(MaxHold)
	defer t.Stop()
	select {
	case <-r.Context().Done():
		return false
	case <-t.C:
		return true
	}
}

// WriteLost5xx writes the 502 a gateway answers when the provider's answer
// was lost.
func WriteLost5xx(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadGateway)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "error", "message": "bad gateway", "error_type": "bad_gateway"})
}

// Reset cuts the client's connection without an answer. It does not return:
// http.ErrAbortHandler makes the server close the connection (HTTP/1) or
// reset the stream (HTTP/2) without logging a panic.
func Reset(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
		}
	}
	panic(http.ErrAbortHandler)
}

// Recorder buffers an answer so that it can be stored, lost or sent late.
type Recorder struct {
	header http.Header
	Status int
	Body   bytes.Buffer
}

// NewRecorder returns an empty recorder (status 200 until written).
func NewRecorder() *Recorder { return &Recorder{header: http.Header{}, Status: http.StatusOK} }

func (r *Recorder) Header() http.Header         { return r.header }
func (r *Recorder) WriteHeader(status int)      { r.Status = status }
func (r *Recorder) Write(b []byte) (int, error) { return r.Body.Write(b) }

// CopyTo sends the recorded answer on w.
func (r *Recorder) CopyTo(w http.ResponseWriter) {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	w.WriteHeader(r.Status)
	_, _ = w.Write(r.Body.Bytes()) // a failed write means the client left
}

// Lossy wraps a money-moving handler of a provider without idempotency keys
// (the ledger, whose ids make calls idempotent): the call is always carried
// out, and a due loss then loses its answer.
func (i *Injector) Lossy(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mode := i.TakeLoss()
		if mode == "" {
			next.ServeHTTP(w, r)
			return
		}
		rec := NewRecorder()
		next.ServeHTTP(rec, r)
		Lose(w, r, mode, rec)
	})
}

// Lose loses the recorded answer of a call already carried out: a 502, a
// hold past the client's deadline (then the late answer, if anyone still
// listens), or a cut connection.
func Lose(w http.ResponseWriter, r *http.Request, mode LoseMode, rec *Recorder) {
	switch mode {
	case LoseHang:
		if Hold(r) {
			rec.CopyTo(w)
		}
	case LoseReset:
		Reset(w)
	default:
		WriteLost5xx(w)
	}
}
