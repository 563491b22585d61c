package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// LedgerDeposit is the workflow `ledger-deposit/<ledger_tx_id>`: it turns a
// credit the ledger saw on a linked account into a Rehive deposit (PRODUCT.md,
// flow 3). The ledger webhook handler starts it with SignalWithStart; later
// webhooks of the same ledger transaction (confirmations) are signals to it.
func LedgerDeposit(ctx workflow.Context, in DepositInput) (DepositState, error) {
	w := &deposit{in: in}
	if err := w.setup(ctx); err != nil {
		return w.state, err
	}
	w.run(ctx)
	if ctx.Err() != nil {
		// Cancelled by an operator: recorded over whatever the interrupted
		// step recorded; nothing more is done on Rehive.
		dctx, _ := workflow.NewDisconnectedContext(ctx)
		w.setStatus(dctx, DepositNeedsAttention, "workflow_cancelled", "the workflow was cancelled; Rehive was left as it is")
		return w.state, ctx.Err()
	}
	w.drain(ctx)
	return w.state, nil
}

type deposit struct {
	in    DepositInput
	state DepositState
	// tracker records the timeline, status and read model (tracker.go).
	tracker[string]

	ledger     *ledgerWatch
	stall      workflow.Future
	stallAfter time.Duration
}

func (w *deposit) setup(ctx workflow.Context) error {
	w.state = DepositState{LedgerTxID: w.in.LedgerTxID, Status: DepositReceived, Timeline: []TimelineEntry{}}
	w.tracker = tracker[string]{
		status: &w.state.Status, timeline: &w.state.Timeline,
		search: func() []temporal.SearchAttributeUpdate {
			updates := []temporal.SearchAttributeUpdate{SAStatus.ValueSet(w.state.Status)}
			if w.state.RehiveTxID != "" {
				updates = append(updates, SARehiveTxID.ValueSet(w.state.RehiveTxID))
			}
			return updates
		},
		upsertUnchanged: true,
		details: func(status, detail string) string {
			return currentDetails(status, w.waitingFor(status), detail, "Rehive credit", w.state.RehiveTxID)
		},
		saveState: func(ctx workflow.Context) error { return cmActs.SaveDeposit.Run(ctx, w.state) },
		logKey:    "ledger_tx_id", logID: w.in.LedgerTxID,
	}
	w.ledger = newLedgerWatch(ctx, w.note)
	w.ledger.id = w.in.LedgerTxID
	w.ledger.onChange = func(r LedgerTxResult) {
		w.state.Confirmations, w.state.RequiredConfirmations = r.Confirmations, r.RequiredConfirmations
	}
	w.stallAfter = w.in.StallTimeout
	if w.stallAfter <= 0 {
		w.stallAfter = defaultStallTimeout
	}
	w.stall = workflow.NewTimer(ctx, w.stallAfter)
	w.ledger.pollWithin(ctx, w.stallAfter)
	return workflow.SetQueryHandler(ctx, QueryState, func() (DepositState, error) { return w.state, nil })
}

func (w *deposit) run(ctx workflow.Context) {
	w.note(ctx, "started", "")
	w.upsertSearch(ctx)
	w.ledger.takeBuffered(ctx)
	tx, ok := w.readLedger(ctx)
	if !ok {
		return
	}
	w.ledger.apply(ctx, tx, "read")
	w.state.LedgerAccount, w.state.Amount, w.state.Currency = tx.Account, tx.Amount, tx.Currency
	switch {
	case tx.Type != "deposit":
		w.setStatus(ctx, DepositIgnored, "not_a_deposit", fmt.Sprintf("ledger transaction of type %q", tx.Type))
		return
	case tx.Status == LedgerFailed || tx.Status == LedgerCancelled:
		w.setStatus(ctx, DepositFailed, "ledger_"+tx.Status, "the ledger "+tx.Status+" it before it was credited")
		return
	case tx.Amount <= 0:
		w.setStatus(ctx, DepositIgnored, "invalid_amount", fmt.Sprintf("amount %d", tx.Amount))
		return
	}

	link, err := cmActs.LookupAccountLink.Run(ctx, AccountLinkQuery{LedgerAccount: tx.Account, Currency: tx.Currency})
	if err != nil {
		w.setStatus(ctx, DepositFailed, "account_link_lookup_failed", errDetail(err))
		return
	}
	if !link.Found {
		// Recorded (read model, search attribute, log) for an operator to
		// link the account; nothing is created on Rehive.
		workflow.GetLogger(ctx).Warn("deposit to an unlinked ledger account", "ledger_tx_id", w.in.LedgerTxID, "ledger_account", tx.Account, "currency", tx.Currency)
		w.setStatus(ctx, DepositUnlinked, "unlinked_account",
			fmt.Sprintf("no Rehive account is linked to ledger account %q for %s", tx.Account, tx.Currency))
		return
	}
	w.state.Account = link.RehiveAccount

	if !w.credit(ctx) {
		return
	}
	switch w.ledger.wait(ctx, w.stall, func(r LedgerTxResult) bool { return confirmed(r) || ledgerFinal(r.Status) }) {
	case watchCancelled:
		return
	case watchStalled:
		w.onStall(ctx)
		return
	}
	if confirmed(w.ledger.last) {
		w.settleRehive(ctx, RehiveTxComplete, DepositComplete, "", "confirmed on the ledger")
		return
	}
	w.settleRehive(ctx, RehiveTxFailed, DepositFailed, "ledger_"+w.ledger.last.Status, "the ledger "+w.ledger.last.Status+" it")
}

