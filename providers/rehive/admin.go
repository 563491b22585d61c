package rehive

import (
	"context"
	"net/http"
)

// GetTransaction reads a transaction (GET /admin/transactions/{id}/).
func (c *Client) GetTransaction(ctx context.Context, id string) (*Transaction, error) {
	p, err := pathID("transaction", id)
	if err != nil {
		return nil, err
	}
	var out Transaction
	if err := c.do(ctx, call{method: http.MethodGet, path: "/admin/transactions/" + p + "/", token: c.admin}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// TransactionPatch changes a transaction; empty fields are left alone.
// Metadata replaces the stored metadata as a whole.
type TransactionPatch struct {
	Status   string         `json:"status,omitempty"` // Pending | Complete | Failed
	Metadata map[string]any `json:"metadata,omitempty"`
	Note     string         `json:"note,omitempty"`
}

// PatchTransaction updates a transaction (PATCH /admin/transactions/{id}/).
// Setting Complete or Failed also resolves its pending transition.
func (c *Client) PatchTransaction(ctx context.Context, id string, patch TransactionPatch, idempotencyKey string) (*Transaction, error) {
	p, err := pathID("transaction", id)
	if err != nil {
		return nil, err
	}
	var out Transaction
	k := call{method: http.MethodPatch, path: "/admin/transactions/" + p + "/", token: c.admin, body: patch, key: idempotencyKey}
	if err := c.do(ctx, k, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AddMessage attaches a message to a transaction
// (POST /admin/transactions/{id}/messages/); section "user" shows it to the
// customer.
func (c *Client) AddMessage(ctx context.Context, txID string, msg Message, idempotencyKey string) (*Message, error) {
	p, err := pathID("transaction", txID)
	if err != nil {
		return nil, err
	}
	body := Message{Message: msg.Message, Level: msg.Level, Section: msg.Section}
	var out Message
	k := call{method: http.MethodPost, path: "/admin/transactions/" + p + "/messages/", token: c.admin, body: body, key: idempotencyKey}
	if err := c.do(ctx, k, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
