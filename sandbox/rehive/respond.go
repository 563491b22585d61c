package rehive

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// maxBody bounds request bodies.
const maxBody = 1 << 20

// apiError is a Rehive error answer:
// {"status":"error","message":...,"data":{field:[...]}}.
type apiError struct {
	status  int
	message string
	fields  map[string][]string
}

func (e *apiError) Error() string { return e.message }

func invalid(message string) *apiError {
	return &apiError{status: http.StatusBadRequest, message: message}
}

func fieldError(field, why string) *apiError {
	return &apiError{status: http.StatusBadRequest, message: why, fields: map[string][]string{field: {why}}}
}

func notFound() *apiError { return &apiError{status: http.StatusNotFound, message: "Not found."} }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client has gone if this fails
}

// writeData answers with the success envelope.
func writeData(w http.ResponseWriter, status int, data any) {
	writeJSON(w, status, map[string]any{"status": "success", "data": data})
}

// writeList answers with a single-page list envelope.
func writeList[T any](w http.ResponseWriter, items []T) {
	if items == nil {
		items = []T{}
	}
	writeData(w, http.StatusOK, map[string]any{"count": len(items), "next": nil, "previous": nil, "results": items})
}

func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{status: http.StatusInternalServerError, message: "Internal error."}
	}
	body := map[string]any{"status": "error", "message": ae.message}
	if len(ae.fields) > 0 {
		body["data"] = ae.fields
	}
	writeJSON(w, ae.status, body)
}

// decodeJSON reads a JSON body into v; unknown fields are ignored, as Rehive
// does.
func decodeJSON(r *http.Request, v any) error {
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxBody)).Decode(v); err != nil {
		return invalid("Malformed request body.")
	}
	return nil
}

// bearer returns the token of "Authorization: Token <token>".
func bearer(r *http.Request) (string, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Token ")
	return tok, ok && tok != ""
}

var (
	errNoCredentials = &apiError{status: http.StatusUnauthorized, message: "Authentication credentials were not provided."}
	errBadToken      = &apiError{status: http.StatusUnauthorized, message: "Invalid token."}
	errNotAdmin      = &apiError{status: http.StatusForbidden, message: "You do not have permission to perform this action."}
)

// asAdmin admits the admin token only; a customer's token gets 403.
func (s *Sandbox) asAdmin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := bearer(r)
		switch {
		case !ok:
			writeError(w, errNoCredentials)
		case s.cfg.AdminToken != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.AdminToken)) == 1:
			h(w, r)
		case s.userByToken(tok) != nil:
			writeError(w, errNotAdmin)
		default:
			writeError(w, errBadToken)
		}
	}
}

// asUser admits a customer's token and passes the customer on.
func (s *Sandbox) asUser(h func(http.ResponseWriter, *http.Request, *user)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := bearer(r)
		if !ok {
			writeError(w, errNoCredentials)
			return
		}
		u := s.userByToken(tok)
		if u == nil {
			writeError(w, errBadToken)
			return
		}
		h(w, r, u)
	}
}

func (s *Sandbox) userByToken(tok string) *user {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.byToken[tok]
}
