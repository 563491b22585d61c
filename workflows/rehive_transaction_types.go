package workflows

// Flows of a managed Rehive transaction (API.md). FlowDeposit is an addition:
// the Rehive side of a ledger deposit, which ledger-deposit/<id> drives.
const (
	FlowWithdrawal          = "withdrawal"
	FlowTransfer            = "transfer"
	FlowInitiatingToPending = "initiating_to_pending"
	FlowPendingToComplete   = "pending_to_complete"
	FlowUnsupported         = "unsupported"
	FlowIgnored             = "ignored"
	FlowDeposit             = "deposit"
)

// TxStatus is payflow's status of a managed Rehive transaction: where its
// workflow stands. Rehive's own status of the transaction is a RehiveStatus
// (RehiveTxState.RehiveStatus).
type TxStatus string

// Statuses of a managed Rehive transaction, as payflow sees it.
const (
	TxStatusReceived           TxStatus = "received"            // started; flow not decided yet
	TxStatusAwaitingTransition TxStatus = "awaiting_transition" // waiting for Rehive's next transition
	TxStatusAwaitingLedger     TxStatus = "awaiting_ledger"     // waiting for the ledger to confirm
	TxStatusDelegated          TxStatus = "delegated"           // a deposit credit: ledger-deposit/<id> owns it
	TxStatusComplete           TxStatus = "complete"
	TxStatusFailed             TxStatus = "failed"
	TxStatusIgnored            TxStatus = "ignored"         // not a currency we manage
	TxStatusNeedsAttention     TxStatus = "needs_attention" // Rehive and the ledger may disagree: an operator must look
)

// Transition states the workflow branches on (Rehive's words).
const (
	TransitionQueued   = "queued"
	TransitionPending  = "pending"
	TransitionApproved = "approved"
	TransitionDeclined = "declined"
)

// Withdrawal instructions a Rehive debit carries in its metadata: a ledger
// address, or the id of a ledger account linked in account_links.
const (
	MetaDestination   = "destination"
	MetaLedgerAccount = "ledger_account"
)

// Activity names of the Rehive transaction workflow (the ledger and status
// activities it shares with the deposit are in currency_types.go).
const (
	ActLookupRehiveTx    = "LookupRehiveTx"
	ActApproveTransition = "ApproveTransition"
	ActDeclineTransition = "DeclineTransition"
	ActAddRehiveMessage  = "AddRehiveMessage"
	ActCreateLedgerTx    = "CreateLedgerTx"
	ActCompleteLedgerTx  = "CompleteLedgerTx"
	ActCancelLedgerTx    = "CancelLedgerTx"
	ActSaveRehiveTx      = "SaveRehiveTx" // local activity: the read model
)

// Kinds of ledger_links rows.
const (
	LedgerKindWithdrawal = "withdrawal" // created complete: a plain withdrawal
	LedgerKindPending    = "pending"    // created held on Initiating->Pending, completed on Pending->Complete
)

// LookupRehiveTxInput asks for a transaction, its collection and, when the
// event named one, a transition.
type LookupRehiveTxInput struct {
	TxID         string `json:"tx_id"`
	TransitionID string `json:"transition_id,omitempty"`
	// FindWaiting, without TransitionID, reports the transition waiting
	// for payflow's verdict from the transaction's current status, if any
	// (its webhook may never come).
	FindWaiting bool `json:"find_waiting,omitempty"`
}

