package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"
)

// ledgerWatch follows one ledger transaction for both currency-manager
// workflows: ledger webhooks arrive as signals, and a poll every
// ledgerPollInterval covers webhooks that were lost.
type ledgerWatch struct {
	id     string // "" until the workflow knows its ledger transaction
	events workflow.ReceiveChannel
	seen   map[string]bool // ledger event ids applied
	last   LedgerTxResult
	note   func(ctx workflow.Context, step, detail string)
	// onChange, when set, sees every change of status or confirmations.
	onChange func(LedgerTxResult)
	// every is how often wait polls; lastLook makes a wait that runs out
	// ask the ledger once more first (see pollWithin).
	every    time.Duration
	lastLook bool
}

func newLedgerWatch(ctx workflow.Context, note func(workflow.Context, string, string)) *ledgerWatch {
	return &ledgerWatch{events: workflow.GetSignalChannel(ctx, SignalLedgerEvent), seen: map[string]bool{}, note: note, every: ledgerPollInterval}
}

// pollWithin makes the watch poll often enough that a lost webhook costs a
// fraction of the stall timeout (a tenth of it, between 2 s and
// ledgerPollInterval), and look once more before a wait gives up: a fixed
// 30 s poll never ran within a shorter stall timer, which then failed a
// payout the ledger had completed or left it to an operator. Runs from
// before versionLedgerPollWithinStall keep the fixed interval.
func (lw *ledgerWatch) pollWithin(ctx workflow.Context, stall time.Duration) {
	if workflow.GetVersion(ctx, versionLedgerPollWithinStall, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	lw.every = min(max(stall/10, 2*time.Second), ledgerPollInterval)
	lw.lastLook = true
}

// Why a wait on the ledger ended.
type watchEnd int

const (
	watchDone watchEnd = iota
	watchStalled
	watchCancelled
)

// apply merges a newer view of the transaction and reports whether its status
// or confirmations changed. Webhooks may arrive late and out of order: a final
// status is never replaced and confirmations never go down.
func (lw *ledgerWatch) apply(ctx workflow.Context, res LedgerTxResult, source string) bool {
	if ledgerFinal(lw.last.Status) || res.Status == "" {
		return false
	}
	prev := lw.last
	// Webhooks may leave fields out: confirmations and the required count
	// never drop, so a partial event cannot make a deposit look confirmed.
	res.Confirmations = max(res.Confirmations, prev.Confirmations)
	res.RequiredConfirmations = max(res.RequiredConfirmations, prev.RequiredConfirmations)
	if res.FailureReason == "" {
		res.FailureReason = prev.FailureReason
	}
	lw.last = res
	if res.Status == prev.Status && res.Confirmations == prev.Confirmations {
		return false
	}
	detail := fmt.Sprintf("%s: %s, %d/%d confirmations", source, res.Status, res.Confirmations, res.RequiredConfirmations)
	if res.FailureReason != "" {
		detail += ": " + res.FailureReason
	}
	lw.note(ctx, "ledger_"+res.Status, detail)
	if lw.onChange != nil {
		lw.onChange(res)
	}
	return true
}

// receive takes one ledger event off the channel and applies it.
func (lw *ledgerWatch) receive(ctx workflow.Context) bool {
	var ev LedgerEvent
	lw.events.Receive(ctx, &ev)
	return lw.take(ctx, ev)
}

// takeBuffered applies the events already received, without blocking.
func (lw *ledgerWatch) takeBuffered(ctx workflow.Context) {
	var ev LedgerEvent
	for lw.events.ReceiveAsync(&ev) {
		lw.take(ctx, ev)
		ev = LedgerEvent{}
	}
}

// take applies one event, once per event id.
func (lw *ledgerWatch) take(ctx workflow.Context, ev LedgerEvent) bool {
	if ev.EventID != "" {
		if lw.seen[ev.EventID] {
			lw.note(ctx, "duplicate_ledger_event", ev.EventID)
			return false
		}
		lw.seen[ev.EventID] = true
	}
	if lw.id == "" || ev.LedgerTxID != lw.id {
		lw.note(ctx, "ledger_event_ignored", fmt.Sprintf("%s %s for %q", ev.Type, ev.EventID, ev.LedgerTxID))
		return false
	}
	return lw.apply(ctx, LedgerTxResult{
		ID: ev.LedgerTxID, Type: ev.TxType, Account: ev.Account, Amount: ev.Amount, Currency: ev.Currency,
		Status: ev.Status, Confirmations: ev.Confirmations, RequiredConfirmations: ev.RequiredConfirmations,
		FailureReason: ev.FailureReason,
	}, "webhook "+ev.EventID)
}

// poll asks the ledger directly; a failed poll is noted and retried on the
// next tick.
func (lw *ledgerWatch) poll(ctx workflow.Context) {
	res, err := cmActs.GetLedgerTx.With(pollOptions).Run(ctx, LedgerTxRequest{LedgerTxID: lw.id})
	if err != nil {
		lw.note(ctx, "ledger_poll_failed", errDetail(err))
		return
	}
	lw.apply(ctx, res, "poll")
}

// drainLate records the ledger events left when the run closes, in status.
func (lw *ledgerWatch) drainLate(ctx workflow.Context, status string) {
	drainSignals(lw.events, func(ev LedgerEvent) {
		lw.note(ctx, "late_ledger_event", fmt.Sprintf("%s %s %s after %s", ev.Type, ev.EventID, ev.Status, status))
	})
}

// wait returns once done holds for the transaction, the stall timer has fired
// or the workflow is cancelled.
func (lw *ledgerWatch) wait(ctx workflow.Context, stall workflow.Future, done func(LedgerTxResult) bool) watchEnd {
	timerCtx, cancelTimer := workflow.WithCancel(ctx)
	defer cancelTimer()
	var tick workflow.Future
	looked := false
	for !done(lw.last) {
		switch {
		case ctx.Err() != nil: // checked first: cancelling makes the stall timer ready too
			return watchCancelled
		case stall.IsReady() && lw.lastLook && !looked:
			looked = true
			lw.poll(ctx)
			continue
		case stall.IsReady():
			return watchStalled
		}
		if tick == nil {
			tick = workflow.NewTimer(timerCtx, lw.every)
		}
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(lw.events, func(workflow.ReceiveChannel, bool) { lw.receive(ctx) })
		sel.AddFuture(tick, func(workflow.Future) {
			tick = nil
			lw.poll(ctx)
		})
		sel.AddFuture(stall, func(workflow.Future) {})
		sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) {})
		sel.Select(ctx)
	}
	return watchDone
}

