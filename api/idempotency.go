package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/payflow/payflow/store"
)

// idempotencyKeyPattern: 1-255 printable ASCII characters (a UUID, say).
var idempotencyKeyPattern = regexp.MustCompile(`^[\x21-\x7e]{1,255}$`)

// idempotencyLease is how long a reservation outlives its request's
// deadline before another request may take the key over (its holder died).
const idempotencyLease = time.Minute

// idempotent makes a creating POST honour the Idempotency-Key header as
// Stripe does. The key is reserved before the handler runs (a row, unique on
// scope and key), so of concurrent requests with one key exactly one runs;
// the others get 409 request_in_progress, or 409 idempotency_key_reused when
// their body differs. Once the request has succeeded, the same key and body
// replay its status and body (Idempotent-Replayed: true) and another body is
// a 409 idempotency_key_reused. A request that did not succeed releases the
// key, so that a retry runs again. Keys expire after PAYFLOW_IDEMPOTENCY_TTL.
func (s *server) idempotent(c *fiber.Ctx) error {
	key := c.Get("Idempotency-Key")
	if key == "" {
		return c.Next()
	}
	if !idempotencyKeyPattern.MatchString(key) {
		return &Error{Status: http.StatusBadRequest, Code: "invalid_idempotency_key",
			Message: "Idempotency-Key must be 1-255 printable ASCII characters", Fields: map[string]string{"Idempotency-Key": "1-255 printable ASCII characters"}}
	}
	scope := idempotencyScope(c)
	hash := canonicalHash(c.Body())
	ctx := c.UserContext()
	k, err := s.Store.ReserveIdempotent(ctx, scope, key, hash, s.Config.IdempotencyTTL, s.Config.RequestTimeout+idempotencyLease)
	if err != nil {
		return s.storeError(err)
	}
	switch {
	case k.State != store.IdemReserved && k.RequestHash != hash && k.RequestHash != "":
		return errorf(http.StatusConflict, "idempotency_key_reused", "this Idempotency-Key was used with a different body")
	case k.State == store.IdemInProgress:
		c.Set(fiber.HeaderRetryAfter, "1")
		return errorf(http.StatusConflict, "request_in_progress", "a request with this Idempotency-Key is in progress; retry shortly")
	case k.State == store.IdemCompleted:
		c.Set("Idempotent-Replayed", "true")
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Status(k.Response.StatusCode).Send(k.Response.Response)
	}
	// Reserved: whatever happens next (an error, a panic), the key is
	// either completed or released.
	settled := false
	bg := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	}
	defer func() {
		if !settled {
			rctx, cancel := bg()
			defer cancel()
			if err := s.Store.ReleaseIdempotent(rctx, scope, key, hash); err != nil {
				s.log.Warn("idempotency key not released; it frees itself when its lease ends", "error", err)
			}
		}
	}()
	err = c.Next()
	status, body := c.Response().StatusCode(), c.Response().Body()
	if err != nil || status >= 300 || !json.Valid(body) {
		return err // released by the deferred call
	}
	rctx, cancel := bg()
	defer cancel()
	if err := s.Store.CompleteIdempotent(rctx, scope, key, store.IdempotentResponse{RequestHash: hash, StatusCode: status, Response: append([]byte(nil), body...)}); err != nil {
		// The request succeeded: answer it. The reservation stays until its
		// lease ends; a retry meanwhile gets request_in_progress, and after
		// that runs again, which the handlers make safe (the order id and
		// the provider idempotency keys).
		s.log.Warn("idempotent response not stored", "error", err)
	}
	settled = true
	return nil
}

// idempotencyScope is the method, the route pattern with its parameters and
// the caller's API key: "/v1/checkouts/" or "/V1/CHECKOUTS" match the same
// route as "/v1/checkouts" and so share its keys, and one client's key can
// never replay another order or another client's answer.
func idempotencyScope(c *fiber.Ctx) string {
	r := c.Route()
	var b strings.Builder
	b.WriteString(c.Method() + " " + r.Path)
	for _, p := range r.Params {
		b.WriteString(" " + p + "=" + c.Params(p))
	}
	b.WriteString(" " + hashBytes([]byte(c.Get(fiber.HeaderAuthorization)))[:16])
	return b.String()
}

func hashBytes(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// canonicalHash hashes a JSON body in canonical form (key order and spacing
// do not matter; numbers keep their exact digits), or the raw bytes when it
// is not JSON.
func canonicalHash(b []byte) string {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return hashBytes(b)
	}
	return hashJSON(v)
}

// hashJSON hashes the canonical JSON of v, so formatting and key order of the
// client's body do not matter.
func hashJSON(v any) string {
	b, _ := json.Marshal(v) // plain structs and decoded JSON: cannot fail
	return hashBytes(b)
}
