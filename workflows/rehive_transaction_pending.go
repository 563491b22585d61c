package workflows

import (
	"errors"

	"go.temporal.io/sdk/workflow"
)

// initiatingToPending holds the amount on the ledger (a pending ledger
// transaction), stores the link and approves; Pending->Complete comes later,
// as another signal to this run.
func (w *rehiveTx) initiatingToPending(ctx workflow.Context, info RehiveTxInfo) {
	if !w.payout(ctx, info, FlowInitiatingToPending, LedgerPending, LedgerKindPending) {
		return
	}
	if st := w.ledger.last.Status; st == LedgerFailed || st == LedgerCancelled {
		w.ledgerFailed(ctx)
		return
	}
	w.approveAndFollow(ctx, TxStatusAwaitingTransition)
}

// pendingToComplete completes the held ledger transaction, waits for the
// ledger to confirm, then approves.
func (w *rehiveTx) pendingToComplete(ctx workflow.Context) {
	w.state.Flow = FlowPendingToComplete
	if workflow.GetVersion(ctx, versionApproveBeforeRelease, workflow.DefaultVersion, 1) != workflow.DefaultVersion {
		w.approveThenRelease(ctx)
		return
	}
	res, err := cmActs.CompleteLedgerTx.Run(ctx, LedgerTxRequest{LedgerTxID: w.state.LedgerTxID})
	switch {
	case isType(err, ErrTypeLedgerRejected):
		w.failRehive(ctx, "ledger_rejected", errDetail(err), "Withdrawal failed: the ledger refused it: "+errDetail(err))
		return
	case err != nil:
		w.attention(ctx, "ledger_complete_failed", errDetail(err))
		return
	}
	w.ledger.apply(ctx, res, "complete requested")
	w.confirmAndApprove(ctx)
}

// approveThenRelease approves Pending->Complete while the ledger still
// holds the payout, and releases it once Rehive has the transaction
// Complete: if Rehive fails it instead (an approval answered queued can
// still end Failed), the held payout is cancelled and never paid.
func (w *rehiveTx) approveThenRelease(ctx workflow.Context) {
	if st := w.ledger.last.Status; st == LedgerFailed || st == LedgerCancelled {
		w.ledgerFailed(ctx)
		return
	}
	switch ok, err := w.approve(ctx); {
	case errors.Is(err, errApprovalStalled):
		w.onStall(ctx)
		return
	case err != nil:
		w.attention(ctx, "approve_failed", errDetail(err))
		return
	case !ok:
		w.settled(ctx, RehiveTxFailed) // cancels the held payout
		return
	}
	w.releaseAndFollow(ctx, "transition approved")
}

// releaseAndFollow completes the held ledger payout of a transaction that is
// Complete on Rehive and follows it until the ledger is final. Failing on
// Rehive is no longer possible: a ledger that fails the payout now needs an
// operator.
func (w *rehiveTx) releaseAndFollow(ctx workflow.Context, why string) {
	if !ledgerFinal(w.ledger.last.Status) {
		res, err := cmActs.CompleteLedgerTx.Run(ctx, LedgerTxRequest{LedgerTxID: w.state.LedgerTxID})
		if err != nil {
			w.attention(ctx, "ledger_complete_failed", "Complete on Rehive, but the ledger payout was not released: "+errDetail(err))
			return
		}
		w.ledger.apply(ctx, res, "released: "+why)
	}
	w.followLedgerAfterComplete(ctx)
}

// followLedgerAfterComplete waits for the ledger to finish a payout of a
// transaction Rehive has Complete.
func (w *rehiveTx) followLedgerAfterComplete(ctx workflow.Context) {
	w.state.RehiveStatus = RehiveTxComplete
	if !ledgerFinal(w.ledger.last.Status) {
		w.setStatus(ctx, TxStatusAwaitingLedger, "Complete on Rehive; ledger payout "+w.state.LedgerTxID)
		// The stall timer no longer fails anything: Rehive is final.
		if w.ledger.wait(ctx, workflow.NewTimer(ctx, w.stallAfter), func(r LedgerTxResult) bool { return ledgerFinal(r.Status) }) != watchDone {
			if ctx.Err() == nil {
				w.attention(ctx, "ledger_not_final", "Complete on Rehive; the ledger payout is still "+w.ledger.last.Status)
			}
			return
		}
	}
	if w.ledger.last.Status != LedgerComplete {
		w.attention(ctx, "ledger_"+w.ledger.last.Status+"_after_complete", "Complete on Rehive but the ledger "+w.ledger.last.Status+" the payout")
		return
	}
	w.setStatus(ctx, TxStatusComplete, "Complete on Rehive and on the ledger")
}