// createLedger creates the ledger transaction that mirrors this debit. It
// reports false when the transaction has already been failed (or needs an
// operator) because of it.
func (w *rehiveTx) createLedger(ctx workflow.Context, info RehiveTxInfo, dest, status, kind string) bool {
	id := LedgerTxIDFor(w.in.TxID)
	w.state.Destination = dest
	res, err := cmActs.CreateLedgerTx.Run(ctx, CreateLedgerTxInput{
		LedgerTxID: id, RehiveTxID: w.in.TxID, Kind: kind, RehiveAccount: info.Account,
		Amount: info.Amount, Currency: info.Currency, Destination: dest, Status: status,
	})
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

// onLedgerWhileIdle reacts to a ledger change between Rehive transitions: a
// held ledger transaction that fails takes the Rehive transaction with it.
func (w *rehiveTx) onLedgerWhileIdle(ctx workflow.Context) {
	if st := w.ledger.last.Status; st == LedgerFailed || st == LedgerCancelled {
		w.ledgerFailed(ctx)
	}
}

// cancelLedger cancels the ledger transaction, if there is one still live,
// and learns where it stands (a cancel can come too late). It reports false
// when the cancel failed: the transaction then needs an operator, since the
// ledger may still pay.
func (w *rehiveTx) cancelLedger(ctx workflow.Context, why string) bool {
	if w.state.LedgerTxID == "" || ledgerFinal(w.ledger.last.Status) {
		return true
	}
	res, err := cmActs.CancelLedgerTx.Run(ctx, LedgerTxRequest{LedgerTxID: w.state.LedgerTxID})
	if err != nil {
		w.attention(ctx, "ledger_cancel_failed", why+", and the ledger transaction could not be cancelled: "+errDetail(err))
		return false
	}
	w.ledger.apply(ctx, res, "cancel requested")
	return true
}
