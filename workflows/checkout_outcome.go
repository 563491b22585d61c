package workflows

import "go.temporal.io/sdk/workflow"

// UpdateFirstOutcome is the checkout's first-outcome update: the API sends it
// with the workflow's start (Update-with-Start) so that POST /v1/checkouts
// can answer with what became of the payment in the same round trip.
const UpdateFirstOutcome = "first-outcome"

// setupFirstOutcome answers the update once the order has moved past taking
// the payment's first step: the card charge's answer (awaiting a capture,
// 3-D Secure, declined), the wallet's wait for a transfer, or a failure
// before it (out of stock, invalid cart). It schedules nothing, so runs that
// are never sent it have the same history; one that is sent it records the
// update's acceptance and completion.
func (w *checkout) setupFirstOutcome(ctx workflow.Context) error {
	return workflow.SetUpdateHandler(ctx, UpdateFirstOutcome, func(ctx workflow.Context) (CheckoutState, error) {
		if err := workflow.Await(ctx, w.pastFirstStep); err != nil {
			return CheckoutState{}, err
		}
		return w.state, nil
	})
}

// pastFirstStep: the order's status says how its payment began.
func (w *checkout) pastFirstStep() bool {
	return w.state.Status != StatusPending && w.state.Status != StatusReserved
}
