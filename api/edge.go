package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
)

// The edge: checks every request passes before any handler (or webhook
// authentication) sees it, so that nothing a client sends can reach the
// database or a workflow as bytes they cannot hold.

// requestIDPattern is what an incoming X-Request-ID must look like to be
// echoed (and logged); anything else is replaced by a fresh id, so a caller
// cannot inject log lines or header bytes through it.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// requestIDHeader names the request id header (fiber.HeaderXRequestID).
const requestIDHeader = fiber.HeaderXRequestID

// requestIDMiddleware keeps a well-formed X-Request-ID and generates one
// otherwise; the id is in the answer and in every log line of the request.
func requestIDMiddleware(c *fiber.Ctx) error {
	rid := c.Get(requestIDHeader)
	if !requestIDPattern.MatchString(rid) {
		var b [16]byte
		_, _ = rand.Read(b[:])
		rid = hex.EncodeToString(b[:])
	}
	c.Set(requestIDHeader, rid)
	c.Locals("requestid", rid)
	return c.Next()
}

// securityHeaders: no answer is cached (they hold payment state) or
// content-sniffed into something else than JSON.
func securityHeaders(c *fiber.Ctx) error {
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Next()
}

// refuseEncodedBodies answers 415 to a body with a Content-Encoding: fiber's
// Ctx.Body would otherwise inflate gzip, deflate or brotli with no limit on
// the inflated size (a few KB can become gigabytes), and would do it before
// a webhook is authenticated. No client of this API needs to compress.
func refuseEncodedBodies(c *fiber.Ctx) error {
	if enc := c.Request().Header.Peek(fiber.HeaderContentEncoding); len(enc) > 0 && string(enc) != "identity" {
		return errorf(http.StatusUnsupportedMediaType, "content_encoding_unsupported", "compressed request bodies are not accepted; send the body without Content-Encoding")
	}
	return c.Next()
}

// validateRequest rejects, with 400, a path, query parameter or header that
// holds invalid UTF-8 or control characters (NUL included), before they can
// reach a handler, a log line or PostgreSQL (which cannot store NUL).
func validateRequest(c *fiber.Ctx) error {
	raw := string(c.Request().URI().PathOriginal())
	if !cleanText(raw) {
		return errorf(http.StatusBadRequest, "invalid_path", "the path holds invalid UTF-8 or control characters")
	}
	if dec, err := url.PathUnescape(raw); err != nil || !cleanText(dec) {
		return errorf(http.StatusBadRequest, "invalid_path", "the path holds a malformed escape, invalid UTF-8 or control characters")
	}
	var bad *Error
	c.Context().QueryArgs().VisitAll(func(k, v []byte) {
		if bad == nil && (!cleanText(string(k)) || !cleanText(string(v)) || len(v) > maxQueryValue) {
			bad = invalidFields(map[string]string{fieldName(string(k)): "invalid UTF-8, control characters, or longer than 512 bytes"})
			bad.Code = "invalid_query"
		}
	})
	if bad != nil {
		return bad
	}
	c.Request().Header.VisitAll(func(k, v []byte) {
		if bad == nil && !cleanHeader(v) {
			bad = invalidFields(map[string]string{fieldName(string(k)): "invalid UTF-8 or control characters"})
			bad.Code = "invalid_header"
		}
	})
	if bad != nil {
		return bad
	}
	return c.Next()
}

// maxQueryValue bounds a query parameter (cursors, statuses, limits are short).
const maxQueryValue = 512

// fieldName makes a client-supplied name safe to echo in an error's fields.
func fieldName(s string) string {
	if !cleanText(s) || len(s) > 64 {
		return "(unprintable)"
	}
	return s
}

// cleanText reports whether s is valid UTF-8 without control characters
// (C0, DEL or C1; tab, CR and LF included).
func cleanText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			return false
		}
	}
	return true
}

// cleanHeader is cleanText for a header value, where a tab is legal (RFC 9110).
func cleanHeader(v []byte) bool {
	if !utf8.Valid(v) {
		return false
	}
	for _, r := range string(v) {
		if (r < 0x20 && r != '\t') || (r >= 0x7f && r <= 0x9f) {
			return false
		}
	}
	return true
}

// deadline gives every request a deadline: the handlers' database and
// Temporal calls run under it, so a hung dependency costs a 503 within the
// deadline instead of piling requests up.
func deadline(d time.Duration) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx, cancel := context.WithTimeout(c.UserContext(), d)
		defer cancel()
		c.SetUserContext(ctx)
		return c.Next()
	}
}
