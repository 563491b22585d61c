package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"
)

func (w *checkout) setStatus(ctx workflow.Context, status, detail string) {
	w.state.Status = status
	w.note(ctx, status, detail)
	if err := workflow.UpsertTypedSearchAttributes(ctx, SAOrderID.ValueSet(w.in.OrderID), SAStatus.ValueSet(status)); err != nil {
		workflow.GetLogger(ctx).Warn("search attributes not updated", "error", err)
	}
	workflow.SetCurrentDetails(ctx, currentDetails(status, w.waitingFor(status), detail))
	w.save(ctx)
}

// waitingFor says, for the Web UI, what an order in status waits for.
func (w *checkout) waitingFor(status string) string {
	switch status {
	case StatusPending:
		return "the cart priced and the stock reserved"
	case StatusReserved:
		return "the payment to start"
	case StatusAwaitingPayment:
		return fmt.Sprintf("the %s payment, for at most %s", w.in.Method, w.in.PaymentTimeout)
	case StatusRequiresAction:
		return fmt.Sprintf("the customer's 3-D Secure challenge, for at most %s", w.in.PaymentTimeout)
	case StatusPaid:
		return "the stock commit"
	case StatusFulfilled, StatusPartiallyRefunded:
		return fmt.Sprintf("a refund or cancel, for the refund window (%s)", w.in.RefundWindow)
	case StatusExpired, StatusCancelled:
		return fmt.Sprintf("a payment that still arrives, to send back, for the late window (%s)", w.in.LateWindow)
	case StatusNeedsAttention:
		return "an operator (the timeline says what was tried)"
	}
	return ""
}

// maxTimeline bounds the timeline however many events point at one order
// (duplicates, unsolicited payments): repeats of the last entry are counted
// on it, and past maxTimeline entries only the newest are kept, after a
// marker counting what was dropped. The timeline is workflow state, not
// commands, so bounding it changes no history.
const maxTimeline = 200

func (w *checkout) note(ctx workflow.Context, step, detail string) {
	now := workflow.Now(ctx).UTC()
	tl := w.state.Timeline
	if n := len(tl); n > 0 && tl[n-1].Step == step && tl[n-1].Detail == detail {
		tl[n-1].Repeats++
		tl[n-1].LastAt = &now
		return
	}
	tl = append(tl, TimelineEntry{At: now, Step: step, Detail: detail})
	if len(tl) > maxTimeline {
		// Keep the start of the story (created ... awaiting payment), a
		// marker, and the newest entries.
		const head = 10
		dropped := 2 // tl[head] and tl[head+1] make way for the marker
		if tl[head].Step == stepTruncated {
			dropped = tl[head].Repeats + 1 // the marker stays, one more goes
		}
		marker := TimelineEntry{At: tl[head+1].At, Step: stepTruncated, Detail: "older entries dropped to bound the timeline", Repeats: dropped}
		tl = append(append(tl[:head:head], marker), tl[head+2:]...)
	}
	w.state.Timeline = tl
}

// stepTruncated marks where the timeline dropped entries; Repeats counts them.
const stepTruncated = "timeline_truncated"

// save writes the read model. It is a local activity: cheap, retried, and a
// failure never blocks the payment flow (the next save catches up).
func (w *checkout) save(ctx workflow.Context) {
	if err := ckActs.SaveOrder.Run(ctx, w.state); err != nil {
		workflow.GetLogger(ctx).Warn("read model not saved", "order_id", w.in.OrderID, "error", err)
	}
}
