package checkoutcom

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// Action is one entry of GET /payments/{id}/actions.
type Action struct {
	ID              string     `json:"id"`
	Type            ActionType `json:"type"`
	ProcessedOn     time.Time  `json:"processed_on"`
	Amount          int64      `json:"amount"`
	Approved        bool       `json:"approved"`
	ResponseCode    string     `json:"response_code"`
	ResponseSummary string     `json:"response_summary"`
	Reference       string     `json:"reference"`
	Metadata        Metadata   `json:"metadata,omitempty"`
}

// UnmarshalJSON reads processed_on tolerantly.
func (a *Action) UnmarshalJSON(b []byte) error {
	type plain Action
	var w struct {
		plain
		ProcessedOn string `json:"processed_on"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*a = Action(w.plain)
	a.ProcessedOn = parseTime(w.ProcessedOn)
	return nil
}

// ActionRequest is the body of a capture, void or refund.
type ActionRequest struct {
	Amount    int64 // minor units; 0 = the full available amount. Ignored by Void.
	Reference string
	Metadata  map[string]string
}

type actionBody struct {
	Amount    int64             `json:"amount,omitempty"`
	Reference string            `json:"reference,omitempty"`
	Metadata  map[string]string `json:"metadata,omitempty"`
}

// ActionResult is the 202 answer to a capture, void or refund; the outcome
// arrives later as a webhook (payment_captured, payment_voided, ...).
type ActionResult struct {
	ActionID  string          `json:"action_id"`
	Reference string          `json:"reference"`
	Links     map[string]Link `json:"_links,omitempty"`
}

// GetActions sends GET /payments/{id}/actions.
func (c *Client) GetActions(ctx context.Context, id string) ([]Action, error) {
	var out []Action
	if _, err := c.call(ctx, http.MethodGet, paymentPath(id, "/actions"), nil, "", &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Capture sends POST /payments/{id}/captures.
func (c *Client) Capture(ctx context.Context, id string, req ActionRequest, idempotencyKey string) (*ActionResult, error) {
	return c.action(ctx, id, "/captures", actionBody(req), idempotencyKey)
}

// Void sends POST /payments/{id}/voids; a void always releases the whole
// authorization, so req.Amount is not sent.
func (c *Client) Void(ctx context.Context, id string, req ActionRequest, idempotencyKey string) (*ActionResult, error) {
	return c.action(ctx, id, "/voids", actionBody{Reference: req.Reference, Metadata: req.Metadata}, idempotencyKey)
}

// Refund sends POST /payments/{id}/refunds, once: Checkout.com keeps no 5xx
// under the idempotency key, so a refund sent again after one may refund
// twice. The caller finds its refund among the payment's actions before it
// tries again.
func (c *Client) Refund(ctx context.Context, id string, req ActionRequest, idempotencyKey string) (*ActionResult, error) {
	once := *c
	once.attempts = 1
	return once.action(ctx, id, "/refunds", actionBody(req), idempotencyKey)
}

func (c *Client) action(ctx context.Context, id, kind string, body actionBody, idempotencyKey string) (*ActionResult, error) {
	var r ActionResult
	if _, err := c.call(ctx, http.MethodPost, paymentPath(id, kind), body, idempotencyKey, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
