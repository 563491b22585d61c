package checkoutcom

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

const requestIDHeader = "Cko-Request-Id"

// withRequestID gives every response a Cko-Request-Id, as Checkout.com does.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(requestIDHeader, newID(""))
		next.ServeHTTP(w, r)
	})
}

// authenticated requires "Authorization: Bearer <SecretKey>".
func (s *Sandbox) authenticated(next http.HandlerFunc) http.Handler {
	want := []byte("Bearer " + s.cfg.SecretKey)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if s.cfg.SecretKey == "" || subtle.ConstantTimeCompare(got, want) != 1 {
			writeJSON(w, http.StatusUnauthorized, map[string]any{
				"request_id": w.Header().Get(requestIDHeader),
				"error_type": "unauthorized",
			})
			return
		}
		next(w, r)
	})
}

// newID returns prefix + 26 lowercase base32 characters, the shape of
// Checkout.com ids (pay_, act_, evt_, src_, tok_).
func newID(prefix string) string {
	return prefix + strings.ToLower(rand.Text())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error_type":"internal_error"}`, http.StatusInternalServerError)
		return
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	if len(body) > 0 {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client has gone; nothing to do
}

// invalid writes Checkout.com's 422 body.
func invalid(w http.ResponseWriter, codes ...string) {
	writeJSON(w, http.StatusUnprocessableEntity, errorBody(w, "request_invalid", codes))
}

func errorBody(w http.ResponseWriter, errorType string, codes []string) map[string]any {
	return map[string]any{
		"request_id":  w.Header().Get(requestIDHeader),
		"error_type":  errorType,
		"error_codes": codes,
	}
}

// base is the sandbox's external base URL for _links and redirects.
func (s *Sandbox) base(r *http.Request) string {
	if s.cfg.BaseURL != "" {
		return strings.TrimRight(s.cfg.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + Prefix
}

// decodeBody reads a JSON body of at most 1 MiB; an empty body decodes as {}.
func decodeBody(r *http.Request, w http.ResponseWriter, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	err := dec.Decode(v)
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}
