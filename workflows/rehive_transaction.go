package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"go.temporal.io/sdk/workflow"
)

// RehiveTransaction is the workflow `rehive-tx/<tx_id>`: it drives one Rehive
// transaction in a currency payflow manages to Complete or Failed, mirroring
// it on the ledger (PRODUCT.md, flow 2).
//
// One run lives as long as the transaction, rather than one run per webhook:
// the Rehive webhook handler starts it with SignalWithStart and every later
// event of the transaction (the next transition, transaction.update) is a
// signal to the same run. Operators get one history per transaction, and the
// link from Initiating->Pending (the held ledger transaction) to
// Pending->Complete lives in workflow state, with ledger_links as the copy in
// the database.
func RehiveTransaction(ctx workflow.Context, in RehiveTxInput) (RehiveTxState, error) {
	w := &rehiveTx{in: in}
	if err := w.setup(ctx); err != nil {
		return w.state, err
	}
	err := w.run(ctx)
	w.drain(ctx)
	return w.state, err
}

type rehiveTx struct {
	in    RehiveTxInput
	state RehiveTxState
	info  *RehiveTxInfo // the last lookup; nil before the first

	events     workflow.ReceiveChannel
	ledger     *ledgerWatch
	stall      workflow.Future
	stallAfter time.Duration

	seen    map[string]bool   // Rehive event ids applied
	handled map[string]bool   // transitions already given a verdict
	open    *RehiveTransition // the transition waiting for our verdict
	// handedOver ends a deposit credit's run at the stall timer without a
	// verdict: ledger-deposit/<id> owns that transaction.
	handedOver bool
	// backlog holds Rehive events received while waiting for an approval to
	// apply; the main loop handles them first.
	backlog []RehiveEvent
}

func (w *rehiveTx) setup(ctx workflow.Context) error {
	w.state = RehiveTxState{TxID: w.in.TxID, Status: TxStatusReceived, Timeline: []TimelineEntry{}}
	w.seen, w.handled = map[string]bool{}, map[string]bool{}
	w.events = workflow.GetSignalChannel(ctx, SignalRehiveEvent)
	w.ledger = newLedgerWatch(ctx, w.note)
	w.stallAfter = w.in.StallTimeout
	if w.stallAfter <= 0 {
		w.stallAfter = defaultStallTimeout
	}
	w.stall = workflow.NewTimer(ctx, w.stallAfter)
	return workflow.SetQueryHandler(ctx, QueryState, func() (RehiveTxState, error) { return w.state, nil })
}

func (w *rehiveTx) run(ctx workflow.Context) error {
	w.note(ctx, "started", "")
	w.upsertSearch(ctx)
	for !w.finished() && ctx.Err() == nil {
		if len(w.backlog) > 0 {
			ev := w.backlog[0]
			w.backlog = w.backlog[1:]
			w.onEvent(ctx, ev)
			continue
		}
		var ev RehiveEvent
		gotEvent, ledgerMoved := false, false
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(w.events, func(c workflow.ReceiveChannel, _ bool) {
			c.Receive(ctx, &ev)
			gotEvent = true
		})
		sel.AddReceive(w.ledger.events, func(workflow.ReceiveChannel, bool) { ledgerMoved = w.ledger.receive(ctx) })
		sel.AddFuture(w.stall, func(workflow.Future) {})
		sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) {})
		sel.Select(ctx)
		switch {
		case ctx.Err() != nil:
			if gotEvent {
				w.note(ctx, "late_event", ev.Event+" "+ev.EventID+" after cancellation")
			}
		case gotEvent:
			w.onEvent(ctx, ev)
		case ledgerMoved:
			w.onLedgerWhileIdle(ctx)
		case w.stall.IsReady():
			w.onStall(ctx)
		}
	}
	if ctx.Err() != nil {
		w.onCancelled(ctx)
		return ctx.Err() // the run ends cancelled
	}
	return nil
}

func (w *rehiveTx) finished() bool { return IsTxStatusFinal(w.state.Status) || w.handedOver }

