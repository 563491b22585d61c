package workflows

import (
	"strings"
	"time"
)

// Workflow, signal and query names of the currency manager.
const (
	RehiveTxWorkflowName = "RehiveTransaction"
	DepositWorkflowName  = "LedgerDeposit"
	SignalRehiveEvent    = "rehive-event"
	SignalLedgerEvent    = "ledger-event"
)

// ledgerIDPrefix marks ledger transactions payflow creates for a Rehive
// transaction, so the ledger's webhooks route back to that transaction.
const ledgerIDPrefix = "rehive-"

// RehiveTxWorkflowID is the business id of a managed Rehive transaction.
func RehiveTxWorkflowID(txID string) string { return "rehive-tx/" + txID }

// DepositWorkflowID is the business id of an incoming ledger credit.
func DepositWorkflowID(ledgerTxID string) string { return "ledger-deposit/" + ledgerTxID }

// LedgerTxIDFor is the ledger transaction id that mirrors a Rehive
// transaction: derived, so a retried create finds the existing one.
func LedgerTxIDFor(rehiveTxID string) string { return ledgerIDPrefix + rehiveTxID }

// RehiveTxIDFromLedger returns the Rehive transaction a ledger transaction
// mirrors, if payflow created it.
func RehiveTxIDFromLedger(ledgerTxID string) (string, bool) {
	id, ok := strings.CutPrefix(ledgerTxID, ledgerIDPrefix)
	return id, ok && id != ""
}

// RehiveEvent is a Rehive webhook reduced to what the transaction workflow
// needs; it always re-reads the transaction and transition from Rehive.
type RehiveEvent struct {
	EventID      string       `json:"event_id"`
	Event        string       `json:"event"` // transaction.transition.create, transaction.update, ...
	TxID         string       `json:"tx_id"`
	TransitionID string       `json:"transition_id,omitempty"`
	Status       RehiveStatus `json:"status,omitempty"` // the transaction status the event carried
	Currency     string       `json:"currency,omitempty"`
}

// LedgerEvent is a ledger webhook reduced to what the workflows need.
type LedgerEvent struct {
	EventID               string `json:"event_id"`
	Type                  string `json:"type"` // transaction.updated | transaction.incoming
	LedgerTxID            string `json:"ledger_tx_id"`
	TxType                string `json:"tx_type"` // withdrawal | deposit
	Status                string `json:"status"`  // pending | complete | failed | cancelled
	Account               string `json:"account"`
	Amount                int64  `json:"amount"`
	Currency              string `json:"currency"`
	Confirmations         int    `json:"confirmations"`
	RequiredConfirmations int    `json:"required_confirmations"`
	FailureReason         string `json:"failure_reason,omitempty"` // the ledger's words, shown to the user
}

// RehiveTxInput starts the workflow of one managed Rehive transaction.
type RehiveTxInput struct {
	TxID         string        `json:"tx_id"`
	StallTimeout time.Duration `json:"stall_timeout"`
}

// DepositInput starts the workflow of one incoming ledger credit.
type DepositInput struct {
	LedgerTxID   string        `json:"ledger_tx_id"`
	StallTimeout time.Duration `json:"stall_timeout"`
}

// Ledger transaction statuses.
const (
	LedgerPending   = "pending"
	LedgerComplete  = "complete"
	LedgerFailed    = "failed"
	LedgerCancelled = "cancelled"
)

// ledgerFinal reports whether a ledger status can no longer change.
func ledgerFinal(status string) bool {
	return status == LedgerComplete || status == LedgerFailed || status == LedgerCancelled
}

// Activities both currency-manager workflows use.
const (
	ActGetLedgerTx       = "GetLedgerTx"
	ActLookupAccountLink = "LookupAccountLink"
	ActSetRehiveTxStatus = "SetRehiveTxStatus"
)

// Timing of the currency manager.
const (
	// ledgerPollInterval is how often a workflow waiting on the ledger asks
	// for the transaction itself, in case a webhook was lost.
	ledgerPollInterval = 30 * time.Second
	// defaultStallTimeout applies when an input carries none (config default).
	defaultStallTimeout = time.Hour
)

// LedgerTxRequest names a ledger transaction (GetLedgerTx, CompleteLedgerTx,
// CancelLedgerTx).
type LedgerTxRequest struct {
	LedgerTxID string `json:"ledger_tx_id"`
}

// LedgerTxResult is a ledger transaction as the ledger reports it.
// CompleteLedgerTx and CancelLedgerTx return the transaction as it stands
// after the call: cancelling one that already completed returns it complete,
// not an error. GetLedgerTx raises ErrTypeNotFound for an unknown id.
type LedgerTxResult struct {
	ID                    string `json:"id"`
	Type                  string `json:"type"` // withdrawal | deposit
	Account               string `json:"account"`
	Amount                int64  `json:"amount"`
	Currency              string `json:"currency"`
	Status                string `json:"status"` // pending | complete | failed | cancelled
	Confirmations         int    `json:"confirmations"`
	RequiredConfirmations int    `json:"required_confirmations"`
	FailureReason         string `json:"failure_reason,omitempty"`
}

// AccountLinkQuery looks up account_links by ledger account and currency.
type AccountLinkQuery struct {
	LedgerAccount string `json:"ledger_account"`
	Currency      string `json:"currency"`
}

// AccountLinkResult is the link found, if any.
type AccountLinkResult struct {
	Found         bool   `json:"found"`
	RehiveAccount string `json:"rehive_account,omitempty"`
	LedgerAccount string `json:"ledger_account,omitempty"`
	Currency      string `json:"currency,omitempty"`
}

// RehiveStatusInput sets a transaction's status as the admin (PATCH
// /admin/transactions/{id}/ {status, note}). The activity derives its
// Idempotency-Key from TxID, Status and Note; a transaction already in Status
// is success, and it raises ErrTypeRehiveRejected when Rehive refuses (e.g.
// the transaction is already final in the other status).
type RehiveStatusInput struct {
	TxID   string       `json:"tx_id"`
	Status RehiveStatus `json:"status"` // Complete | Failed
	Note   string       `json:"note,omitempty"`
}
