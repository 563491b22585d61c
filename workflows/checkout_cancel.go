package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"
)

// cancelBeforePayment settles a cancel that arrived before the order was
// paid: the payment method settles what the provider may have moved, then
// the order is cancelled.
func (w *checkout) cancelBeforePayment(ctx workflow.Context) error {
	defer func() { w.cancelHandled = true }()
	if ended, err := w.method.cancelUnpaid(ctx); ended || err != nil {
		return err
	}
	w.release(ctx)
	w.state.FailureReason = ReasonCancelled
	w.finish(ctx, StatusCancelled, "cancelled before payment")
	return nil
}

// setupCancel takes the API's cancel (the update): it wakes the run and
// answers once the cancel is settled, with the order's status.
func (w *checkout) setupCancel(ctx workflow.Context) error {
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateCancel,
		func(ctx workflow.Context) (CheckoutStatus, error) {
			w.updateCancels.SendAsync(true)
			if err := workflow.Await(ctx, func() bool { return w.cancelHandled }); err != nil {
				return "", err
			}
			return w.state.Status, nil
		},
		workflow.UpdateHandlerOptions{Validator: func() error {
			if w.cancelRequested {
				return nil
			}
			if IsTerminal(w.state.Status) && !RefundableStatus(w.state.Status) {
				return fmt.Errorf("checkout is already %s", w.state.Status)
			}
			return nil
		}},
	)
}

// onCancel adds the cancel sources to sel: the update, the operator's
// Cancel (versionOperatorCancel) or, in older runs, the cancel signal.
func (w *checkout) onCancel(ctx workflow.Context, sel workflow.Selector) {
	receive := func(c workflow.ReceiveChannel, _ bool) {
		c.Receive(ctx, nil)
		w.cancelRequested = true
	}
	if w.cancels != nil {
		sel.AddReceive(w.cancels, receive)
	}
	sel.AddReceive(w.updateCancels, receive)
	if w.root != nil && !w.cancelRequested {
		sel.AddReceive(w.root.Done(), func(workflow.ReceiveChannel, bool) { w.operatorCancel(ctx) })
	}
}

// pollCancel picks up a cancel without blocking.
func (w *checkout) pollCancel() {
	if (w.cancels != nil && w.cancels.ReceiveAsync(nil)) || w.updateCancels.ReceiveAsync(nil) {
		w.cancelRequested = true
	}
	if w.operatorCancelled() {
		w.cancelRequested = true
	}
}

// operatorCancel records the operator's Cancel as a cancel request.
func (w *checkout) operatorCancel(ctx workflow.Context) {
	if !w.cancelRequested {
		w.note(ctx, "operator_cancel", "Cancel requested in Temporal; settling as a cancel")
	}
	w.cancelRequested = true
}

func (w *checkout) operatorCancelled() bool {
	return w.root != nil && w.root.Err() != nil
}
