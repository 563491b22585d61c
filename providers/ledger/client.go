// Package ledger is the client of the third-party ledger: transactions,
// accounts, and verification and parsing of its signed webhooks.
package ledger

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/payflow/payflow/providers/httpx"
)

const provider = "ledger"

// Config configures a Client.
type Config struct {
	// BaseURL has no trailing /v1, e.g. http://127.0.0.1:8090/sandbox/ledger.
	BaseURL string
	APIKey  string
	// HTTPClient is optional; the default reuses connections.
	HTTPClient *http.Client
	// Timeout bounds each HTTP attempt (default 10 s).
	Timeout time.Duration
	// Attempts is how often an idempotent call is tried, retries included
	// (0: httpx.DefaultAttempts). The worker's clients set 1: Temporal's
	// retry policy is their one retry layer.
	Attempts int
}

// Client calls the ledger API. It is safe for concurrent use.
type Client struct {
	base     string
	key      string
	hc       *http.Client
	attempts int
}

// New returns a client for cfg.
func New(cfg Config) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	hc := httpx.NewHTTPClient(cfg.Timeout)
	if cfg.HTTPClient != nil {
		c := *cfg.HTTPClient
		c.Timeout = cfg.Timeout
		hc = &c
	}
	return &Client{base: strings.TrimRight(cfg.BaseURL, "/"), key: cfg.APIKey, hc: hc, attempts: cfg.Attempts}
}

// call sends one request and decodes a 2xx answer into out. Every ledger call
// is idempotent (reads, and writes keyed by the transaction id), so all may be
// retried on 429, 5xx and transport errors (Config.Attempts).
func (c *Client) call(ctx context.Context, method, path string, body, out any) error {
	resp, err := httpx.Do(ctx, c.hc, httpx.Request{
		Method:     method,
		URL:        c.base + path,
		Header:     http.Header{"Authorization": {"Bearer " + c.key}},
		Body:       body,
		Idempotent: true,
		Attempts:   c.attempts,
	})
	if err != nil {
		return transportError(ctx, method, path, err)
	}
	if resp.Status < 200 || resp.Status > 299 {
		return statusError(resp)
	}
	if err := json.Unmarshal(resp.Body, out); err != nil {
		return &httpx.Error{Provider: provider, Class: httpx.Retryable, Status: resp.Status,
			Message: "undecodable response to " + method + " " + path + ": " + err.Error()}
	}
	return nil
}

// txPath builds /v1/transactions/{id}[/suffix], refusing an empty id that
// would address the collection instead.
func txPath(id, suffix string) (string, error) {
	if id == "" {
		return "", &httpx.Error{Provider: provider, Class: httpx.Invalid, Message: "transaction id is required"}
	}
	return "/v1/transactions/" + url.PathEscape(id) + suffix, nil
}
