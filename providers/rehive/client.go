// Package rehive is a typed client for the Rehive platform API v3: customer
// login, accounts and transfers (Rehive Checkout), the admin calls a currency
// manager makes, and verification and parsing of Rehive webhooks.
package rehive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/payflow/payflow/providers/httpx"
)

const provider = "rehive"

// Config configures a Client.
type Config struct {
	// BaseURL is the API root without a trailing slash, e.g.
	// https://api.rehive.com/3; paths such as "/admin/transactions/{id}/" are
	// appended to it.
	BaseURL string
	// AdminToken is the service user's token, sent as "Authorization: Token
	// <token>" on admin calls only.
	AdminToken string
	HTTPClient *http.Client
	// Timeout bounds each attempt (default 30 s); it overrides the timeout of
	// a given HTTPClient.
	Timeout time.Duration
	// Attempts is how often an idempotent call is tried, retries included
	// (0: httpx.DefaultAttempts). The worker's clients set 1: Temporal's
	// retry policy is their one retry layer.
	Attempts int
}

// Client calls Rehive. Customer tokens are passed per call and never kept.
type Client struct {
	base     string
	admin    string
	hc       *http.Client
	attempts int
}

// New returns a client for cfg.
func New(cfg Config) *Client {
	hc := cfg.HTTPClient
	switch {
	case hc == nil:
		hc = httpx.NewHTTPClient(cfg.Timeout)
	case cfg.Timeout > 0:
		c := *hc
		c.Timeout = cfg.Timeout
		hc = &c
	}
	return &Client{base: strings.TrimRight(cfg.BaseURL, "/"), admin: cfg.AdminToken, hc: hc, attempts: cfg.Attempts}
}

// call is one API request.
type call struct {
	method string
	path   string // escaped, with Rehive's trailing slash
	token  string // sent as "Token <token>"; never logged or put in errors
	body   any
	key    string // Idempotency-Key; a keyed POST/PATCH may be retried
	// retry marks a call that is safe to repeat without a key (GETs, creations
	// with client-chosen ids).
	retry bool
}

func (c *Client) do(ctx context.Context, k call, out any) error {
	h := http.Header{}
	if k.token != "" {
		h.Set("Authorization", "Token "+k.token)
	}
	if k.key != "" {
		h.Set("Idempotency-Key", idempotencyKey(k.key))
	}
	var body any
	if k.body != nil {
		payload, err := json.Marshal(k.body)
		if err != nil {
			return &httpx.Error{Provider: provider, Class: httpx.Invalid, Message: "encode request: " + err.Error()}
		}
		body = json.RawMessage(payload)
	}
	resp, err := httpx.Do(ctx, c.hc, httpx.Request{
		Method:     k.method,
		URL:        c.base + k.path,
		Header:     h,
		Body:       body,
		Idempotent: k.retry || k.key != "" || k.method == http.MethodGet,
		Attempts:   c.attempts,
	})
	if err != nil {
		return transportError(k, err)
	}
	if resp.Status < 200 || resp.Status > 299 {
		return errorFromResponse(resp)
	}
	if out == nil {
		return nil
	}
	return decodeData(resp, out)
}

// decodeData unwraps the {"status":"success","data":...} envelope; a body
// without an envelope is decoded as the data itself.
func decodeData(resp *httpx.Response, out any) error {
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(resp.Body, &env); err != nil {
		return malformedResponse(resp, err)
	}
	raw := env.Data
	if raw == nil {
		raw = resp.Body
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return malformedResponse(resp, err)
	}
	return nil
}

// idempotencyKey keeps keys under Rehive's 100-character limit: longer keys
// (callers derive them from ids) are replaced by their SHA-256, which keeps
// them deterministic.
func idempotencyKey(key string) string {
	if len(key) < 100 {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "sha256-" + hex.EncodeToString(sum[:])
}

// pathID escapes one id for a path segment; an empty id would address the
// list endpoint instead, so it is refused.
func pathID(what, id string) (string, error) {
	if id == "" {
		return "", &httpx.Error{Provider: provider, Class: httpx.Invalid, Message: "empty " + what + " id"}
	}
	return url.PathEscape(id), nil
}
