package ledger

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

const maxBody = 1 << 20

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// The status line is already out; a failed write means the client left.
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers in the ledger's error shape {"error":{"code","message"}}.
func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": message}})
}

func notFound(w http.ResponseWriter, _ *http.Request) {
	writeError(w, http.StatusNotFound, "not_found", "no such endpoint")
}

// decode reads a JSON body; it answers 413/400 itself and returns false when
// the body is unusable. An empty body decodes as the zero value when
// emptyOK is set.
func decode(w http.ResponseWriter, r *http.Request, v any, emptyOK bool) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("trailing data")
	}
	var tooBig *http.MaxBytesError
	switch {
	case err == nil, emptyOK && errors.Is(err, io.EOF):
		return true
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", "request body exceeds 1 MiB")
	default:
		writeError(w, http.StatusBadRequest, "malformed_json", "request body is not valid JSON for this endpoint")
	}
	return false
}

// requireKey checks Authorization: Bearer <APIKey> in constant time.
func (s *Sandbox) requireKey(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || s.cfg.APIKey == "" || subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.APIKey)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ledger"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "missing or invalid API key")
			return
		}
		next.ServeHTTP(w, r)
	})
}
