package ledger

import (
	"context"
	"net/http"
	"net/url"

	"github.com/payflow/payflow/providers/httpx"
)

// CreateTransaction creates a transaction, or returns the existing one when
// req.ID is already taken, so it is safe to retry. Reusing an id for a
// different type, account, amount or currency is a Conflict.
func (c *Client) CreateTransaction(ctx context.Context, req CreateRequest) (*Transaction, error) {
	if req.ID == "" {
		return nil, &httpx.Error{Provider: provider, Class: httpx.Invalid, Message: "transaction id is required"}
	}
	var tx Transaction
	if err := c.call(ctx, http.MethodPost, "/v1/transactions", req, &tx); err != nil {
		return nil, err
	}
	return &tx, nil
}

// GetTransaction reads a transaction.
func (c *Client) GetTransaction(ctx context.Context, id string) (*Transaction, error) {
	return c.txCall(ctx, http.MethodGet, id, "")
}

// CompleteTransaction releases a transaction created pending. Completing a
// complete (or already released) transaction returns it unchanged; a failed
// or cancelled one gives a Conflict error.
func (c *Client) CompleteTransaction(ctx context.Context, id string) (*Transaction, error) {
	return c.txCall(ctx, http.MethodPost, id, "/complete")
}

// CancelTransaction cancels a pending transaction. Cancelling a cancelled
// transaction returns it unchanged; a complete or failed one gives a
// Conflict error.
func (c *Client) CancelTransaction(ctx context.Context, id string) (*Transaction, error) {
	return c.txCall(ctx, http.MethodPost, id, "/cancel")
}

func (c *Client) txCall(ctx context.Context, method, id, suffix string) (*Transaction, error) {
	path, err := txPath(id, suffix)
	if err != nil {
		return nil, err
	}
	var body any
	if method == http.MethodPost {
		body = struct{}{}
	}
	var tx Transaction
	if err := c.call(ctx, method, path, body, &tx); err != nil {
		return nil, err
	}
	return &tx, nil
}

// GetAccount reads a ledger account's balances.
func (c *Client) GetAccount(ctx context.Context, id string) (*Account, error) {
	if id == "" {
		return nil, &httpx.Error{Provider: provider, Class: httpx.Invalid, Message: "account id is required"}
	}
	var a Account
	if err := c.call(ctx, http.MethodGet, "/v1/accounts/"+url.PathEscape(id), nil, &a); err != nil {
		return nil, err
	}
	return &a, nil
}
