package checkoutcom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/payflow/payflow/providers/httpx"
)

const provider = "checkoutcom"

// Config configures a Client.
type Config struct {
	BaseURL             string // https://api.sandbox.checkout.com or https://api.checkout.com
	SecretKey           string // sk_..., sent as "Authorization: Bearer <key>"
	ProcessingChannelID string // pc_..., used when a request does not name one
	// ThreeDS requests 3-D Secure on every payment (3ds.enabled), with
	// SuccessURL and FailureURL as where the challenge sends the customer
	// back. A card that needs strong customer authentication charged without
	// it is a soft decline (20154); frictionless cards approve at once.
	ThreeDS                bool
	SuccessURL, FailureURL string
	HTTPClient             *http.Client
	Timeout                time.Duration // per attempt; 0 keeps the HTTP client's own
	// Attempts is how often an idempotent call is tried, retries included
	// (0: httpx.DefaultAttempts). The worker's clients set 1: Temporal's
	// retry policy is their one retry layer.
	Attempts int
}

// Client calls the Checkout.com API. It is safe for concurrent use.
type Client struct {
	base                   string
	key                    string
	channel                string
	threeDS                bool
	successURL, failureURL string
	hc                     *http.Client
	attempts               int
}

// New returns a client for cfg.
func New(cfg Config) *Client {
	hc := cfg.HTTPClient
	switch {
	case hc == nil:
		hc = httpx.NewHTTPClient(cfg.Timeout)
	case cfg.Timeout > 0:
		c := *hc // shares the transport; only the timeout differs
		c.Timeout = cfg.Timeout
		hc = &c
	}
	return &Client{
		base:    strings.TrimRight(cfg.BaseURL, "/"),
		key:     cfg.SecretKey,
		channel: cfg.ProcessingChannelID,
		threeDS: cfg.ThreeDS, successURL: cfg.SuccessURL, failureURL: cfg.FailureURL,
		hc: hc, attempts: cfg.Attempts,
	}
}

// errorBody is Checkout.com's error shape (422, 429 and some others).
type errorBody struct {
	RequestID  string   `json:"request_id"`
	ErrorType  string   `json:"error_type"`
	ErrorCodes []string `json:"error_codes"`
}

// call sends one request and decodes a 2xx body into out (when not nil). A
// non-empty idempotency key makes a POST safe to retry.
func (c *Client) call(ctx context.Context, method, path string, body any, idempotencyKey string, out any) (*httpx.Response, error) {
	h := http.Header{}
	h.Set("Authorization", "Bearer "+c.key)
	if idempotencyKey != "" {
		h.Set("Cko-Idempotency-Key", idempotencyKey)
	}
	resp, err := httpx.Do(ctx, c.hc, httpx.Request{
		Method:     method,
		URL:        c.base + path,
		Header:     h,
		Body:       body,
		Idempotent: method == http.MethodGet || idempotencyKey != "",
		Attempts:   c.attempts,
	})
	if err != nil {
		return nil, transportError(method, path, err)
	}
	if resp.Status < 200 || resp.Status > 299 {
		return nil, statusError(method, path, resp)
	}
	if out != nil {
		if err := json.Unmarshal(resp.Body, out); err != nil {
			return nil, &httpx.Error{Provider: provider, Class: httpx.Retryable, Status: resp.Status,
				Message: fmt.Sprintf("%s %s: decode response: %v", method, path, err)}
		}
	}
	return resp, nil
}

// transportError classifies a call that got no response. The URL is dropped
// from the message; the key is never part of it in any case (it is a header).
func transportError(method, path string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return &httpx.Error{Provider: provider, Class: httpx.Retryable,
		Message: fmt.Sprintf("%s %s: %v", method, path, err)}
}

// statusError classifies a non-2xx answer.
func statusError(method, path string, resp *httpx.Response) error {
	e := &httpx.Error{Provider: provider, Class: httpx.ClassForStatus(resp.Status), Status: resp.Status}
	// Checkout.com answers 403 when an action (capture, void, refund) is not
	// allowed in the payment's state; that is a conflict, not bad credentials.
	if resp.Status == http.StatusForbidden && isAction(path) {
		e.Class = httpx.Conflict
	}
	msg := fmt.Sprintf("%s %s", method, path)
	var eb errorBody
	if len(resp.Body) > 0 {
		if err := json.Unmarshal(resp.Body, &eb); err != nil {
			msg += ": non-JSON error body"
		}
	}
	e.Codes = eb.ErrorCodes
	// A repeat of an idempotency key whose first request is still being
	// processed: 409 today, 429 duplicate_request in older documentation (a
	// 429 without that code is rate limiting, plain Retryable). Checkout.com
	// suggests waiting at least 30 s before asking again with the same key.
	if method == http.MethodPost && isMoneyMoving(path) &&
		(resp.Status == http.StatusConflict || (resp.Status == http.StatusTooManyRequests && slices.Contains(eb.ErrorCodes, "duplicate_request"))) {
		e.Class = httpx.InFlight
	}
	if e.Class.Retryable() {
		e.RetryAfter = httpx.RetryAfter(resp.Header)
	}
	if eb.ErrorType != "" {
		msg += ": " + eb.ErrorType
	}
	if id := eb.RequestID; id != "" {
		msg += " (request " + id + ")"
	} else if id := resp.Header.Get("Cko-Request-Id"); id != "" {
		msg += " (request " + id + ")"
	}
	e.Message = msg
	return e
}

// isMoneyMoving reports whether path takes a Cko-Idempotency-Key.
func isMoneyMoving(path string) bool { return path == "/payments" || isAction(path) }

func isAction(path string) bool {
	for _, a := range []string{"/captures", "/voids", "/refunds"} {
		if strings.HasSuffix(path, a) {
			return true
		}
	}
	return false
}

func paymentPath(id string, rest ...string) string {
	return "/payments/" + url.PathEscape(id) + strings.Join(rest, "")
}
