package workflows

import "go.temporal.io/sdk/workflow"

func (w *checkout) setStatus(ctx workflow.Context, status, detail string) {
	w.state.Status = status
	w.note(ctx, status, detail)
	if err := workflow.UpsertTypedSearchAttributes(ctx, SAOrderID.ValueSet(w.in.OrderID), SAStatus.ValueSet(status)); err != nil {
		workflow.GetLogger(ctx).Warn("search attributes not updated", "error", err)
	}
	w.save(ctx)
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
