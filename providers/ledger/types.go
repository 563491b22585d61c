package ledger

import "time"

// Type is the direction of a ledger transaction.
type Type string

const (
	Withdrawal Type = "withdrawal"
	Deposit    Type = "deposit"
)

// Status is a ledger transaction's state.
type Status string

const (
	StatusPending   Status = "pending"
	StatusComplete  Status = "complete"
	StatusFailed    Status = "failed"
	StatusCancelled Status = "cancelled"
)

// Final reports whether the status can no longer change.
func (s Status) Final() bool {
	return s == StatusComplete || s == StatusFailed || s == StatusCancelled
}

// Transaction is a ledger transaction as the API and webhooks carry it.
type Transaction struct {
	ID                    string            `json:"id"`
	Type                  Type              `json:"type"`
	Account               string            `json:"account"`
	Amount                int64             `json:"amount"` // minor units
	Currency              string            `json:"currency"`
	Status                Status            `json:"status"`
	Destination           string            `json:"destination,omitempty"`
	Metadata              map[string]string `json:"metadata,omitempty"`
	Confirmations         int               `json:"confirmations"`
	RequiredConfirmations int               `json:"required_confirmations"`
	FailureReason         string            `json:"failure_reason,omitempty"`
	Created               time.Time         `json:"created"`
	Updated               time.Time         `json:"updated"`
}

// CreateRequest is the body of POST /v1/transactions. ID is ours (derive it
// from workflow data): it makes the call idempotent.
type CreateRequest struct {
	ID       string `json:"id"`
	Type     Type   `json:"type"`
	Account  string `json:"account"`
	Amount   int64  `json:"amount"` // minor units, > 0
	Currency string `json:"currency"`
	// Status is StatusPending to hold the transaction until
	// CompleteTransaction, or StatusComplete (or empty) to process it now.
	Status      Status            `json:"status,omitempty"`
	Destination string            `json:"destination,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
}

// Account is a ledger account's balances by currency, in minor units.
type Account struct {
	ID       string           `json:"id"`
	Balances map[string]int64 `json:"balances"`
}
