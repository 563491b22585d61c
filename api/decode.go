package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/payflow/payflow/store"
)

// decodeJSON requires a JSON content type and a well-formed body without
// unknown fields.
func decodeJSON(c *fiber.Ctx, v any) error {
	if ct := c.Get(fiber.HeaderContentType); !strings.HasPrefix(strings.ToLower(ct), fiber.MIMEApplicationJSON) {
		return errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "send Content-Type: application/json")
	}
	dec := json.NewDecoder(bytes.NewReader(c.Body()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errorf(http.StatusBadRequest, "malformed_json", "the body is not valid JSON for this endpoint: "+err.Error())
	}
	if dec.More() {
		return errorf(http.StatusBadRequest, "malformed_json", "trailing data after the JSON body")
	}
	return nil
}

// storeError maps a database failure: unreachable or overloaded is 503,
// anything else a 500 (logged by the error handler).
func (s *server) storeError(err error) error {
	if store.IsUnavailable(err) {
		s.log.Warn("database unavailable", "error", err)
		return errorf(http.StatusServiceUnavailable, "database_unavailable", "the database is unavailable; retry shortly")
	}
	return err
}
