package workflows

// Statuses of a ledger deposit.
const (
	DepositReceived       = "received" // heard of, not credited yet
	DepositUnlinked       = "unlinked" // no Rehive account is linked to the ledger account: nothing done on Rehive
	DepositPending        = "pending"  // credited Pending on Rehive, waiting for confirmations
	DepositComplete       = "complete"
	DepositFailed         = "failed"
	DepositIgnored        = "ignored"         // not an incoming credit
	DepositNeedsAttention = "needs_attention" // an operator must look: Rehive refused a change, or the run was cancelled
)

// DepositMetadataKey is the metadata key of the Rehive credit that names its
// ledger transaction; with the id derived from it, it marks the credit as
// payflow's (RehiveTxInfo.OwnDeposit).
const DepositMetadataKey = "ledger_tx_id"

// Activity names of the deposit workflow (it shares GetLedgerTx,
// LookupAccountLink and SetRehiveTxStatus, currency_types.go).
const (
	ActCreateRehiveCredit = "CreateRehiveCredit"
	ActSaveDeposit        = "SaveDeposit" // local activity: the read model
)

// RehiveCreditInput creates the Rehive credit of a ledger deposit through
// POST /admin/transaction-collections/. The activity derives the collection
// and transaction ids from LedgerTxID, so that a repeat returns the existing
// credit instead of a second one, and raises ErrTypeRehiveRejected when
// Rehive refuses it.
type RehiveCreditInput struct {
	LedgerTxID string            `json:"ledger_tx_id"`
	Account    string            `json:"account"` // Rehive account reference
	Amount     int64             `json:"amount"`  // minor units, > 0
	Currency   string            `json:"currency"`
	Status     RehiveStatus      `json:"status"` // Pending | Complete
	Reference  string            `json:"reference"`
	Metadata   map[string]string `json:"metadata"`
}

// RehiveCreditResult is the credit as Rehive holds it.
type RehiveCreditResult struct {
	TxID         string       `json:"tx_id"`
	CollectionID string       `json:"collection_id"`
	Status       RehiveStatus `json:"status"`
}

// DepositState is what the state query returns (API.md) and what the read
// model (deposits) stores. Account is the Rehive account credited.
type DepositState struct {
	LedgerTxID            string          `json:"ledger_tx_id"`
	RehiveTxID            string          `json:"rehive_tx_id"`
	RehiveCollectionID    string          `json:"rehive_collection_id,omitempty"`
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
