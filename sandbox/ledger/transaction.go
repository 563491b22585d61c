package ledger

import (
	"strings"
	"time"
)

// Transaction types and statuses as the ledger spells them.
const (
	typeWithdrawal = "withdrawal"
	typeDeposit    = "deposit"

	statusPending   = "pending"
	statusComplete  = "complete"
	statusFailed    = "failed"
	statusCancelled = "cancelled"
)

// transaction is the ledger's wire representation.
type transaction struct {
	ID                    string            `json:"id"`
	Type                  string            `json:"type"`
	Account               string            `json:"account"`
	Amount                int64             `json:"amount"`
	Currency              string            `json:"currency"`
	Status                string            `json:"status"`
	Destination           string            `json:"destination,omitempty"`
	Metadata              map[string]string `json:"metadata,omitempty"`
	Confirmations         int               `json:"confirmations"`
	RequiredConfirmations int               `json:"required_confirmations"`
	FailureReason         string            `json:"failure_reason,omitempty"`
	Created               time.Time         `json:"created"`
	Updated               time.Time         `json:"updated"`
}

// record is a transaction plus what the sandbox needs to drive it.
type record struct {
	tx transaction
	// released is false while a transaction created "pending" waits for
	// POST .../complete; once true, it confirms (or fails, or stalls).
	released bool
	// auto means confirmations come from the sandbox's timer, not from
	// _control/confirm (incoming deposits are confirmed by hand).
	auto bool
}

// outcome is what the sandbox does with a released transaction.
type outcome int

const (
	confirm outcome = iota
	reject
	stall
)

// outcomeOf applies the reject-/stall- naming rules to the account and the
// destination.
func outcomeOf(tx transaction) outcome {
	for _, name := range []string{tx.Destination, tx.Account} {
		switch {
		case strings.HasPrefix(name, "reject-"):
			return reject
		case strings.HasPrefix(name, "stall-"):
			return stall
		}
	}
	return confirm
}
