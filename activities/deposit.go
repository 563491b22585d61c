package activities

import (
	"context"
	"encoding/json"

	"github.com/payflow/payflow/providers/httpx"
	"github.com/payflow/payflow/providers/rehive"
	"github.com/payflow/payflow/store"
	"github.com/payflow/payflow/workflows"
)

// The Rehive ids of a ledger deposit's credit, derived from the ledger
// transaction: a repeated creation names the same credit, and a credit whose
// id matches the ledger transaction in its metadata can only be payflow's.
// The names must never change: they identify credits already made.
func depositTxID(ledgerTxID string) string {
	return rehive.DeriveID("payflow/ledger-deposit/" + ledgerTxID)
}

func depositCollectionID(ledgerTxID string) string {
	return rehive.DeriveID("payflow/ledger-deposit-collection/" + ledgerTxID)
}

// The ids of the replacement credit the reconciliation makes when the
// ledger confirms a deposit after its stall timer failed the first credit.
func lateDepositTxID(ledgerTxID string) string {
	return rehive.DeriveID("payflow/ledger-deposit-late/" + ledgerTxID)
}

func lateDepositCollectionID(ledgerTxID string) string {
	return rehive.DeriveID("payflow/ledger-deposit-late-collection/" + ledgerTxID)
}

// isOwnDeposit recognises the credits CreateRehiveCredit and the
// reconciliation make.
func isOwnDeposit(tx *rehive.Transaction) bool {
	ledgerTxID, _ := tx.Metadata[workflows.DepositMetadataKey].(string)
	return tx.TxType == rehive.Credit && ledgerTxID != "" &&
		(string(tx.ID) == depositTxID(ledgerTxID) || string(tx.ID) == lateDepositTxID(ledgerTxID))
}

// CreateRehiveCredit creates the Rehive credit of a ledger deposit, as one
// collection with ids derived from the ledger transaction. When Rehive
// refuses because the credit exists already (a repeat with another status,
// say), the existing credit is the answer.
func (a *CurrencyManager) CreateRehiveCredit(ctx context.Context, in workflows.RehiveCreditInput) (workflows.RehiveCreditResult, error) {
	res := workflows.RehiveCreditResult{TxID: depositTxID(in.LedgerTxID), CollectionID: depositCollectionID(in.LedgerTxID)}
	meta := make(map[string]any, len(in.Metadata)+1)
	for k, v := range in.Metadata {
		meta[k] = v
	}
	meta[workflows.DepositMetadataKey] = in.LedgerTxID // what marks the credit as ours
	col, err := a.Rehive.CreateCollection(ctx, rehive.CollectionRequest{
		ID: res.CollectionID,
		Transactions: []rehive.CollectionTx{{
			ID: res.TxID, TxType: rehive.Credit, Amount: in.Amount, Currency: in.Currency, Account: in.Account,
			Reference: in.Reference, Metadata: meta, Status: string(in.Status),
		}},
	}, intentKey(ctx, "payflow-deposit-"+in.LedgerTxID))
	if err == nil {
		for _, tx := range col.Transactions {
			if string(tx.ID) == res.TxID {
				res.Status, err = rehiveStatus(tx.Status)
				return res, err
			}
		}
		return res, providerFailures[httpx.Retryable].newError("the collection Rehive returned lacks credit "+res.TxID, 0)
	}
	pe, ok := refused(err)
	if !ok {
		return res, classify(err)
	}
	tx, gerr := a.Rehive.GetTransaction(ctx, res.TxID)
	switch {
	case gerr == nil:
		res.Status, err = rehiveStatus(tx.Status)
		return res, err
	case httpx.ClassOf(gerr) != httpx.NotFound:
		return res, classify(gerr)
	case pe.Class == httpx.Conflict:
		return res, stillInFlight(pe)
	}
	return res, rehiveRejected(pe)
}

// SaveDeposit writes the read model of a ledger deposit (run as a local
// activity).
func (a *CurrencyManager) SaveDeposit(ctx context.Context, st workflows.DepositState) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return a.Store.SaveDeposit(ctx, store.Deposit{
		LedgerTxID: st.LedgerTxID, RehiveTxID: st.RehiveTxID, Account: st.Account, Amount: st.Amount,
		Currency: st.Currency, Status: st.Status, FailureReason: st.FailureReason, State: raw,
	})
}
