package workflows

import (
	"crypto/sha1"
	"encoding/hex"
)

// Statuses of a ledger deposit.
const (
	DepositReceived       = "received" // heard of, not credited yet
	DepositUnlinked       = "unlinked" // no Rehive account is linked to the ledger account: nothing done on Rehive
	DepositPending        = "pending"  // credited Pending on Rehive, waiting for confirmations
	DepositComplete       = "complete"
	DepositFailed         = "failed"
	DepositIgnored        = "ignored"         // not an incoming credit
	DepositNeedsAttention = "needs_attention" // Rehive refused a status change: an operator must look
)

// DepositMetadataKey is the metadata key of the Rehive credit that names its
// ledger transaction; with the derived id it marks the credit as payflow's.
const DepositMetadataKey = "ledger_tx_id"

// Activity names of the deposit workflow (it shares GetLedgerTx,
// LookupAccountLink and SetRehiveTxStatus, currency_types.go).
const (
	ActCreateRehiveCredit = "CreateRehiveCredit"
	ActSaveDeposit        = "SaveDeposit" // local activity: the read model
)

// RehiveCreditInput creates the Rehive credit of a ledger deposit through
// POST /admin/transaction-collections/ with the given ids, so that a repeat
// returns the existing credit instead of a second one. The activity raises
// ErrTypeRehiveRejected when Rehive refuses it.
type RehiveCreditInput struct {
	CollectionID string            `json:"collection_id"`
	RehiveTxID   string            `json:"rehive_tx_id"`
	LedgerTxID   string            `json:"ledger_tx_id"`
	Account      string            `json:"account"` // Rehive account reference
	Amount       int64             `json:"amount"`  // minor units, > 0
	Currency     string            `json:"currency"`
	Status       string            `json:"status"` // Pending | Complete
	Reference    string            `json:"reference"`
	Metadata     map[string]string `json:"metadata"`
}

// RehiveCreditResult is the credit as Rehive holds it.
type RehiveCreditResult struct {
	TxID   string `json:"tx_id"`
	Status string `json:"status"`
}

// DepositState is what the state query returns (API.md) and what the read
// model (deposits) stores. Account is the Rehive account credited.
type DepositState struct {
	LedgerTxID            string          `json:"ledger_tx_id"`
	RehiveTxID            string          `json:"rehive_tx_id"`
	Account               string          `json:"account"`
	Amount                int64           `json:"amount"`
	Currency              string          `json:"currency"`
	Status                string          `json:"status"`
	FailureReason         string          `json:"failure_reason"`
	LedgerAccount         string          `json:"ledger_account"`
	Confirmations         int             `json:"confirmations"`
	RequiredConfirmations int             `json:"required_confirmations"`
	Timeline              []TimelineEntry `json:"timeline"`
}

// DepositRehiveTxID is the id of the Rehive credit for a ledger deposit:
// derived, so that a retried or repeated creation finds the existing one.
func DepositRehiveTxID(ledgerTxID string) string {
	return nameUUID("payflow/ledger-deposit/" + ledgerTxID)
}

// DepositCollectionID is the id of that credit's collection.
func DepositCollectionID(ledgerTxID string) string {
	return nameUUID("payflow/ledger-deposit-collection/" + ledgerTxID)
}

// urlNamespace is the RFC 4122 URL namespace.
var urlNamespace = [16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}

// nameUUID is the RFC 4122 version-5 (SHA-1) uuid of name in the URL
// namespace: the same name always gives the same id, as Rehive's uuids
// require.
func nameUUID(name string) string {
	h := sha1.New()
	h.Write(urlNamespace[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	x := hex.EncodeToString(u[:])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}
