// Package httpx is the HTTP plumbing the provider clients share: a tuned
// transport, JSON requests with bounded retries for idempotent calls, and the
// error classes that activities turn into retryable or non-retryable failures.
package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/payflow/payflow/telemetry"
)

// Class says what a caller may do about a failed provider call.
type Class string

const (
	Declined  Class = "declined"        // the provider refused the payment; do not retry
	Invalid   Class = "invalid_request" // our request is wrong; do not retry
	Auth      Class = "auth"            // credentials rejected; do not retry
	NotFound  Class = "not_found"
	Conflict  Class = "conflict"
	Retryable Class = "retryable" // 5xx, 429, timeouts, connection errors
	// InFlight: an earlier request with the same idempotency key is still
	// being processed. Retryable: wait, then ask again with the same key (or
	// look the result up) — never with a new key, which could act twice.
	InFlight Class = "in_flight"
)

// Classes are all the classes, for tables that must cover each.
var Classes = []Class{Declined, Invalid, Auth, NotFound, Conflict, Retryable, InFlight}

// Retryable reports whether a call that failed with this class may succeed
// if made again with the same idempotency key.
func (c Class) Retryable() bool { return c == Retryable || c == InFlight }

// Error is a classified provider failure. It never carries secrets.
type Error struct {
	Provider   string
	Class      Class
	Status     int      // HTTP status, 0 for transport errors
	Codes      []string // provider error codes, e.g. token_expired
	Message    string
	RetryAfter time.Duration // from Retry-After on 429/503
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s: %s", e.Provider, e.Class)
	if e.Status != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if len(e.Codes) > 0 {
		s += fmt.Sprintf(" %v", e.Codes)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// ClassOf returns the class of a provider error, Retryable for context
// deadlines and transport errors, and "" for nil.
func ClassOf(err error) Class {
	if err == nil {
		return ""
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Class
	}
	return Retryable
}

// ClassForStatus maps an HTTP status to a class.
func ClassForStatus(status int) Class {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return Auth
	case status == http.StatusNotFound:
		return NotFound
	case status == http.StatusConflict:
		return Conflict
	case status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500:
		return Retryable
	default:
		return Invalid
	}
}

// RetryAfter parses a Retry-After header given in seconds or as an HTTP date.
func RetryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// NewHTTPClient returns a client with connection reuse and a per-request
// timeout; callers' contexts may shorten it.
func NewHTTPClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	return &http.Client{
		Timeout: timeout,
		// Traced: each provider call is a client span of the activity's trace.
		Transport: telemetry.Transport(&http.Transport{
			Proxy:               nil, // providers are reached directly; never through an env proxy
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        100,
			MaxIdleConnsPerHost: 32,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 5 * time.Second,
		}),
	}
}

// Request is one JSON call.
type Request struct {
	Method string
	URL    string
	Header http.Header
	Body   any // marshalled to JSON when not nil
	// Idempotent calls (GETs, or POSTs carrying an idempotency key) are retried
	// on retryable failures, up to Attempts in all (0: DefaultAttempts; 1:
	// never, for a caller that retries itself).
	Idempotent bool
	Attempts   int
}

// DefaultAttempts is how often an idempotent call is tried when the request
// does not say.
const DefaultAttempts = 3

// Response is the raw answer; clients decode Body themselves.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends the request, retrying idempotent calls with jittered backoff on
// transport errors, 429 and 5xx. It returns the last response for any status;
// the error is non-nil only when no response was received.
func Do(ctx context.Context, hc *http.Client, r Request) (*Response, error) {
	var payload []byte
	if r.Body != nil {
		var err error
		if payload, err = json.Marshal(r.Body); err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
	}
	attempts := 1
	if r.Idempotent {
		attempts = r.Attempts
		if attempts <= 0 {
			attempts = DefaultAttempts
		}
	}
	var (
		resp    *Response
		lastErr error
	)
	for attempt := 1; attempt <= attempts; attempt++ {
		resp, lastErr = once(ctx, hc, r, payload)
		retry := lastErr != nil || resp.Status == http.StatusTooManyRequests || resp.Status >= 500
		if !retry || attempt == attempts || ctx.Err() != nil {
			break
		}
		wait := time.Duration(50<<attempt)*time.Millisecond + time.Duration(rand.IntN(50))*time.Millisecond
		if resp != nil {
			if ra := RetryAfter(resp.Header); ra > 0 {
				wait = min(ra, 5*time.Second)
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
	if lastErr != nil {
		return nil, lastErr
	}
	return resp, nil
}

func once(ctx context.Context, hc *http.Client, r Request, payload []byte) (*Response, error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, body)
	if err != nil {
		return nil, err
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	res, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	return &Response{Status: res.StatusCode, Header: res.Header, Body: b}, nil
}
