package rehive

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
)

// LoginResult is the answer to Login. Token is the customer's credential: use
// it within the request that obtained it and never store or log it.
type LoginResult struct {
	Token string `json:"token"`
	User  User   `json:"user"`
}

// String redacts the token so that printing a result cannot leak it.
func (r LoginResult) String() string {
	return fmt.Sprintf("{Token:[redacted] User:%s}", r.User.ID)
}

// LogValue redacts the token in structured logs.
func (r LoginResult) LogValue() slog.Value {
	return slog.GroupValue(slog.String("token", "[redacted]"), slog.String("user", string(r.User.ID)))
}

// Login exchanges a customer's credentials for a token (POST /auth/login/).
// It is not retried: a failed login is reported, not repeated.
func (c *Client) Login(ctx context.Context, user, company, password string) (*LoginResult, error) {
	body := map[string]string{"user": user, "company": company, "password": password}
	var out LoginResult
	if err := c.do(ctx, call{method: http.MethodPost, path: "/auth/login/", body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Accounts lists the accounts of the customer whose token is given, with
// balances per currency (GET /accounts/, first page).
func (c *Client) Accounts(ctx context.Context, userToken string) ([]Account, error) {
	var out accountList
	if err := c.do(ctx, call{method: http.MethodGet, path: "/accounts/", token: userToken}, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// accountList is a list page {count, next, previous, results} or a bare array.
type accountList []Account

func (l *accountList) UnmarshalJSON(b []byte) error {
	if trimmed := bytes.TrimSpace(b); len(trimmed) > 0 && trimmed[0] == '[' {
		return json.Unmarshal(b, (*[]Account)(l))
	}
	var page struct {
		Results []Account `json:"results"`
	}
	if err := json.Unmarshal(b, &page); err != nil {
		return err
	}
	*l = page.Results
	return nil
}

// TransferRequest moves money from the token's owner to Recipient (an email,
// mobile number or user id) inside Rehive.
type TransferRequest struct {
	Amount          int64          `json:"amount"` // minor units, positive
	Currency        string         `json:"currency"`
	Recipient       string         `json:"recipient"`
	DebitAccount    string         `json:"debit_account,omitempty"`
	DebitReference  string         `json:"debit_reference,omitempty"`
	CreditReference string         `json:"credit_reference,omitempty"`
	DebitMetadata   map[string]any `json:"debit_metadata,omitempty"`
	CreditMetadata  map[string]any `json:"credit_metadata,omitempty"`
	// Reference, when set, is sent as both sides' reference: the transfer
	// endpoint has no plain reference field (Rehive ignores one).
	Reference string `json:"-"`
}

// Transfer posts a transfer as the customer (POST /transactions/transfer/)
// and returns the customer's (debit) side. With an idempotency key the call
// is retried and a repeat returns the first answer.
//
// The endpoint is deprecated in favour of transaction collections; payflow
// keeps it for wallet payments because the payment must be made with the
// customer's own token (the customer authorises the debit; an admin-created
// collection would move a customer's money on payflow's word alone), and a
// user-side collection cannot credit another user's account, which a
// payment to the merchant needs. The transfer's two sides are one
// collection on Rehive; its id identifies the payment.
func (c *Client) Transfer(ctx context.Context, userToken string, req TransferRequest, idempotencyKey string) (*Transaction, error) {
	if req.Reference != "" {
		if req.DebitReference == "" {
			req.DebitReference = req.Reference
		}
		if req.CreditReference == "" {
			req.CreditReference = req.Reference
		}
	}
	var out Transaction
	k := call{method: http.MethodPost, path: "/transactions/transfer/", token: userToken, body: req, key: idempotencyKey}
	if err := c.do(ctx, k, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
