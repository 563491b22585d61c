package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"
)

// walletPayment is a checkout paid from a Rehive wallet: the customer sends
// a transfer whose metadata names the order, and each transaction Rehive
// tells of is verified (it may pay the order, not match it, or be money to
// send back). Payments that cannot pay the order are reversed
// (checkout_wallet_stray.go).
type walletPayment struct {
	*checkout
	// seen holds the Rehive transactions heard of, by id, with their last
	// verdict.
	seen map[string]RehivePaymentResult
	// paid is the transaction that paid the order.
	paid RehivePaymentResult
	// unreversed are wallet payments to send back whose reversal failed
	// while the order waited for payment (versionStrayRetry).
	unreversed []RehivePaymentResult
}

// pay waits for the Rehive webhook of a transaction paying this order.
func (w *walletPayment) pay(ctx workflow.Context) (bool, error) {
	w.state.Payment.Status = "awaiting_transfer"
	w.setStatus(ctx, StatusAwaitingPayment, "waiting for a Rehive transfer with metadata.order_id")
	return w.await(ctx, w.onRehiveEvent, w.rehiveTimeout)
}

func (w *walletPayment) onRehiveEvent(ctx workflow.Context, ev PaymentEvent) outcome {
	if ev.Provider != ProviderRehive || ev.PaymentID == "" {
		w.note(ctx, "event_ignored", fmt.Sprintf("%s %s", ev.Provider, ev.Type))
		return keepWaiting
	}
	if prev, seen := w.seen[ev.PaymentID]; seen && prev.Outcome != RehivePending {
		return keepWaiting // already judged final
	}
	w.note(ctx, "webhook", fmt.Sprintf("rehive %s %s", ev.Type, ev.PaymentID))
	res, err := w.verifyRehive(ctx, ev.PaymentID)
	if err != nil {
		w.note(ctx, "verify_failed", errDetail(err))
		w.seen[ev.PaymentID] = RehivePaymentResult{Outcome: RehivePending, TxID: ev.PaymentID}
		return keepWaiting
	}
	return w.judgeRehive(ctx, res)
}

func (w *walletPayment) judgeRehive(ctx workflow.Context, res RehivePaymentResult) outcome {
	w.seen[res.TxID] = res
	switch res.Outcome {
	case RehivePaid:
		w.paid = res
		// An earlier mismatch stays on the timeline; a fulfilled order has no
		// failure reason.
		w.state.FailureReason = ""
		w.state.Payment.ProviderPaymentID = res.TxID
		w.state.Payment.Status = "Complete"
		return gotPaid
	case RehiveMismatch:
		// A payment that does not match never fulfils; the order says why and
		// keeps waiting for a correct one until the timeout. Money that did
		// reach the merchant goes back to the payer.
		w.state.FailureReason = res.Reason
		w.note(ctx, "payment_mismatch", fmt.Sprintf("%s: %s", res.TxID, res.Reason))
		if res.Refundable {
			if !w.reverse(ctx, res) && w.strayRetry(ctx) {
				// Tried again, with backoff, once the wait for payment is over.
				w.unreversed = append(w.unreversed, res)
			}
		} else {
			w.save(ctx)
		}
	case RehivePending:
		w.note(ctx, "payment_pending", res.TxID)
	}
	return keepWaiting
}

// rehiveTimeout re-checks every transaction still pending before expiring,
// and, first, looks for transfers it never heard of: the merchant's recent
// credits carrying this order's id.
func (w *walletPayment) rehiveTimeout(ctx workflow.Context) (bool, error) {
	if w.version(ctx, versionRehiveFind) == 1 {
		w.findRehivePayments(ctx)
	}
	for _, id := range sortedKeys(w.seen) {
		if w.seen[id].Outcome != RehivePending {
			continue
		}
		// A transaction that may be Complete is never expired unverified.
		res, ok, err := w.verifyUntilAnswered(ctx, id)
		if err != nil {
			return false, err
		}
		if ok && w.judgeRehive(ctx, res) == gotPaid {
			return true, nil
		}
	}
	reason := "no Rehive payment within " + w.in.PaymentTimeout.String()
	if w.state.FailureReason != "" {
		reason = w.state.FailureReason
	}
	return false, w.expire(ctx, reason)
}

// findRehivePayments lists the merchant account's credits since the order
// started and marks each one for this order that was not judged yet as
// pending, so the timeout verifies it. A failing listing is retried until it
// answers: a transfer that may pay the order is never expired unseen.
func (w *walletPayment) findRehivePayments(ctx workflow.Context) {
	since := workflow.GetInfo(ctx).WorkflowStartTime.Add(-time.Minute) // clock skew
	_, _ = untilAnswered.until(ctx, func(int) bool {                   // cut short: the timeout goes on with what it knows
		found, err := ckActs.FindRehivePayments.Run(ctx, FindRehivePaymentsInput{OrderID: w.in.OrderID, Since: since})
		if err != nil {
			w.note(ctx, "lookup_failed", errDetail(err))
			return false
		}
		var fresh []string
		for _, id := range found.TxIDs {
			if _, seen := w.seen[id]; !seen {
				w.seen[id] = RehivePaymentResult{Outcome: RehivePending, TxID: id}
				fresh = append(fresh, id)
			}
		}
		if len(fresh) > 0 {
			w.note(ctx, "payment_found", fmt.Sprintf("Rehive credits for the order not heard of: %v", fresh))
		}
		return true
	})
}

// verifyUntilAnswered asks Rehive about a transaction until it answers; ok
// is false when Rehive does not know the transaction.
func (w *walletPayment) verifyUntilAnswered(ctx workflow.Context, txID string) (res RehivePaymentResult, ok bool, err error) {
	_, err = untilAnswered.until(ctx, func(int) bool {
		var verr error
		res, verr = w.verifyRehive(ctx, txID)
		switch {
		case verr == nil:
			ok = true
		case !isType(verr, ErrTypeNotFound):
			w.note(ctx, "verify_failed", errDetail(verr))
			return false
		}
		return true
	})
	return res, ok, err
}

func (w *walletPayment) verifyRehive(ctx workflow.Context, txID string) (RehivePaymentResult, error) {
	return ckActs.VerifyRehivePayment.Run(ctx, RehivePaymentInput{
		OrderID: w.in.OrderID, TxID: txID, Amount: w.state.Amount, Currency: w.in.Currency,
	})
}

// cancelUnpaid: no wallet payment was taken, and one that still arrives is
// reversed in the late window.
func (w *walletPayment) cancelUnpaid(workflow.Context) (bool, error) { return false, nil }

// refundPaid reverses the transaction that paid the order.
func (w *walletPayment) refundPaid(ctx workflow.Context, why string) error {
	res, err := ckActs.RefundRehive.Run(ctx, RehiveRefundInput{
		OrderID: w.in.OrderID, TxID: w.paid.TxID,
		PayerAccount: w.paid.PayerAccount, PayerEmail: w.paid.PayerEmail,
	})
	return w.refundDone(ctx, why, res, err)
}
