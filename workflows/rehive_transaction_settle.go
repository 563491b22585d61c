package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"
)

// onStall fails a transaction that has not reached a final state in time,
// after reading where Rehive has it (a status change may have been missed).
// The ledger is asked to cancel first: if it reports the money already
// moved, Rehive is completed instead, so that nothing is paid twice.
func (w *rehiveTx) onStall(ctx workflow.Context) {
	w.note(ctx, "stalled", "not final after "+w.stallAfter.String())
	info, err := w.lookup(ctx, "")
	if err != nil {
		w.attention(ctx, "lookup_failed", errDetail(err))
		return
	}
	switch {
	case !info.Managed:
		w.state.Flow = FlowIgnored
		w.setStatus(ctx, TxStatusIgnored, fmt.Sprintf("currency %q is not managed by payflow", info.Currency))
		return
	case w.state.Flow == FlowDeposit || info.OwnDeposit:
		w.note(ctx, "handed_over", "the deposit workflow settles this credit")
		w.handedOver = true
		return
	case w.state.RehiveStatus.Final():
		w.settled(ctx, w.state.RehiveStatus)
		return
	}
	if w.state.Flow == "" {
		w.state.Flow = baseFlow(info)
	}
	if !w.cancelLedger(ctx, "stalled") {
		return
	}
	if w.ledger.last.Status == LedgerComplete {
		w.completeAfterLedger(ctx)
		return
	}
	w.failRehive(ctx, "stalled", "not final after "+w.stallAfter.String(),
		"The transaction did not complete in time and was cancelled.")
}

// completeAfterLedger brings Rehive to Complete once the ledger has moved the
// money: by approving the transition to Complete, else by setting the status.
func (w *rehiveTx) completeAfterLedger(ctx workflow.Context) {
	if w.open != nil && w.open.ToStatus == RehiveTxComplete {
		w.approveAfterLedger(ctx)
		return
	}
	if err := w.setRehiveStatus(ctx, RehiveTxComplete, "the ledger completed the transaction"); err != nil {
		w.attention(ctx, "complete_failed", "the ledger completed but Rehive could not be completed: "+errDetail(err))
		return
	}
	w.setStatus(ctx, TxStatusComplete, "ledger complete; status set Complete")
}

// settled records a transaction that reached a final status on Rehive. A
// failed one must not leave money moving on the ledger.
func (w *rehiveTx) settled(ctx workflow.Context, rehiveStatus RehiveStatus) {
	w.open = nil
	w.state.RehiveStatus = rehiveStatus
	if w.state.Flow == "" && w.info != nil {
		w.state.Flow = baseFlow(*w.info)
	}
	if rehiveStatus == RehiveTxComplete && w.mirrorsLedger() &&
		workflow.GetVersion(ctx, versionCompleteMirrored, workflow.DefaultVersion, 1) != workflow.DefaultVersion {
		w.completeMirrored(ctx)
		return
	}
	if rehiveStatus == RehiveTxComplete {
		// Completed on Rehive while the ledger still holds the pending
		// transaction of Initiating->Pending: complete it there too, or the
		// debit would never leave the ledger.
		if w.state.Flow == FlowInitiatingToPending && w.state.LedgerTxID != "" && !ledgerFinal(w.ledger.last.Status) {
			res, err := cmActs.CompleteLedgerTx.Run(ctx, LedgerTxRequest{LedgerTxID: w.state.LedgerTxID})
			if err != nil {
				w.attention(ctx, "ledger_complete_failed", errDetail(err))
				return
			}
			w.ledger.apply(ctx, res, "completed: Complete on Rehive")
		}
		w.setStatus(ctx, TxStatusComplete, "Complete on Rehive")
		return
	}
	if !w.cancelLedger(ctx, "Failed on Rehive") {
		return
	}
	if w.ledger.last.Status == LedgerComplete {
		w.attention(ctx, "failed_after_ledger", "Failed on Rehive but the ledger completed the transaction")
		return
	}
	w.failed(ctx, "failed_on_rehive", "Failed on Rehive")
}

// mirrorsLedger reports whether the transaction's flow pays out on the
// ledger (a withdrawal, or a debit held by Initiating->Pending).
func (w *rehiveTx) mirrorsLedger() bool {
	switch w.state.Flow {
	case FlowWithdrawal, FlowInitiatingToPending, FlowPendingToComplete:
		return true
	}
	return false
}

// completeMirrored makes a debit Complete on Rehive complete on the ledger
// too: a held payout is released, a missing one created (idempotently, by
// its derived id) to the destination the metadata names, and either is
// followed until the ledger is final. Unusable metadata cannot fail a
// Complete transaction: it needs an operator, never a silent close.
func (w *rehiveTx) completeMirrored(ctx workflow.Context) {
	if w.state.LedgerTxID != "" {
		w.releaseAndFollow(ctx, "Complete on Rehive")
		return
	}
	if w.info == nil {
		w.attention(ctx, "complete_without_payout", "Complete on Rehive and payflow has not read the transaction")
		return
	}
	dest, account, problem := parseWithdrawalMetadata(w.info.Metadata)
	if problem == "" && account != "" {
		link, err := cmActs.LookupAccountLink.Run(ctx, AccountLinkQuery{LedgerAccount: account, Currency: w.info.Currency})
		if err != nil {
			w.attention(ctx, "account_link_lookup_failed", errDetail(err))
			return
		}
		if !link.Found || link.RehiveAccount != w.info.Account {
			problem = fmt.Sprintf("ledger account %q is not linked to this account", account)
		}
		dest = account
	}
	if problem != "" {
		w.attention(ctx, "complete_without_payout", "Complete on Rehive before its ledger payout, and "+problem)
		return
	}
	id := LedgerTxIDFor(w.in.TxID)
	res, err := cmActs.CreateLedgerTx.Run(ctx, CreateLedgerTxInput{
		LedgerTxID: id, RehiveTxID: w.in.TxID, Kind: LedgerKindWithdrawal, RehiveAccount: w.info.Account,
		Amount: w.info.Amount, Currency: w.info.Currency, Destination: dest, Status: LedgerComplete,
	})
	if err != nil {
		w.attention(ctx, "ledger_create_failed", "Complete on Rehive but the ledger payout was not created: "+errDetail(err))
		return
	}
	w.state.Destination = dest
	w.linkLedger(ctx, id, "withdrawal to "+dest+": Complete on Rehive")
	w.ledger.apply(ctx, res, "created")
	w.followLedgerAfterComplete(ctx)
}
