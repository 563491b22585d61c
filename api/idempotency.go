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
// it is a 409. Only successful responses are kept: a request that failed runs
// again when retried.
func (s *server) idempotent(c *fiber.Ctx) error {
	key := c.Get("Idempotency-Key")
	if key == "" {
		return c.Next()
	}
	if len(key) > 255 {
		return invalidFields(map[string]string{"Idempotency-Key": "at most 255 characters"})
	}
	// The real path (it names the order) and the caller's API key scope the
	// key, so one client's key can never replay another order or client.
	scope := c.Method() + " " + c.Path() + " " + hashBytes([]byte(c.Get(fiber.HeaderAuthorization)))[:16]
	hash := canonicalHash(c.Body())
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
	if status < 300 && json.Valid(body) {
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

// canonicalHash hashes a JSON body in canonical form (key order and spacing do
// not matter), or the raw bytes when it is not JSON.
func canonicalHash(b []byte) string {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return hashBytes(b)
	}
	return hashJSON(v)
}

// hashJSON hashes the canonical JSON of v, so formatting and key order of the
// client's body do not matter.
func hashJSON(v any) string {
	b, _ := json.Marshal(v) // plain structs: cannot fail
	return hashBytes(b)
}