// onEvent applies one Rehive event. Each event id is applied once, and each
// transition gets one verdict however many events announce it.
func (w *rehiveTx) onEvent(ctx workflow.Context, ev RehiveEvent) {
	if ev.EventID != "" {
		if w.seen[ev.EventID] {
			w.note(ctx, "duplicate_event", ev.Event+" "+ev.EventID)
			return
		}
		w.seen[ev.EventID] = true
	}
	if ev.TxID != "" && ev.TxID != w.in.TxID {
		w.note(ctx, "event_ignored", fmt.Sprintf("%s %s is for transaction %s", ev.Event, ev.EventID, ev.TxID))
		return
	}
	if ev.TransitionID != "" && w.handled[ev.TransitionID] {
		w.note(ctx, "duplicate_transition", fmt.Sprintf("%s %s: transition %s already handled", ev.Event, ev.EventID, ev.TransitionID))
		return
	}
	w.note(ctx, "rehive_event", strings.TrimSpace(ev.Event+" "+ev.EventID))
	info, err := w.lookup(ctx, ev.TransitionID)
	if err != nil {
		// Not final: a later event, or the stall timer, decides. Ending here
		// would leave the transaction open on Rehive for good.
		w.note(ctx, "lookup_failed", errDetail(err))
		return
	}
	w.handle(ctx, info)
}

// lookup reads the transaction (and transition) from Rehive; the activity
// stores both the transaction and its collection.
func (w *rehiveTx) lookup(ctx workflow.Context, transitionID string) (RehiveTxInfo, error) {
	var info RehiveTxInfo
	err := workflow.ExecuteActivity(forever(ctx), ActLookupRehiveTx, LookupRehiveTxInput{TxID: w.in.TxID, TransitionID: transitionID}).Get(ctx, &info)
	if err != nil {
		return info, err
	}
	w.info = &info
	w.state.RehiveStatus = info.Status
	w.state.TxType, w.state.Amount, w.state.Currency = info.TxType, info.Amount, info.Currency
	w.state.Account, w.state.CollectionID = info.Account, info.CollectionID
	if w.state.LedgerTxID == "" && info.LedgerTxID != "" {
		w.linkLedger(ctx, info.LedgerTxID, "found in ledger_links")
	}
	return info, nil
}

// handle decides the flow from what Rehive reports and runs it.
func (w *rehiveTx) handle(ctx workflow.Context, info RehiveTxInfo) {
	if !info.Managed {
		w.state.Flow = FlowIgnored
		w.setStatus(ctx, TxStatusIgnored, fmt.Sprintf("currency %q is not managed by payflow", info.Currency))
		return
	}
	tr := info.Transition
	if tr != nil && !tr.open() {
		w.handled[tr.ID] = true
		w.note(ctx, "transition_resolved", fmt.Sprintf("%s %s->%s is already %s", tr.ID, tr.FromStatus, tr.ToStatus, tr.Status))
		tr = nil
	}
	w.open = tr
	if tr != nil {
		w.note(ctx, "transition", fmt.Sprintf("%s %s->%s", tr.ID, tr.FromStatus, tr.ToStatus))
	}
	switch {
	case isRehiveFinal(info.Status):
		w.settled(ctx, info.Status)
	case info.OwnDeposit:
		w.deposit(ctx, info)
	case info.Transfer:
		w.transfer(ctx)
	case info.TxType != "debit":
		w.state.Flow = FlowUnsupported
		w.failRehive(ctx, "unsupported", "a "+info.TxType+" payflow did not create",
			fmt.Sprintf("This %s transaction is not supported for %s and was cancelled.", info.TxType, info.Currency))
	case tr == nil:
		w.setStatus(ctx, TxStatusAwaitingTransition, "status "+info.Status+"; waiting for a transition")
	case tr.ToStatus == RehiveTxFailed:
		w.approveFailure(ctx, info)
	case tr.ToStatus == RehiveTxPending:
		w.initiatingToPending(ctx, info)
	case tr.ToStatus == RehiveTxComplete && w.state.LedgerTxID != "":
		w.pendingToComplete(ctx)
	case tr.ToStatus == RehiveTxComplete:
		w.withdrawal(ctx, info)
	default:
		w.state.Flow = FlowUnsupported
		w.failRehive(ctx, "unsupported", fmt.Sprintf("transition %s->%s", tr.FromStatus, tr.ToStatus),
			"This transaction is not supported for "+info.Currency+" and was cancelled.")
	}
}

// transfer approves every transition of a transfer: Rehive moves the money,
// there is nothing to do on the ledger.
func (w *rehiveTx) transfer(ctx workflow.Context) {
	w.state.Flow = FlowTransfer
	if w.open == nil {
		w.setStatus(ctx, TxStatusAwaitingTransition, "transfer: waiting for a transition")
		return
	}
	w.approveAndFollow(ctx, TxStatusAwaitingTransition)
}

