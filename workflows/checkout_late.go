package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"
)

// watchLatePayments keeps an order that closed unpaid (expired, cancelled,
// or failed on a charge error whose outcome is unknown) open for the late
// window, and refunds any payment for it that still arrives: nothing paid is
// left unfulfilled or unrefunded.
func (w *checkout) watchLatePayments(ctx workflow.Context) {
	unpaid := w.state.Status == StatusExpired || w.state.Status == StatusCancelled ||
		(w.state.Status == StatusFailed && w.state.FailureReason == ReasonPaymentError)
	if !unpaid || w.version(ctx, versionLatePayments) == workflow.DefaultVersion {
		return
	}
	w.method.settleLeftovers(ctx)
	timer := workflow.NewTimer(ctx, w.in.LateWindow)
	for done := false; !done; {
		sel := workflow.NewSelector(ctx)
		if w.root != nil {
			// An operator's Cancel of a closed order ends the wait; a payment
			// still arriving is the reconciliation's.
			sel.AddReceive(w.root.Done(), func(workflow.ReceiveChannel, bool) {
				w.note(ctx, "operator_cancel", "late window ended early")
				done = true
			})
		}
		sel.AddReceive(w.payments, func(c workflow.ReceiveChannel, _ bool) {
			var ev PaymentEvent
			c.Receive(ctx, &ev)
			w.note(ctx, "late_event", fmt.Sprintf("%s %s %s after %s", ev.Provider, ev.Type, ev.PaymentID, w.state.Status))
			done = w.method.latePayment(ctx, ev)
		})
		sel.AddFuture(timer, func(workflow.Future) { done = true })
		sel.Select(ctx)
	}
}
