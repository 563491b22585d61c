package workflows

import "go.temporal.io/sdk/workflow"

// refundWindow keeps a fulfilled order open for the API's refunds and for
// a cancel that refunds it.
func (w *checkout) refundWindow(ctx workflow.Context) error {
	w.method.settleLeftovers(ctx)
	w.pollCancel()
	closed := false
	if !w.cancelRequested {
		w.openRefunds(ctx)
		timer := workflow.NewTimer(ctx, w.in.RefundWindow)
		for over := false; !over && !closed && !w.cancelRequested; {
			sel := workflow.NewSelector(ctx)
			w.onCancel(ctx, sel)
			w.onRefund(ctx, sel, &closed)
			sel.AddReceive(w.payments, func(c workflow.ReceiveChannel, _ bool) {
				var ev PaymentEvent
				c.Receive(ctx, &ev)
				closed = w.method.afterFulfilment(ctx, ev)
			})
			sel.AddFuture(timer, func(workflow.Future) { over = true })
			sel.Select(ctx)
		}
	}
	if w.drainRefunds(ctx) {
		closed = true
	}
	if closed || !w.cancelRequested {
		return nil
	}
	defer func() { w.cancelHandled = true }()
	if err := ckActs.RestockOrder.Run(ctx, w.in.OrderID); err != nil {
		w.note(ctx, "restock_failed", errDetail(err))
	}
	return w.refundRemaining(ctx, "cancel requested after fulfilment")
}

// refund returns the payment and ends the order refunded. Refunds retry
// until they succeed: a paid order must never be left unrefunded.
func (w *checkout) refund(ctx workflow.Context, why string) error {
	defer func() { w.cancelHandled = true }()
	w.note(ctx, "refund", why)
	return w.method.refundPaid(ctx, why)
}

// refundDone ends the order after a refund or reversal the provider took at
// once (res) or refused for good (err).
func (w *checkout) refundDone(ctx workflow.Context, why string, res RefundResult, err error) error {
	if err != nil {
		// Refused for good (the retries stop only on a non-retryable answer):
		// the order is failed for an operator, and its stock is not kept.
		w.release(ctx)
		w.finish(ctx, StatusFailed, "refund failed: "+errDetail(err))
		return err
	}
	w.state.Payment.RefundID = res.ID
	w.state.Payment.Status = "Refunded"
	w.release(ctx)
	w.finish(ctx, StatusRefunded, why)
	return nil
}
