package workflows

import "context"

// CurrencyActivities are the activities of the currency manager's two
// workflows (rehive-tx/<id> and ledger-deposit/<id>), each registered under
// its method's name (the Act* constants). Every one is idempotent: Temporal
// retries it under the options of its stub in cmActs.
type CurrencyActivities interface {
	LookupRehiveTx(ctx context.Context, in LookupRehiveTxInput) (RehiveTxInfo, error)
	ApproveTransition(ctx context.Context, in TransitionInput) (TransitionResult, error)
	DeclineTransition(ctx context.Context, in TransitionInput) (TransitionResult, error)
	SetRehiveTxStatus(ctx context.Context, in RehiveStatusInput) error
	AddRehiveMessage(ctx context.Context, in RehiveMessageInput) error
	CreateRehiveCredit(ctx context.Context, in RehiveCreditInput) (RehiveCreditResult, error)
	CreateLedgerTx(ctx context.Context, in CreateLedgerTxInput) (LedgerTxResult, error)
	GetLedgerTx(ctx context.Context, in LedgerTxRequest) (LedgerTxResult, error)
	CompleteLedgerTx(ctx context.Context, in LedgerTxRequest) (LedgerTxResult, error)
	CancelLedgerTx(ctx context.Context, in LedgerTxRequest) (LedgerTxResult, error)
	LookupAccountLink(ctx context.Context, in AccountLinkQuery) (AccountLinkResult, error)
	// SaveRehiveTx and SaveDeposit write the read models; they run as local
	// activities.
	SaveRehiveTx(ctx context.Context, st RehiveTxState) error
	SaveDeposit(ctx context.Context, st DepositState) error
}

type (
	cmCall[In, Out any] = call[CurrencyActivities, In, Out]
	cmEffect[In any]    = effect[CurrencyActivities, In]
)

// currencyStubs are the currency manager's activities as its workflows call
// them, one field per method of CurrencyActivities, with the options it
// runs under by default.
type currencyStubs struct {
	LookupRehiveTx     cmCall[LookupRehiveTxInput, RehiveTxInfo]
	ApproveTransition  cmCall[TransitionInput, TransitionResult]
	DeclineTransition  cmCall[TransitionInput, TransitionResult]
	SetRehiveTxStatus  cmEffect[RehiveStatusInput]
	AddRehiveMessage   cmEffect[RehiveMessageInput]
	CreateRehiveCredit cmCall[RehiveCreditInput, RehiveCreditResult]
	CreateLedgerTx     cmCall[CreateLedgerTxInput, LedgerTxResult]
	GetLedgerTx        cmCall[LedgerTxRequest, LedgerTxResult]
	CompleteLedgerTx   cmCall[LedgerTxRequest, LedgerTxResult]
	CancelLedgerTx     cmCall[LedgerTxRequest, LedgerTxResult]
	LookupAccountLink  cmCall[AccountLinkQuery, AccountLinkResult]
	SaveRehiveTx       cmEffect[RehiveTxState]
	SaveDeposit        cmEffect[DepositState]
}

var cmActs = currencyStubs{
	LookupRehiveTx:     newCall(ActLookupRehiveTx, forever, CurrencyActivities.LookupRehiveTx),
	ApproveTransition:  newCall(ActApproveTransition, forever, CurrencyActivities.ApproveTransition),
	DeclineTransition:  newCall(ActDeclineTransition, forever, CurrencyActivities.DeclineTransition),
	SetRehiveTxStatus:  newEffect(ActSetRehiveTxStatus, forever, CurrencyActivities.SetRehiveTxStatus),
	AddRehiveMessage:   newEffect(ActAddRehiveMessage, short, CurrencyActivities.AddRehiveMessage),
	CreateRehiveCredit: newCall(ActCreateRehiveCredit, forever, CurrencyActivities.CreateRehiveCredit),
	CreateLedgerTx:     newCall(ActCreateLedgerTx, forever, CurrencyActivities.CreateLedgerTx),
	GetLedgerTx:        newCall(ActGetLedgerTx, forever, CurrencyActivities.GetLedgerTx),
	CompleteLedgerTx:   newCall(ActCompleteLedgerTx, forever, CurrencyActivities.CompleteLedgerTx),
	CancelLedgerTx:     newCall(ActCancelLedgerTx, forever, CurrencyActivities.CancelLedgerTx),
	LookupAccountLink:  newCall(ActLookupAccountLink, forever, CurrencyActivities.LookupAccountLink),
	SaveRehiveTx:       newLocalEffect(ActSaveRehiveTx, CurrencyActivities.SaveRehiveTx),
	SaveDeposit:        newLocalEffect(ActSaveDeposit, CurrencyActivities.SaveDeposit),
}

// RegisterCurrencyActivities registers a's activities under the names the
// currency manager's workflows call.
func RegisterCurrencyActivities(r ActivityRegistry, a CurrencyActivities) { registerAll(r, cmActs, a) }
