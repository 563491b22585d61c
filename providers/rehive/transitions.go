package rehive

import (
	"context"
	"net/http"
	"net/url"
)

// GetTransition reads a transition (GET /admin/transaction-transitions/{id}/).
func (c *Client) GetTransition(ctx context.Context, id string) (*Transition, error) {
	p, err := pathID("transition", id)
	if err != nil {
		return nil, err
	}
	var out Transition
	if err := c.do(ctx, call{method: http.MethodGet, path: "/admin/transaction-transitions/" + p + "/", token: c.admin}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListTransitions lists a transaction's transitions
// (GET /admin/transaction-transitions/?transaction=), newest first. The list
// form carries the transaction as a bare id: only Transaction.ID is set.
func (c *Client) ListTransitions(ctx context.Context, txID string) ([]Transition, error) {
	if _, err := pathID("transaction", txID); err != nil {
		return nil, err
	}
	var page struct {
		Results []Transition `json:"results"`
	}
	path := "/admin/transaction-transitions/?" + url.Values{"transaction": {txID}}.Encode()
	if err := c.do(ctx, call{method: http.MethodGet, path: path, token: c.admin}, &page); err != nil {
		return nil, err
	}
	return page.Results, nil
}

// ApproveTransition lets the transaction move to the transition's ToStatus.
func (c *Client) ApproveTransition(ctx context.Context, id, idempotencyKey string) (*Transition, error) {
	return c.resolveTransition(ctx, id, TransitionApproved, idempotencyKey)
}

// DeclineTransition fails the transaction.
func (c *Client) DeclineTransition(ctx context.Context, id, idempotencyKey string) (*Transition, error) {
	return c.resolveTransition(ctx, id, TransitionDeclined, idempotencyKey)
}

func (c *Client) resolveTransition(ctx context.Context, id, status, idempotencyKey string) (*Transition, error) {
	p, err := pathID("transition", id)
	if err != nil {
		return nil, err
	}
	var out Transition
	k := call{method: http.MethodPatch, path: "/admin/transaction-transitions/" + p + "/", token: c.admin,
		body: map[string]string{"status": status}, key: idempotencyKey}
	if err := c.do(ctx, k, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
