package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/payflow/payflow/store"
)

// idempotent makes a creating POST honour the Idempotency-Key header: the same
// key with the same body replays the first response; with a different body
// it is a 409. Responses of 5xx are not kept, so a retry runs again.
func (s *server) idempotent(c *fiber.Ctx) error {
	key := c.Get("Idempotency-Key")
	if key == "" {
		return c.Next()
	}
	if len(key) > 255 {
		return invalidFields(map[string]string{"Idempotency-Key": "at most 255 characters"})
	}
	scope := c.Method() + " " + c.Route().Path
	hash := hashBytes(c.Body())
	prev, err := s.Store.GetIdempotent(c.UserContext(), scope, key)
	switch {
	case err == nil:
		if prev.RequestHash != hash {
			return errorf(http.StatusConflict, "idempotency_key_reused", "this Idempotency-Key was used with a different body")
		}
		c.Set("Idempotent-Replayed", "true")
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Status(prev.StatusCode).Send(prev.Response)
	case !errors.Is(err, store.ErrNotFound):
		return s.storeError(err)
	}
	if err := c.Next(); err != nil {
		return err
	}
	status := c.Response().StatusCode()
	body := c.Response().Body()
	if status < 500 && json.Valid(body) {
		if err := s.Store.SaveIdempotent(c.UserContext(), scope, key, store.IdempotentResponse{RequestHash: hash, StatusCode: status, Response: append([]byte(nil), body...)}); err != nil {
			s.log.Warn("idempotent response not stored", "error", err)
		}
	}
	return nil
}

func hashBytes(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// hashJSON hashes the canonical JSON of v, so formatting and key order of the
// client's body do not matter.
func hashJSON(v any) string {
	b, _ := json.Marshal(v) // plain structs: cannot fail
	return hashBytes(b)
}