// RehiveTxInfo is a transaction as Rehive reports it now. The activity reports
// whether payflow manages the currency (configuration) and which ledger
// transaction, if any, ledger_links holds for it; for a managed currency it
// stores the transaction and its collection (rehive_transactions.raw,
// rehive_collections). It raises ErrTypeNotFound when Rehive does not know the
// transaction or the transition.
type RehiveTxInfo struct {
	TxID         string       `json:"tx_id"`
	CollectionID string       `json:"collection_id"`
	TxType       string       `json:"tx_type"` // credit | debit
	Subtype      string       `json:"subtype,omitempty"`
	Status       RehiveStatus `json:"status"`
	Amount       int64        `json:"amount"` // minor units, always positive
	Currency     string       `json:"currency"`
	Account      string       `json:"account"`
	// Transfer is true when the transaction has a partner.
	Transfer bool `json:"transfer"`
	// OwnDeposit is true for a credit the deposit workflow created: its id is
	// the one derived from the ledger transaction its metadata names
	// (DepositMetadataKey), which nobody else can choose.
	OwnDeposit bool              `json:"own_deposit"`
	Metadata   map[string]any    `json:"metadata,omitempty"`
	Managed    bool              `json:"managed"`
	LedgerTxID string            `json:"ledger_tx_id,omitempty"` // from ledger_links
	Transition *RehiveTransition `json:"transition,omitempty"`
}

// RehiveTransition is a transition as Rehive reports it.
type RehiveTransition struct {
	ID         string       `json:"id"`
	Status     string       `json:"status"` // queued | pending | approved | declined
	FromStatus RehiveStatus `json:"from_status"`
	ToStatus   RehiveStatus `json:"to_status"`
}

// open reports whether the transition still waits for the manager's verdict.
func (t *RehiveTransition) open() bool {
	return t != nil && (t.Status == TransitionPending || t.Status == TransitionQueued)
}

// TransitionInput approves or declines one transition. The activity derives
// its Idempotency-Key from the ids.
type TransitionInput struct {
	TxID         string `json:"tx_id"`
	TransitionID string `json:"transition_id"`
}

// TransitionResult is the transition's status after the call. A transition
// that someone already resolved is not an error: the activity returns its
// status (approving a declined transition returns "declined").
type TransitionResult struct {
	Status string `json:"status"`
}

// RehiveMessageInput attaches a message to a transaction. Key makes the call
// idempotent (the activity sends it as Idempotency-Key).
type RehiveMessageInput struct {
	TxID    string `json:"tx_id"`
	Key     string `json:"key"`
	Message string `json:"message"`
	Level   string `json:"level"`   // info | warning | error
	Section string `json:"section"` // admin | user
}

// CreateLedgerTxInput creates the ledger transaction that mirrors a Rehive
// debit. LedgerTxID is LedgerTxIDFor(RehiveTxID), so a retry finds the
// existing one; the activity then records the pair in ledger_links (Kind).
// It chooses the ledger account the funds leave from (RehiveAccount says
// whose withdrawal it is) and raises ErrTypeLedgerRejected when the ledger
// refuses the request.
type CreateLedgerTxInput struct {
	LedgerTxID    string `json:"ledger_tx_id"`
	RehiveTxID    string `json:"rehive_tx_id"`
	Kind          string `json:"kind"` // ledger_links.kind: withdrawal | pending
	RehiveAccount string `json:"rehive_account"`
	Amount        int64  `json:"amount"`
	Currency      string `json:"currency"`
	Destination   string `json:"destination"`
	Status        string `json:"status"` // pending (held until CompleteLedgerTx) | complete
}

// RehiveTxState is what the state query returns (API.md) and what the read
// model stores.
type RehiveTxState struct {
	TxID          string          `json:"tx_id"`
	Flow          string          `json:"flow"`
	RehiveStatus  RehiveStatus    `json:"rehive_status"`
	LedgerTxID    string          `json:"ledger_tx_id"`
	Status        TxStatus        `json:"status"`
	FailureReason string          `json:"failure_reason"`
	TxType        string          `json:"tx_type,omitempty"`
	Amount        int64           `json:"amount,omitempty"`
	Currency      string          `json:"currency,omitempty"`
	Account       string          `json:"account,omitempty"`
	CollectionID  string          `json:"collection_id,omitempty"`
	Destination   string          `json:"destination,omitempty"`
	Timeline      []TimelineEntry `json:"timeline"`
}

// IsTxStatusFinal reports whether the workflow of a Rehive transaction is done.
func IsTxStatusFinal(status TxStatus) bool {
	switch status {
	case TxStatusComplete, TxStatusFailed, TxStatusIgnored, TxStatusNeedsAttention:
		return true
	}
	return false
}