// readLedger reads the transaction from the ledger: the webhook only says
// something happened, amounts and accounts come from the ledger itself. It
// reports false when the deposit ended (or the run was cancelled) instead.
func (w *deposit) readLedger(ctx workflow.Context) (LedgerTxResult, bool) {
	var tx LedgerTxResult
	var lookupErr error
	// The ledger may not show a transaction it just announced: look again
	// until the stall timer, since a later webhook cannot restart this run.
	lookup := askAgain{first: 5 * time.Second, max: 5 * time.Minute}
	if _, err := lookup.until(ctx, func(int) bool {
		tx, lookupErr = cmActs.GetLedgerTx.Run(ctx, LedgerTxRequest{LedgerTxID: w.in.LedgerTxID})
		if lookupErr == nil || !isType(lookupErr, ErrTypeNotFound) || w.stall.IsReady() {
			return true
		}
		w.note(ctx, "ledger_lookup_retry", errDetail(lookupErr))
		return false
	}); err != nil {
		return tx, false
	}
	if lookupErr != nil {
		w.setStatus(ctx, DepositFailed, "ledger_lookup_failed", errDetail(lookupErr))
		return tx, false
	}
	return tx, true
}

// credit creates the Rehive credit, once: Complete when the ledger needs no
// (more) confirmations, else Pending. It reports whether the credit is
// Pending, waiting for confirmations.
func (w *deposit) credit(ctx workflow.Context) bool {
	status := RehiveTxPending
	if confirmed(w.ledger.last) {
		status = RehiveTxComplete
	}
	res, err := cmActs.CreateRehiveCredit.Run(ctx, RehiveCreditInput{
		LedgerTxID: w.in.LedgerTxID, Account: w.state.Account, Amount: w.state.Amount, Currency: w.state.Currency,
		Status: status, Reference: w.in.LedgerTxID, Metadata: map[string]string{DepositMetadataKey: w.in.LedgerTxID},
	})
	if err != nil {
		w.setStatus(ctx, DepositFailed, "credit_failed", errDetail(err))
		return false
	}
	// The ids are derived from the ledger transaction by the activity.
	w.state.RehiveTxID, w.state.RehiveCollectionID = res.TxID, res.CollectionID
	w.note(ctx, "credited", fmt.Sprintf("Rehive transaction %s %s on account %s", res.TxID, res.Status, w.state.Account))
	switch res.Status {
	case RehiveTxComplete:
		w.setStatus(ctx, DepositComplete, "", "credited Complete")
		return false
	case RehiveTxFailed:
		w.setStatus(ctx, DepositNeedsAttention, "credit_failed_on_rehive", "the Rehive credit is Failed")
		return false
	}
	w.setStatus(ctx, DepositPending, "", fmt.Sprintf("credited Pending; %d/%d confirmations", w.state.Confirmations, w.state.RequiredConfirmations))
	return true
}

// onStall fails the Rehive credit of a deposit that never confirmed, after a
// last look at the ledger. Nothing is done on the ledger: the transaction is
// not ours.
func (w *deposit) onStall(ctx workflow.Context) {
	w.note(ctx, "stalled", "not confirmed after "+w.stallAfter.String())
	w.ledger.poll(ctx)
	if confirmed(w.ledger.last) {
		w.settleRehive(ctx, RehiveTxComplete, DepositComplete, "", "confirmed on the ledger at the stall check")
		return
	}
	w.settleRehive(ctx, RehiveTxFailed, DepositFailed, "stalled", "not confirmed after "+w.stallAfter.String())
}

// settleRehive sets the credit's final status on Rehive and ends the deposit.
func (w *deposit) settleRehive(ctx workflow.Context, rehiveStatus RehiveStatus, status, reason, detail string) {
	err := cmActs.SetRehiveTxStatus.Run(ctx, RehiveStatusInput{TxID: w.state.RehiveTxID, Status: rehiveStatus, Note: detail})
	if err != nil {
		w.setStatus(ctx, DepositNeedsAttention, "rehive_status_failed", fmt.Sprintf("setting %s failed: %s", rehiveStatus, errDetail(err)))
		return
	}
	w.setStatus(ctx, status, reason, detail)
}

// confirmed reports whether the ledger needs no more confirmations.
func confirmed(r LedgerTxResult) bool {
	return r.Status == LedgerComplete || (r.Status == LedgerPending && r.Confirmations >= r.RequiredConfirmations)
}

// setStatus records a status and, for a failure, its reason.
func (w *deposit) setStatus(ctx workflow.Context, status, reason, detail string) {
	if reason != "" {
		w.state.FailureReason = reason
	}
	w.tracker.setStatus(ctx, status, detail)
}

// waitingFor says, for the Web UI, what a deposit in status waits for.
func (w *deposit) waitingFor(status string) string {
	switch status {
	case DepositReceived:
		return "the ledger transaction and its account link"
	case DepositPending:
		return fmt.Sprintf("confirmations on the ledger (%d/%d), at most %s from the start", w.state.Confirmations, w.state.RequiredConfirmations, w.stallAfter)
	case DepositUnlinked:
		return "an operator to link the ledger account to a Rehive account"
	case DepositNeedsAttention:
		return "an operator: Rehive refused a change, or the run was cancelled"
	}
	return ""
}

// drain records the ledger events left at the end.
func (w *deposit) drain(ctx workflow.Context) { w.ledger.drainLate(ctx, w.state.Status) }
