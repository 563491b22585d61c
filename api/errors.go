package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/gofiber/fiber/v2"
)

// Error is the JSON error of API.md:
// {"error": {"code": "snake_case", "message": "...", "fields": {...}}}.
type Error struct {
	Status  int               `json:"-"`
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errorf(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

func invalidFields(fields map[string]string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "invalid_request", Message: "some fields are invalid", Fields: fields}
}

var fiberCodes = map[int]string{
	http.StatusBadRequest:            "bad_request",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusNotFound:              "not_found",
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusConflict:              "conflict",
	http.StatusRequestEntityTooLarge: "body_too_large",
	http.StatusUnsupportedMediaType:  "unsupported_media_type",
	http.StatusUnprocessableEntity:   "unprocessable",
	http.StatusTooManyRequests:       "rate_limited",
	http.StatusServiceUnavailable:    "unavailable",
	http.StatusRequestTimeout:        "timeout",
}

// errorHandler turns every error into the JSON error format; anything not
// classified becomes a 500 with a generic message, never internals.
func (s *server) errorHandler(c *fiber.Ctx, err error) error {
	var apiErr *Error
	var fe *fiber.Error
	switch {
	case errors.As(err, &apiErr):
	case errors.As(err, &fe):
		code := fiberCodes[fe.Code]
		if code == "" {
			code = "error"
		}
		apiErr = errorf(fe.Code, code, fe.Message)
	case errors.Is(err, context.DeadlineExceeded):
		// The request's deadline (PAYFLOW_REQUEST_TIMEOUT) passed in a dependency.
		s.log.WarnContext(c.UserContext(), "request deadline exceeded", "path", c.Path(), "request_id", requestID(c), "error", err)
		apiErr = errorf(http.StatusServiceUnavailable, "request_timeout", "a dependency did not answer in time; retry shortly")
	default:
		s.log.ErrorContext(c.UserContext(), "request failed", "path", c.Path(), "request_id", requestID(c), "error", err)
		apiErr = errorf(http.StatusInternalServerError, "internal", "internal error; request id "+requestID(c))
	}
	if apiErr.Status == http.StatusServiceUnavailable {
		c.Set(fiber.HeaderRetryAfter, "1")
	}
	return c.Status(apiErr.Status).JSON(fiber.Map{"error": apiErr})
}

func requestID(c *fiber.Ctx) string {
	if v, ok := c.Locals("requestid").(string); ok {
		return v
	}
	return ""
}
