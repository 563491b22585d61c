package activities

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/payflow/payflow/providers/httpx"
	"github.com/payflow/payflow/providers/ledger"
	"github.com/payflow/payflow/providers/rehive"
	"github.com/payflow/payflow/store"
	"github.com/payflow/payflow/workflows"
)

// CurrencyManager implements the activities of the currency-manager
// workflows (rehive-tx/<id> and ledger-deposit/<id>); the Rehive ones are in
// rehive_tx.go and deposit.go.
type CurrencyManager struct {
	Store  *store.Store
	Rehive *rehive.Client
	Ledger *ledger.Client
	// Managed says whether payflow manages a Rehive currency. It is the
	// configuration the webhook routing uses too, so the router and the
	// workflow can never disagree about a currency.
	Managed func(code string) bool
	// WithdrawalAccount is the ledger account withdrawals are paid from.
	WithdrawalAccount string
}

var _ workflows.CurrencyActivities = (*CurrencyManager)(nil)

// CreateLedgerTx creates the ledger withdrawal that mirrors a Rehive debit,
// from the withdrawal account to the destination, and records the link. The
// ledger transaction id is the idempotency key: a retry returns the
// transaction already created instead of paying twice.
func (a *CurrencyManager) CreateLedgerTx(ctx context.Context, in workflows.CreateLedgerTxInput) (workflows.LedgerTxResult, error) {
	tx, err := a.Ledger.CreateTransaction(ctx, ledger.CreateRequest{
		ID: in.LedgerTxID, Type: ledger.Withdrawal, Account: a.WithdrawalAccount,
		Amount: in.Amount, Currency: in.Currency, Status: ledger.Status(in.Status), Destination: in.Destination,
		Metadata: map[string]string{"rehive_tx_id": in.RehiveTxID, "rehive_account": in.RehiveAccount},
	})
	if err != nil {
		return workflows.LedgerTxResult{}, ledgerErr(err)
	}
	_, err = a.Store.PutLedgerLink(ctx, store.LedgerLink{RehiveTxID: in.RehiveTxID, LedgerTxID: in.LedgerTxID, Kind: in.Kind})
	if err != nil {
		return workflows.LedgerTxResult{}, classify(err) // another link: store.ErrConflict
	}
	return ledgerResult(tx), nil
}

// GetLedgerTx reads a ledger transaction; an unknown id is ErrTypeNotFound.
func (a *CurrencyManager) GetLedgerTx(ctx context.Context, in workflows.LedgerTxRequest) (workflows.LedgerTxResult, error) {
	tx, err := a.Ledger.GetTransaction(ctx, in.LedgerTxID)
	if err != nil {
		return workflows.LedgerTxResult{}, ledgerErr(err)
	}
	return ledgerResult(tx), nil
}

// CompleteLedgerTx releases a held ledger transaction and returns it as it
// stands: one the ledger already failed or cancelled comes back so, not as an
// error, for the workflow to act on.
func (a *CurrencyManager) CompleteLedgerTx(ctx context.Context, in workflows.LedgerTxRequest) (workflows.LedgerTxResult, error) {
	tx, err := a.Ledger.CompleteTransaction(ctx, in.LedgerTxID)
	return a.settledLedgerTx(ctx, in.LedgerTxID, tx, err)
}

// CancelLedgerTx cancels a live ledger transaction and returns it as it
// stands: cancelling one that completed meanwhile returns it complete.
func (a *CurrencyManager) CancelLedgerTx(ctx context.Context, in workflows.LedgerTxRequest) (workflows.LedgerTxResult, error) {
	tx, err := a.Ledger.CancelTransaction(ctx, in.LedgerTxID)
	return a.settledLedgerTx(ctx, in.LedgerTxID, tx, err)
}

// settledLedgerTx answers a complete or cancel call. The ledger refuses the
// change of a final transaction with 409; the transaction is then read, so
// the workflow learns where it ended instead of getting an error.
func (a *CurrencyManager) settledLedgerTx(ctx context.Context, id string, tx *ledger.Transaction, err error) (workflows.LedgerTxResult, error) {
	if httpx.ClassOf(err) == httpx.Conflict {
		tx, err = a.Ledger.GetTransaction(ctx, id)
	}
	if err != nil {
		return workflows.LedgerTxResult{}, ledgerErr(err)
	}
	return ledgerResult(tx), nil
}

// LookupAccountLink finds the Rehive account linked to a ledger account in a
// currency; no link is a result, not an error.
func (a *CurrencyManager) LookupAccountLink(ctx context.Context, in workflows.AccountLinkQuery) (workflows.AccountLinkResult, error) {
	l, err := a.Store.FindAccountLinkByLedger(ctx, in.LedgerAccount, in.Currency)
	if errors.Is(err, store.ErrNotFound) {
		return workflows.AccountLinkResult{}, nil
	}
	if err != nil {
		return workflows.AccountLinkResult{}, err
	}
	return workflows.AccountLinkResult{Found: true, RehiveAccount: l.RehiveAccount, LedgerAccount: l.LedgerAccount, Currency: l.Currency}, nil
}

// SaveRehiveTx writes the read model of a Rehive transaction's workflow (run
// as a local activity).
func (a *CurrencyManager) SaveRehiveTx(ctx context.Context, st workflows.RehiveTxState) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return a.Store.SaveRehiveTxState(ctx, store.RehiveTx{
		ID: st.TxID, CollectionID: st.CollectionID, TxType: st.TxType, Currency: st.Currency, Amount: st.Amount,
		Account: st.Account, RehiveStatus: st.RehiveStatus, Flow: st.Flow, Status: st.Status,
		FailureReason: st.FailureReason, LedgerTxID: st.LedgerTxID, State: raw,
	})
}

func ledgerResult(tx *ledger.Transaction) workflows.LedgerTxResult {
	return workflows.LedgerTxResult{
		ID: tx.ID, Type: string(tx.Type), Account: tx.Account, Amount: tx.Amount, Currency: tx.Currency,
		Status: string(tx.Status), Confirmations: tx.Confirmations, RequiredConfirmations: tx.RequiredConfirmations,
		FailureReason: tx.FailureReason,
	}
}
