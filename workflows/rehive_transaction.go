package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
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
	// tracker records the timeline, status and read model (tracker.go).
	tracker[TxStatus]

	info *RehiveTxInfo // the last lookup; nil before the first

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
	// findTimer is the next look for a waiting transition while the run
	// waits for one (its webhook may be lost, or held back for long).
	findTimer workflow.Future
}

func (w *rehiveTx) setup(ctx workflow.Context) error {
	w.state = RehiveTxState{TxID: w.in.TxID, Status: TxStatusReceived, Timeline: []TimelineEntry{}}
	w.tracker = tracker[TxStatus]{
		status: &w.state.Status, timeline: &w.state.Timeline,
		search: func() []temporal.SearchAttributeUpdate {
			return []temporal.SearchAttributeUpdate{SARehiveTxID.ValueSet(w.in.TxID), SAStatus.ValueSet(string(w.state.Status))}
		},
		details: func(status TxStatus, detail string) string {
			return currentDetails(string(status), w.waitingFor(status), detail, "Flow", w.state.Flow, "Ledger transaction", w.state.LedgerTxID)
		},
		saveState: func(ctx workflow.Context) error { return cmActs.SaveRehiveTx.Run(ctx, w.state) },
		logKey:    "tx_id", logID: w.in.TxID,
	}
	w.seen, w.handled = map[string]bool{}, map[string]bool{}
	w.events = workflow.GetSignalChannel(ctx, SignalRehiveEvent)
	w.ledger = newLedgerWatch(ctx, w.note)
	w.stallAfter = w.in.StallTimeout
	if w.stallAfter <= 0 {
		w.stallAfter = defaultStallTimeout
	}
	w.stall = workflow.NewTimer(ctx, w.stallAfter)
	w.ledger.pollWithin(ctx, w.stallAfter)
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
		findNow := false
		if w.findsTransitions(ctx) {
			if w.findTimer == nil {
				w.findTimer = workflow.NewTimer(ctx, w.findInterval())
			}
			sel.AddFuture(w.findTimer, func(workflow.Future) { w.findTimer, findNow = nil, true })
		}
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
		case findNow:
			w.findTransition(ctx)
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

// findsTransitions reports whether the run waits for a transition it has
// not been told of, and so looks for one itself: Rehive raises the next
// step (Pending->Complete after Initiating->Pending, say) with a webhook
// that may be lost or held back past the stall timer.
func (w *rehiveTx) findsTransitions(ctx workflow.Context) bool {
	return w.state.Status == TxStatusAwaitingTransition && w.open == nil &&
		workflow.GetVersion(ctx, versionFindTransition, workflow.DefaultVersion, 1) != workflow.DefaultVersion
}

// findInterval is how often a waiting run looks: a quarter of the stall
// timeout, between 5 s and 5 min, so that a lost webhook costs a fraction
// of the time the transaction has.
func (w *rehiveTx) findInterval() time.Duration {
	return min(max(w.stallAfter/4, 5*time.Second), 5*time.Minute)
}

// findTransition asks Rehive for a transition waiting for payflow from the
// transaction's current status and handles it as its webhook would have
// been; a transaction that went final meanwhile is settled.
func (w *rehiveTx) findTransition(ctx workflow.Context) {
	info, err := w.read(ctx, LookupRehiveTxInput{TxID: w.in.TxID, FindWaiting: true})
	if err != nil {
		w.note(ctx, "find_transition_failed", errDetail(err))
		return
	}
	tr := info.Transition
	switch {
	case info.Status.Final():
	case tr == nil || w.handled[tr.ID]:
		return // nothing new: look again later
	default:
		w.note(ctx, "transition_found", fmt.Sprintf("%s %s->%s, without its webhook", tr.ID, tr.FromStatus, tr.ToStatus))
	}
	w.handle(ctx, info)
}

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
	return w.read(ctx, LookupRehiveTxInput{TxID: w.in.TxID, TransitionID: transitionID})
}

func (w *rehiveTx) read(ctx workflow.Context, in LookupRehiveTxInput) (RehiveTxInfo, error) {
	info, err := cmActs.LookupRehiveTx.Run(ctx, in)
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
	case info.Status.Final():
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
		w.setStatus(ctx, TxStatusAwaitingTransition, "status "+string(info.Status)+"; waiting for a transition")
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

// onCancelled records an operator's cancellation, over whatever the
// interrupted step recorded; nothing more is done on Rehive or the ledger.
func (w *rehiveTx) onCancelled(ctx workflow.Context) {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	w.attention(dctx, "workflow_cancelled", "the workflow was cancelled; Rehive and the ledger were left as they are")
}

// waitingFor says, for the Web UI, what a transaction in status waits for.
func (w *rehiveTx) waitingFor(status TxStatus) string {
	switch status {
	case TxStatusReceived:
		return "the transaction read from Rehive"
	case TxStatusAwaitingTransition:
		return "Rehive's next transition of the transaction, at most " + w.stallAfter.String() + " from the start"
	case TxStatusAwaitingLedger:
		return "the ledger to settle " + w.state.LedgerTxID
	case TxStatusDelegated:
		return "the deposit workflow, which settles this credit"
	case TxStatusNeedsAttention:
		return "an operator: Rehive and the ledger may disagree"
	}
	return ""
}

// drain records the signals left at the end, so none is silently dropped
// from a closing run.
func (w *rehiveTx) drain(ctx workflow.Context) {
	drainSignals(w.events, func(ev RehiveEvent) {
		w.note(ctx, "late_event", fmt.Sprintf("%s %s after %s", ev.Event, ev.EventID, w.state.Status))
	})
	w.ledger.drainLate(ctx, string(w.state.Status))
}

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