// deposit is the Rehive side of a ledger deposit: ledger-deposit/<id> sets its
// status, and any transition Rehive raises for it is approved.
func (w *rehiveTx) deposit(ctx workflow.Context, info RehiveTxInfo) {
	w.state.Flow = FlowDeposit
	if w.open != nil {
		w.approveAndFollow(ctx, TxStatusDelegated)
		return
	}
	w.setStatus(ctx, TxStatusDelegated, DepositWorkflowID(metaText(info.Metadata, DepositMetadataKey))+" settles this credit")
}

// approveAndFollow approves the open transition and follows the transaction
// to where it went; waiting is the status while it is not final yet.
func (w *rehiveTx) approveAndFollow(ctx workflow.Context, waiting string) {
	to := w.open.ToStatus
	switch ok, err := w.approve(ctx); {
	case errors.Is(err, errApprovalStalled):
		w.onStall(ctx)
	case err != nil:
		w.attention(ctx, "approve_failed", errDetail(err))
	case !ok:
		w.settled(ctx, RehiveTxFailed)
	case to == RehiveTxComplete:
		w.setStatus(ctx, TxStatusComplete, "approved")
	case to == RehiveTxFailed:
		w.failed(ctx, "failed_on_rehive", "approved the transition to Failed")
	default:
		w.setStatus(ctx, waiting, "approved; now "+to)
	}
}

// approveFailure lets a debit that someone is failing (the user or an admin)
// go to Failed, and cancels its ledger transaction.
func (w *rehiveTx) approveFailure(ctx workflow.Context, info RehiveTxInfo) {
	if w.state.Flow == "" {
		w.state.Flow = baseFlow(info)
	}
	if _, err := w.approve(ctx); errors.Is(err, errApprovalStalled) {
		w.onStall(ctx)
		return
	} else if err != nil {
		w.attention(ctx, "approve_failed", errDetail(err))
		return
	}
	w.settled(ctx, RehiveTxFailed)
}

// withdrawal sends the debit to the destination its metadata names, waits for
// the ledger to confirm, then approves.
func (w *rehiveTx) withdrawal(ctx workflow.Context, info RehiveTxInfo) {
	w.state.Flow = FlowWithdrawal
	dest, ok := w.destination(ctx, info)
	if !ok {
		return
	}
	if !w.createLedger(ctx, info, dest, LedgerComplete, LedgerKindWithdrawal) {
		return
	}
	w.confirmAndApprove(ctx)
}

