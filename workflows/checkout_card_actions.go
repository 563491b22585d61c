package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"
)

// refundPaid refunds the card payment; one approved but not yet captured is
// voided instead. It counts only once Checkout.com confirms it
// (versionConfirmedActions).
func (w *cardPayment) refundPaid(ctx workflow.Context, why string) error {
	st, captured, err := w.undoCard(ctx)
	if err != nil {
		return err
	}
	if !captured {
		if w.confirmedActions(ctx) {
			return w.afterVoid(ctx, why, st.Status)
		}
		w.release(ctx)
		w.finish(ctx, StatusRefunded, why+"; payment "+st.Status+" before capture")
		return nil
	}
	if w.confirmedActions(ctx) {
		return w.refundCardConfirmed(ctx, why)
	}
	res, err := ckActs.RefundCard.Run(ctx, CardPaymentInput{
		OrderID: w.in.OrderID, PaymentID: w.state.Payment.ProviderPaymentID, Amount: w.state.Amount,
	})
	return w.refundDone(ctx, why, res, err)
}

// afterVoid closes an order whose card payment was never captured: no money
// was taken, so nothing is refunded. A fulfilled order (an older run
// fulfilled on the authorisation) is cancelled; an order that was already
// closed unpaid keeps its status.
func (w *cardPayment) afterVoid(ctx workflow.Context, why, st string) error {
	w.release(ctx)
	if w.attention != "" {
		return w.needsAttention(ctx, w.attention, why+"; the authorisation could not be voided")
	}
	if !IsTerminal(w.state.Status) || w.state.Status == StatusFulfilled {
		w.state.FailureReason = ReasonCancelled
		w.finish(ctx, StatusCancelled, why+"; payment "+st+" before capture, nothing was taken")
		return nil
	}
	w.note(ctx, "settled", why+"; payment "+st+" before capture")
	w.save(ctx)
	return nil
}

// Bounds of the retries of a void or refund that Checkout.com declines, and
// of the wait for an accepted one's outcome.
const (
	actionAttempts      = 3
	actionConfirmWindow = 30 * time.Minute
)

// actionRetries tries a declined void or refund again, each time with a new
// idempotency key.
var actionRetries = askAgain{first: 30 * time.Second, max: 10 * time.Minute, attempts: actionAttempts}

// confirmedActions reports whether this run waits for Checkout.com to
// confirm voids and refunds (versionConfirmedActions).
func (w *cardPayment) confirmedActions(ctx workflow.Context) bool {
	return w.version(ctx, versionConfirmedActions) == 1
}

// refundCardConfirmed refunds the captured payment and ends the order
// refunded once Checkout.com confirms it. A declined refund is tried again
// with a new idempotency key, actionAttempts times in all; then, or when an
// accepted refund's outcome never shows, the order needs attention. It never
// reads refunded before the refund is done.
func (w *cardPayment) refundCardConfirmed(ctx workflow.Context, why string) error {
	pid := w.state.Payment.ProviderPaymentID
	var end func() error // how the order ends, once a try settled it
	if _, err := actionRetries.until(ctx, func(i int) bool {
		attempt := i + 1
		res, err := ckActs.RefundCard.Run(ctx, CardPaymentInput{
			OrderID: w.in.OrderID, PaymentID: pid, Amount: w.state.Amount, Attempt: attempt,
		})
		if err != nil {
			// Refused outright (e.g. 403: not allowed in the payment's state,
			// perhaps refunded already): the payment's status says.
			w.note(ctx, "refund_refused", errDetail(err))
			if st, serr := w.cardState(ctx); serr == nil && st == CardStateRefunded {
				end = func() error { return w.refunded(ctx, why, "") }
				return true
			}
			return false
		}
		w.state.Payment.Status = "Refund Pending"
		w.note(ctx, "refund_requested", fmt.Sprintf("attempt %d, action %s", attempt, res.ID))
		w.save(ctx)
		out := w.confirmAction(ctx, "Refund", res.ID)
		switch {
		case out.Found && out.Approved:
			end = func() error { return w.refunded(ctx, why, res.ID) }
		case out.Found:
			w.state.Payment.Status = "Refund Declined"
			w.note(ctx, "refund_declined", fmt.Sprintf("attempt %d: %s %s", attempt, out.ResponseCode, out.ResponseSummary))
			w.save(ctx)
			return false
		default:
			// Accepted, outcome unknown: another refund could pay twice.
			end = func() error {
				return w.needsAttention(ctx, ReasonRefundDeclined, fmt.Sprintf("%s; refund %s accepted but not confirmed within %s", why, res.ID, actionConfirmWindow))
			}
		}
		return true
	}); err != nil {
		return err
	}
	if end != nil {
		return end()
	}
	return w.needsAttention(ctx, ReasonRefundDeclined, fmt.Sprintf("%s; Checkout.com declined the refund %d times", why, actionAttempts))
}

