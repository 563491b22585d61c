package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/payflow/payflow/store"
)

// maxJSONDepth bounds nesting: no body of this API is deeper than a few levels.
const maxJSONDepth = 16

// decodeJSON requires a JSON content type and exactly one well-formed JSON
// value of v's shape: no unknown fields, nothing after the value, valid
// UTF-8 and no control characters in any string. Errors name the field and
// the JSON type wanted, never a Go type.
func decodeJSON(c *fiber.Ctx, v any) error {
	mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || mt != fiber.MIMEApplicationJSON {
		return errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "send Content-Type: application/json")
	}
	return decodeBody(c.Body(), v)
}

// decodeBody is decodeJSON without the content type (and what the fuzz
// targets exercise).
func decodeBody(body []byte, v any) error {
	if !utf8.Valid(body) {
		return malformed("the body is not valid UTF-8", nil)
	}
	// A generic pass first: one value, bounded depth, clean strings.
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return jsonError(err)
	}
	if rest := strings.Trim(string(body[dec.InputOffset():]), " \t\r\n"); rest != "" {
		return malformed("the body holds data after its JSON value", nil)
	}
	if field, why := checkValue(generic, "", 0); why != "" {
		return malformed("the body holds a value this API does not accept", map[string]string{field: why})
	}
	dec = json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	return nil
}

func malformed(msg string, fields map[string]string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "malformed_json", Message: msg, Fields: fields}
}

// checkValue walks a decoded body for strings (keys included) that are not
// clean text, and for nesting deeper than maxJSONDepth.
func checkValue(v any, path string, depth int) (string, string) {
	if depth > maxJSONDepth {
		return orRoot(path), "nested too deeply"
	}
	switch x := v.(type) {
	case string:
		if !cleanText(x) {
			return orRoot(path), "control characters (NUL included) are not allowed"
		}
	case []any:
		for i, e := range x {
			if f, why := checkValue(e, fmt.Sprintf("%s[%d]", path, i), depth+1); why != "" {
				return f, why
			}
		}
	case map[string]any:
		for k, e := range x {
			if !cleanText(k) || len(k) > 64 {
				return orRoot(path), "a key with control characters or longer than 64 bytes"
			}
			p := k
			if path != "" {
				p = path + "." + k
			}
			if f, why := checkValue(e, p, depth+1); why != "" {
				return f, why
			}
		}
	}
	return "", ""
}

func orRoot(path string) string {
	if path == "" {
		return "(body)"
	}
	return path
}

// jsonError describes a decoding failure in the client's terms.
func jsonError(err error) *Error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return malformed(fmt.Sprintf("the body is not valid JSON (at byte %d)", syn.Offset), nil)
	case errors.As(err, &typ):
		return malformed("a field has the wrong type", map[string]string{orRoot(typ.Field): "want " + jsonKind(typ.Type)})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return malformed("the body has a field this endpoint does not know", map[string]string{fieldName(name): "unknown field"})
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return malformed("the body is empty or cut short", nil)
	}
	return malformed("the body is not valid JSON for this endpoint", nil)
}

// jsonKind names the JSON type a Go type is decoded from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "another type"
}

// storeError maps a database failure: unreachable or overloaded is 503; a
// value PostgreSQL refused (class 22: a NUL, invalid UTF-8, a string too
// long, a malformed number) is the client's 400 — a backstop behind the
// edge's validation; anything else a 500 (logged by the error handler).
func (s *server) storeError(err error) error {
	if store.IsUnavailable(err) {
		s.log.Warn("database unavailable", "error", err)
		return errorf(http.StatusServiceUnavailable, "database_unavailable", "the database is unavailable; retry shortly")
	}
	if store.IsInvalidData(err) {
		s.log.Warn("database refused a value", "error", err)
		return errorf(http.StatusBadRequest, "invalid_value", "the request holds a value that cannot be stored")
	}
	return err
}