// initiatingToPending holds the amount on the ledger (a pending ledger
// transaction), stores the link and approves; Pending->Complete comes later,
// as another signal to this run.
func (w *rehiveTx) initiatingToPending(ctx workflow.Context, info RehiveTxInfo) {
	w.state.Flow = FlowInitiatingToPending
	dest, ok := w.destination(ctx, info)
	if !ok {
		return
	}
	if !w.createLedger(ctx, info, dest, LedgerPending, LedgerKindPending) {
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
	var res LedgerTxResult
	err := workflow.ExecuteActivity(forever(ctx), ActCompleteLedgerTx, LedgerTxRequest{LedgerTxID: w.state.LedgerTxID}).Get(ctx, &res)
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
		var res LedgerTxResult
		if err := workflow.ExecuteActivity(forever(ctx), ActCompleteLedgerTx, LedgerTxRequest{LedgerTxID: w.state.LedgerTxID}).Get(ctx, &res); err != nil {
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

// confirmAndApprove waits for the ledger transaction to be final and gives
// Rehive the matching verdict.
func (w *rehiveTx) confirmAndApprove(ctx workflow.Context) {
	if w.state.Status != TxStatusAwaitingLedger {
		w.setStatus(ctx, TxStatusAwaitingLedger, "ledger transaction "+w.state.LedgerTxID)
	}
	switch w.ledger.wait(ctx, w.stall, func(r LedgerTxResult) bool { return ledgerFinal(r.Status) }) {
	case watchCancelled:
		return // run records it
	case watchStalled:
		w.onStall(ctx)
		return
	}
	if w.ledger.last.Status != LedgerComplete {
		w.ledgerFailed(ctx)
		return
	}
	w.approveAfterLedger(ctx)
}

// approveAfterLedger approves the transition once the ledger has completed:
// from here on, failing on Rehive would pay twice.
func (w *rehiveTx) approveAfterLedger(ctx workflow.Context) {
	switch ok, err := w.approve(ctx); {
	case errors.Is(err, errApprovalStalled):
		w.attention(ctx, "approval_not_applied", "the ledger completed; Rehive has not applied the approval in time")
	case err != nil:
		w.attention(ctx, "approve_failed", "the ledger completed but the approval failed: "+errDetail(err))
	case !ok:
		w.attention(ctx, "declined_after_ledger", "the ledger completed but the transaction was declined or failed on Rehive")
	default:
		w.setStatus(ctx, TxStatusComplete, "ledger complete; transition approved")
	}
}

// createLedger creates the ledger transaction that mirrors this debit. It
// reports false when the transaction has already been failed (or needs an
// operator) because of it.
func (w *rehiveTx) createLedger(ctx workflow.Context, info RehiveTxInfo, dest, status, kind string) bool {
	id := LedgerTxIDFor(w.in.TxID)
	w.state.Destination = dest
	var res LedgerTxResult
	err := workflow.ExecuteActivity(forever(ctx), ActCreateLedgerTx, CreateLedgerTxInput{
		LedgerTxID: id, RehiveTxID: w.in.TxID, Kind: kind, RehiveAccount: info.Account,
		Amount: info.Amount, Currency: info.Currency, Destination: dest, Status: status,
	}).Get(ctx, &res)
	switch {
	case isType(err, ErrTypeLedgerRejected):
		w.failRehive(ctx, "ledger_rejected", errDetail(err), "Withdrawal failed: the ledger refused it: "+errDetail(err))
		return false
	case err != nil:
		// The ledger may or may not hold the transaction: failing it on
		// Rehive now could pay twice.
		w.attention(ctx, "ledger_create_failed", errDetail(err))
		return false
	}
	w.linkLedger(ctx, id, kind+" to "+dest)
	w.ledger.apply(ctx, res, "created")
	return true
}

func (w *rehiveTx) linkLedger(ctx workflow.Context, id, detail string) {
	w.state.LedgerTxID = id
	w.ledger.id = id
	w.note(ctx, "ledger_linked", id+": "+detail)
}

// ledgerFailed fails the transaction on Rehive after the ledger failed or
// cancelled its side.
func (w *rehiveTx) ledgerFailed(ctx workflow.Context) {
	last := w.ledger.last
	why := "the ledger " + last.Status + " it"
	if last.FailureReason != "" {
		why += ": " + last.FailureReason
	}
	w.failRehive(ctx, "ledger_"+last.Status, why, "Withdrawal failed: "+why+".")
}

// destination resolves the withdrawal instructions in the metadata. When they
// are unusable it fails the transaction at once, with a message to the user,
// and reports false.
func (w *rehiveTx) destination(ctx workflow.Context, info RehiveTxInfo) (string, bool) {
	dest, account, problem := parseWithdrawalMetadata(info.Metadata)
	if problem == "" && account != "" {
		var link AccountLinkResult
		if err := workflow.ExecuteActivity(forever(ctx), ActLookupAccountLink, AccountLinkQuery{LedgerAccount: account, Currency: info.Currency}).Get(ctx, &link); err != nil {
			w.attention(ctx, "account_link_lookup_failed", errDetail(err))
			return "", false
		}
		switch {
		case !link.Found:
			problem = fmt.Sprintf("ledger account %q is not linked for %s", account, info.Currency)
		case link.RehiveAccount != info.Account:
			// Only the account's own link: a user cannot withdraw to the
			// ledger account of someone else.
			problem = fmt.Sprintf("ledger account %q is not linked to this account", account)
		}
		dest = account
	}
	if problem != "" {
		w.failRehive(ctx, "unusable_metadata", problem, "Withdrawal failed: "+problem+".")
		return "", false
	}
	return dest, true
}

// onLedgerWhileIdle reacts to a ledger change between Rehive transitions: a
// held ledger transaction that fails takes the Rehive transaction with it.
func (w *rehiveTx) onLedgerWhileIdle(ctx workflow.Context) {
	if st := w.ledger.last.Status; st == LedgerFailed || st == LedgerCancelled {
		w.ledgerFailed(ctx)
	}
}

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
	case isRehiveFinal(w.state.RehiveStatus):
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
func (w *rehiveTx) settled(ctx workflow.Context, rehiveStatus string) {
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
			var res LedgerTxResult
			if err := workflow.ExecuteActivity(forever(ctx), ActCompleteLedgerTx, LedgerTxRequest{LedgerTxID: w.state.LedgerTxID}).Get(ctx, &res); err != nil {
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
		var link AccountLinkResult
		if err := workflow.ExecuteActivity(forever(ctx), ActLookupAccountLink, AccountLinkQuery{LedgerAccount: account, Currency: w.info.Currency}).Get(ctx, &link); err != nil {
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
	var res LedgerTxResult
	err := workflow.ExecuteActivity(forever(ctx), ActCreateLedgerTx, CreateLedgerTxInput{
		LedgerTxID: id, RehiveTxID: w.in.TxID, Kind: LedgerKindWithdrawal, RehiveAccount: w.info.Account,
		Amount: w.info.Amount, Currency: w.info.Currency, Destination: dest, Status: LedgerComplete,
	}).Get(ctx, &res)
	if err != nil {
		w.attention(ctx, "ledger_create_failed", "Complete on Rehive but the ledger payout was not created: "+errDetail(err))
		return
	}
	w.state.Destination = dest
	w.linkLedger(ctx, id, "withdrawal to "+dest+": Complete on Rehive")
	w.ledger.apply(ctx, res, "created")
	w.followLedgerAfterComplete(ctx)
}

// cancelLedger cancels the ledger transaction, if there is one still live,
// and learns where it stands (a cancel can come too late). It reports false
// when the cancel failed: the transaction then needs an operator, since the
// ledger may still pay.
func (w *rehiveTx) cancelLedger(ctx workflow.Context, why string) bool {
	if w.state.LedgerTxID == "" || ledgerFinal(w.ledger.last.Status) {
		return true
	}
	var res LedgerTxResult
	if err := workflow.ExecuteActivity(forever(ctx), ActCancelLedgerTx, LedgerTxRequest{LedgerTxID: w.state.LedgerTxID}).Get(ctx, &res); err != nil {
		w.attention(ctx, "ledger_cancel_failed", why+", and the ledger transaction could not be cancelled: "+errDetail(err))
		return false
	}
	w.ledger.apply(ctx, res, "cancel requested")
	return true
}

// failRehive ends the transaction Failed on Rehive, by declining the open
// transition or else by setting the status, and tells the user why.
func (w *rehiveTx) failRehive(ctx workflow.Context, reason, detail, userMessage string) {
	if w.open != nil {
		tr := *w.open
		res, err := w.verdict(ctx, ActDeclineTransition)
		if err != nil {
			w.attention(ctx, "decline_failed", errDetail(err))
			return
		}
		if res.Status == TransitionApproved {
			// Approved by someone else in the meantime.
			w.state.RehiveStatus = tr.ToStatus
			if tr.ToStatus == RehiveTxComplete {
				w.attention(ctx, "approved_elsewhere", "approved on Rehive while payflow was failing it: "+detail)
				return
			}
		} else {
			w.state.RehiveStatus = RehiveTxFailed
		}
	}
	if w.state.RehiveStatus != RehiveTxFailed {
		if err := w.setRehiveStatus(ctx, RehiveTxFailed, reason); err != nil {
			w.attention(ctx, "rehive_refused_failed", errDetail(err))
			return
		}
	}
	w.message(ctx, "failed", userMessage)
	w.failed(ctx, reason, detail)
}

func (w *rehiveTx) failed(ctx workflow.Context, reason, detail string) {
	w.state.FailureReason = reason
	w.setStatus(ctx, TxStatusFailed, detail)
}

// approve approves the open transition. ok is false when someone declined it
// first.
func (w *rehiveTx) approve(ctx workflow.Context) (ok bool, err error) {
	tr := *w.open
	res, err := w.verdict(ctx, ActApproveTransition)
	if err != nil {
		return false, err
	}
	switch res.Status {
	case TransitionApproved:
	case TransitionDeclined:
		w.state.RehiveStatus = RehiveTxFailed
		w.note(ctx, "transition_"+res.Status, tr.ID+" was "+res.Status+" by someone else")
		return false, nil
	default:
		// Still queued or pending on Rehive's side: our approval stands,
		// but the transaction has not moved, and Rehive can still fail it.
		w.note(ctx, "transition_"+res.Status, tr.ID+" is still "+res.Status+" after our approval")
		if workflow.GetVersion(ctx, versionAwaitApproval, workflow.DefaultVersion, 1) != workflow.DefaultVersion {
			status, err := w.awaitApplied(ctx, tr.ToStatus)
			if err != nil {
				return false, err
			}
			if status != tr.ToStatus {
				w.state.RehiveStatus = status
				w.note(ctx, "approval_overridden", fmt.Sprintf("%s approved, but Rehive moved the transaction to %s", tr.ID, status))
				return false, nil
			}
		}
	}
	w.state.RehiveStatus = tr.ToStatus
	w.note(ctx, "approved", fmt.Sprintf("%s %s->%s", tr.ID, tr.FromStatus, tr.ToStatus))
	return true, nil
}

// errApprovalStalled: the stall timer fired while an approval waited to
// be applied.
var errApprovalStalled = errors.New("the approval was not applied before the stall timer")

// approvalPollInterval is how often a run waiting for a queued approval
// reads the transaction, in case its webhook was lost.
const approvalPollInterval = 5 * time.Second

// awaitApplied waits until Rehive shows the transaction in to or final
// (webhook or poll) and returns that status. Events that arrive meanwhile
// are kept for the main loop.
func (w *rehiveTx) awaitApplied(ctx workflow.Context, to string) (string, error) {
	for {
		info, err := w.lookup(ctx, "")
		switch {
		case ctx.Err() != nil:
			return "", ctx.Err()
		case err != nil:
			w.note(ctx, "lookup_failed", errDetail(err))
		case info.Status == to || isRehiveFinal(info.Status):
			w.note(ctx, "approval_applied", "Rehive has the transaction "+info.Status)
			return info.Status, nil
		}
		if w.stall.IsReady() {
			return "", errApprovalStalled
		}
		timerCtx, cancel := workflow.WithCancel(ctx)
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(w.events, func(c workflow.ReceiveChannel, _ bool) {
			var ev RehiveEvent
			c.Receive(ctx, &ev)
			w.backlog = append(w.backlog, ev)
		})
		sel.AddFuture(workflow.NewTimer(timerCtx, approvalPollInterval), func(workflow.Future) {})
		sel.AddFuture(w.stall, func(workflow.Future) {})
		sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) {})
		sel.Select(ctx)
		cancel()
	}
}

// verdict approves or declines the open transition, once.
func (w *rehiveTx) verdict(ctx workflow.Context, activity string) (TransitionResult, error) {
	tr := w.open
	var res TransitionResult
	err := workflow.ExecuteActivity(forever(ctx), activity, TransitionInput{TxID: w.in.TxID, TransitionID: tr.ID}).Get(ctx, &res)
	if err != nil {
		return res, err
	}
	w.handled[tr.ID] = true
	w.open = nil
	return res, nil
}

func (w *rehiveTx) setRehiveStatus(ctx workflow.Context, status, note string) error {
	err := workflow.ExecuteActivity(forever(ctx), ActSetRehiveTxStatus, RehiveStatusInput{TxID: w.in.TxID, Status: status, Note: note}).Get(ctx, nil)
	if err == nil {
		w.state.RehiveStatus = status
		w.note(ctx, "rehive_status_set", status)
	}
	return err
}

// message shows the user why; a message that cannot be posted is noted and
// does not hold up the transaction.
func (w *rehiveTx) message(ctx workflow.Context, key, text string) {
	err := workflow.ExecuteActivity(short(ctx), ActAddRehiveMessage, RehiveMessageInput{
		TxID: w.in.TxID, Key: w.in.TxID + "/" + key, Message: text, Level: "error", Section: "user",
	}).Get(ctx, nil)
	if err != nil {
		w.note(ctx, "message_failed", errDetail(err))
		return
	}
	w.note(ctx, "message", text)
}

// attention ends the run in a state only an operator can settle: Rehive and
// the ledger may disagree, and guessing could pay twice.
func (w *rehiveTx) attention(ctx workflow.Context, reason, detail string) {
	workflow.GetLogger(ctx).Error("rehive transaction needs attention", "tx_id", w.in.TxID, "reason", reason, "detail", detail)
	w.state.FailureReason = reason
	w.setStatus(ctx, TxStatusNeedsAttention, detail)
}

// onCancelled records an operator's cancellation, over whatever the
// interrupted step recorded; nothing more is done on Rehive or the ledger.
func (w *rehiveTx) onCancelled(ctx workflow.Context) {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	w.attention(dctx, "workflow_cancelled", "the workflow was cancelled; Rehive and the ledger were left as they are")
}

func (w *rehiveTx) setStatus(ctx workflow.Context, status, detail string) {
	changed := status != w.state.Status
	w.state.Status = status
	w.note(ctx, status, detail)
	if changed {
		w.upsertSearch(ctx)
	}
	// Saved even when the status stays: flow, ledger id or reason may have moved.
	w.save(ctx)
}

func (w *rehiveTx) upsertSearch(ctx workflow.Context) {
	if err := workflow.UpsertTypedSearchAttributes(ctx, SARehiveTxID.ValueSet(w.in.TxID), SAStatus.ValueSet(w.state.Status)); err != nil {
		workflow.GetLogger(ctx).Warn("search attributes not updated", "error", err)
	}
}

// save writes the read model (rehive_transactions) through a local activity.
func (w *rehiveTx) save(ctx workflow.Context) {
	if err := workflow.ExecuteLocalActivity(saveOptions(ctx), ActSaveRehiveTx, w.state).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("read model not saved", "tx_id", w.in.TxID, "error", err)
	}
}

func (w *rehiveTx) note(ctx workflow.Context, step, detail string) {
	w.state.Timeline = append(w.state.Timeline, TimelineEntry{At: workflow.Now(ctx).UTC(), Step: step, Detail: detail})
}

// drain records the signals left at the end, so none is silently dropped
// from a closing run.
func (w *rehiveTx) drain(ctx workflow.Context) {
	for {
		var ev RehiveEvent
		if !w.events.ReceiveAsync(&ev) {
			break
		}
		w.note(ctx, "late_event", fmt.Sprintf("%s %s after %s", ev.Event, ev.EventID, w.state.Status))
	}
	for {
		var ev LedgerEvent
		if !w.ledger.events.ReceiveAsync(&ev) {
			break
		}
		w.note(ctx, "late_ledger_event", fmt.Sprintf("%s %s %s after %s", ev.Type, ev.EventID, ev.Status, w.state.Status))
	}
}

func isRehiveFinal(status string) bool { return status == RehiveTxComplete || status == RehiveTxFailed }

// baseFlow is the flow a transaction belongs to before any transition says
// more: a debit is processed as a withdrawal.
func baseFlow(info RehiveTxInfo) string {
	switch {
	case info.OwnDeposit:
		return FlowDeposit
	case info.Transfer:
		return FlowTransfer
	case info.TxType == "debit":
		return FlowWithdrawal
	}
	return FlowUnsupported
}

// ParseWithdrawalMetadata is parseWithdrawalMetadata for the reconciliation,
// which creates a payout the workflow never made.
func ParseWithdrawalMetadata(meta map[string]any) (destination, ledgerAccount, problem string) {
	return parseWithdrawalMetadata(meta)
}

// maxInstructionLen bounds a destination or ledger account id.
const maxInstructionLen = 256

// parseWithdrawalMetadata reads the withdrawal instructions: exactly one of
// metadata.destination (a ledger address) and metadata.ledger_account (a
// linked ledger account). problem says, for the user, why they are unusable.
func parseWithdrawalMetadata(meta map[string]any) (destination, ledgerAccount, problem string) {
	dest, destSet, problem := instruction(meta, MetaDestination)
	if problem != "" {
		return "", "", problem
	}
	account, accountSet, problem := instruction(meta, MetaLedgerAccount)
	switch {
	case problem != "":
		return "", "", problem
	case destSet && accountSet:
		return "", "", "metadata sets both destination and ledger_account; set only one"
	case destSet:
		return dest, "", ""
	case accountSet:
		return "", account, ""
	}
	return "", "", "metadata needs destination (a ledger address) or ledger_account (a linked ledger account)"
}

func instruction(meta map[string]any, key string) (value string, set bool, problem string) {
	raw, ok := meta[key]
	if !ok || raw == nil {
		return "", false, ""
	}
	s, ok := raw.(string)
	switch {
	case !ok:
		return "", true, "metadata." + key + " must be a string"
	case s == "":
		return "", true, "metadata." + key + " is empty"
	case len(s) > maxInstructionLen:
		return "", true, fmt.Sprintf("metadata.%s is longer than %d characters", key, maxInstructionLen)
	case strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) >= 0:
		return "", true, "metadata." + key + " contains spaces or control characters"
	}
	return s, true, ""
}

// metaText is a string metadata value, or "".
func metaText(meta map[string]any, key string) string {
	s, _ := meta[key].(string)
	return s
}
