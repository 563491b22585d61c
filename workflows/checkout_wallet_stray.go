package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"
)

// afterFulfilment reverses a second wallet payment for a fulfilled order.
func (w *walletPayment) afterFulfilment(ctx workflow.Context, ev PaymentEvent) bool {
	w.onStrayPayment(ctx, ev)
	return false
}

// latePayment reverses a payment that arrived after the order closed; the
// first one reversed makes the order refunded. A wallet can send several,
// so the watch goes on.
func (w *walletPayment) latePayment(ctx workflow.Context, ev PaymentEvent) bool {
	if w.onStrayPayment(ctx, ev) && w.state.Status != StatusRefunded {
		w.finish(ctx, StatusRefunded, "Rehive payment arrived after the order was "+string(w.state.Status)+"; reversed")
	}
	return false
}

// onStrayPayment reverses a wallet payment that cannot pay the order (it
// closed, or was paid already) and reports whether it did.
func (w *walletPayment) onStrayPayment(ctx workflow.Context, ev PaymentEvent) bool {
	if ev.Provider != ProviderRehive || ev.PaymentID == "" || ev.PaymentID == w.paid.TxID {
		w.note(ctx, "late_event", fmt.Sprintf("%s %s %s after %s", ev.Provider, ev.Type, ev.PaymentID, w.state.Status))
		return false
	}
	if prev, seen := w.seen[ev.PaymentID]; seen && prev.Outcome != RehivePending {
		return false // judged (and reversed if it had to be) already
	}
	persist := w.strayRetry(ctx)
	var res RehivePaymentResult
	if persist {
		var ok bool
		if res, ok, _ = w.verifyUntilAnswered(ctx, ev.PaymentID); !ok {
			return false // Rehive does not know it: nothing to send back
		}
	} else {
		var err error
		if res, err = w.verifyRehive(ctx, ev.PaymentID); err != nil {
			w.note(ctx, "verify_failed", errDetail(err))
			return false
		}
	}
	w.seen[res.TxID] = res
	if res.Outcome == RehivePending && persist {
		// Not final yet: it may still complete, and must then go back.
		w.unreversed = append(w.unreversed, res)
		w.note(ctx, "payment_pending", res.TxID+": checked again before the order closes")
		return false
	}
	if res.Outcome != RehivePaid && !res.Refundable {
		return false
	}
	if persist {
		return w.reverseUntilSettled(ctx, res)
	}
	return w.reverse(ctx, res)
}

// strayRetry reports whether this run retries stray wallet payments until
// they are settled (versionStrayRetry).
func (w *walletPayment) strayRetry(ctx workflow.Context) bool {
	return w.version(ctx, versionStrayRetry) == 1
}

// reversalRetries tries a wallet reversal Rehive refused again: each attempt
// has its own idempotency key (Rehive replays a refusal for a reused one).
var reversalRetries = askAgain{first: 30 * time.Second, max: time.Hour, attempts: 10}

// settleLeftovers settles the wallet payments left unreversed or pending
// while the order waited for payment.
func (w *walletPayment) settleLeftovers(ctx workflow.Context) {
	left := w.unreversed
	w.unreversed = nil
	for _, res := range left {
		if res.Outcome == RehivePending {
			v, ok, _ := w.verifyUntilAnswered(ctx, res.TxID)
			if !ok {
				continue
			}
			w.seen[v.TxID] = v
			if v.Outcome == RehivePending {
				w.unreversed = append(w.unreversed, v) // still not final: the next window looks again
				continue
			}
			if v.Outcome != RehivePaid && !v.Refundable {
				continue
			}
			res = v
		}
		w.reverseUntilSettled(ctx, res)
	}
}

// reverseUntilSettled retries a reversal with backoff; a payment that could
// not be sent back after reversalRetries.attempts stays on the timeline for
// an operator and the reconciliation.
func (w *walletPayment) reverseUntilSettled(ctx workflow.Context, res RehivePaymentResult) bool {
	reversed, err := reversalRetries.until(ctx, func(i int) bool { return w.reverseAttempt(ctx, res, i+1) })
	if reversed || err != nil {
		return reversed
	}
	w.note(ctx, "reversal_abandoned", fmt.Sprintf("%s: not sent back after %d attempts; needs an operator", res.TxID, reversalRetries.attempts))
	w.save(ctx)
	return false
}

// reverse sends a wallet payment back to its payer without touching the
// order's own status.
func (w *walletPayment) reverse(ctx workflow.Context, res RehivePaymentResult) bool {
	return w.reverseAttempt(ctx, res, 0)
}

func (w *walletPayment) reverseAttempt(ctx workflow.Context, res RehivePaymentResult, attempt int) bool {
	out, err := ckActs.RefundRehive.Run(ctx, RehiveRefundInput{
		OrderID: w.in.OrderID, TxID: res.TxID, PayerAccount: res.PayerAccount, PayerEmail: res.PayerEmail, Attempt: attempt,
	})
	if err != nil {
		w.note(ctx, "reversal_failed", res.TxID+": "+errDetail(err))
		return false
	}
	w.note(ctx, "reversed", fmt.Sprintf("%s (reversal %s)", res.TxID, out.ID))
	w.save(ctx)
	return true
}