func (w *cardPayment) refunded(ctx workflow.Context, why, refundID string) error {
	if refundID != "" {
		w.state.Payment.RefundID = refundID
	}
	w.state.Payment.Status = "Refunded"
	w.release(ctx)
	w.finish(ctx, StatusRefunded, why+"; confirmed by Checkout.com")
	return nil
}

// confirmAction waits for the outcome of a void or refund Checkout.com
// accepted (202): it reads GET /payments/{id}/actions with backoff, and
// at once when an event about the payment arrives (events are only a
// hint). Found false means no outcome within actionConfirmWindow.
func (w *cardPayment) confirmAction(ctx workflow.Context, kind, actionID string) CardActionResult {
	var found CardActionResult
	poll := askAgain{first: time.Second, max: time.Minute, within: actionConfirmWindow, wait: w.waitHint}
	_, _ = poll.until(ctx, func(int) bool { // waitHint is never cut short
		out, err := ckActs.GetCardAction.Run(ctx, CardActionInput{
			OrderID: w.in.OrderID, PaymentID: w.state.Payment.ProviderPaymentID, ActionID: actionID, Kind: kind,
		})
		if err != nil {
			w.note(ctx, "status_unknown", errDetail(err))
			return false
		}
		found = out
		return out.Found
	})
	if !found.Found {
		return CardActionResult{}
	}
	return found
}

// waitHint waits for d or for a payment event, whichever comes first; the
// event is recorded on the timeline.
func (w *cardPayment) waitHint(ctx workflow.Context, d time.Duration) error {
	tctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	sel := workflow.NewSelector(ctx)
	sel.AddFuture(workflow.NewTimer(tctx, d), func(workflow.Future) {})
	sel.AddReceive(w.payments, func(c workflow.ReceiveChannel, _ bool) {
		var ev PaymentEvent
		c.Receive(ctx, &ev)
		w.note(ctx, "webhook", fmt.Sprintf("%s %s %s", ev.Provider, ev.Type, ev.PaymentID))
	})
	sel.Select(ctx)
	return nil
}

// voidConfirmed voids the authorisation and waits for Checkout.com to
// confirm it; a declined void is tried again with a new idempotency key,
// actionAttempts times in all. lookAgain reports a void refused outright
// (403: no longer voidable, e.g. captured meanwhile): the caller reads the
// payment's status again.
func (w *cardPayment) voidConfirmed(ctx workflow.Context) (voided, lookAgain bool) {
	pid := w.state.Payment.ProviderPaymentID
	_, _ = actionRetries.until(ctx, func(i int) bool { // cut short: not voided
		attempt := i + 1
		res, err := ckActs.VoidCard.Run(ctx, CardPaymentInput{
			OrderID: w.in.OrderID, PaymentID: pid, Amount: w.state.Amount, Attempt: attempt,
		})
		if err != nil {
			w.note(ctx, "void_failed", errDetail(err))
			lookAgain = true
			return true
		}
		w.note(ctx, "void_requested", fmt.Sprintf("attempt %d, action %s", attempt, res.ID))
		out := w.confirmAction(ctx, "Void", res.ID)
		switch {
		case out.Found && out.Approved:
			w.state.Payment.Status = "Voided"
			w.note(ctx, "voided", pid+": confirmed by Checkout.com")
			voided = true
		case out.Found:
			w.note(ctx, "void_declined", fmt.Sprintf("attempt %d: %s %s", attempt, out.ResponseCode, out.ResponseSummary))
			w.save(ctx)
			return false
		default:
			w.note(ctx, "void_unconfirmed", fmt.Sprintf("void %s accepted but not confirmed within %s", res.ID, actionConfirmWindow))
		}
		return true
	})
	return voided, lookAgain
}
