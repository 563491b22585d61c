package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"
)

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
func (w *rehiveTx) approveAndFollow(ctx workflow.Context, waiting TxStatus) {
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
		w.setStatus(ctx, waiting, "approved; now "+string(to))
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

// failRehive ends the transaction Failed on Rehive, by declining the open
// transition or else by setting the status, and tells the user why.
func (w *rehiveTx) failRehive(ctx workflow.Context, reason, detail, userMessage string) {
	if w.open != nil {
		tr := *w.open
		res, err := w.verdict(ctx, cmActs.DeclineTransition)
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
	res, err := w.verdict(ctx, cmActs.ApproveTransition)
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
func (w *rehiveTx) awaitApplied(ctx workflow.Context, to RehiveStatus) (RehiveStatus, error) {
	var status RehiveStatus
	var err error
	poll := askAgain{first: approvalPollInterval, max: approvalPollInterval, wait: w.waitEventOrPoll}
	_, _ = poll.until(ctx, func(int) bool { // the wait is never cut short: the try sees the cancel
		info, lerr := w.lookup(ctx, "")
		switch {
		case ctx.Err() != nil:
			err = ctx.Err()
		case lerr != nil:
			w.note(ctx, "lookup_failed", errDetail(lerr))
		case info.Status == to || info.Status.Final():
			w.note(ctx, "approval_applied", "Rehive has the transaction "+string(info.Status))
			status = info.Status
			return true
		}
		if err == nil && w.stall.IsReady() {
			err = errApprovalStalled
		}
		return err != nil
	})
	return status, err
}

// waitEventOrPoll waits for d, a Rehive event (kept for the main loop), the
// stall timer or the cancellation, whichever comes first.
func (w *rehiveTx) waitEventOrPoll(ctx workflow.Context, d time.Duration) error {
	timerCtx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(w.events, func(c workflow.ReceiveChannel, _ bool) {
		var ev RehiveEvent
		c.Receive(ctx, &ev)
		w.backlog = append(w.backlog, ev)
	})
	sel.AddFuture(workflow.NewTimer(timerCtx, d), func(workflow.Future) {})
	sel.AddFuture(w.stall, func(workflow.Future) {})
	sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) {})
	sel.Select(ctx)
	return nil
}

// verdict approves or declines the open transition, once.
func (w *rehiveTx) verdict(ctx workflow.Context, act cmCall[TransitionInput, TransitionResult]) (TransitionResult, error) {
	tr := w.open
	res, err := act.Run(ctx, TransitionInput{TxID: w.in.TxID, TransitionID: tr.ID})
	if err != nil {
		return res, err
	}
	w.handled[tr.ID] = true
	w.open = nil
	return res, nil
}

func (w *rehiveTx) setRehiveStatus(ctx workflow.Context, status RehiveStatus, note string) error {
	err := cmActs.SetRehiveTxStatus.Run(ctx, RehiveStatusInput{TxID: w.in.TxID, Status: status, Note: note})
	if err == nil {
		w.state.RehiveStatus = status
		w.note(ctx, "rehive_status_set", string(status))
	}
	return err
}

// message shows the user why; a message that cannot be posted is noted and
// does not hold up the transaction.
func (w *rehiveTx) message(ctx workflow.Context, key, text string) {
	err := cmActs.AddRehiveMessage.Run(ctx, RehiveMessageInput{
		TxID: w.in.TxID, Key: w.in.TxID + "/" + key, Message: text, Level: "error", Section: "user",
	})
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
