package workflows

import (
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// tracker records a workflow's progress the same way for checkout,
// rehive-tx and ledger-deposit: the timeline, the status with the search
// attributes and current details (Web UI) that follow it, and the read
// model. Each workflow embeds one pointing into its state; S is the type of
// that workflow's status.
type tracker[S ~string] struct {
	status   *S
	timeline *[]TimelineEntry
	// bounded counts repeats of the last entry and bounds the timeline
	// (maxTimeline); otherwise every note is appended.
	bounded bool
	// search is the search attributes that follow the status.
	search func() []temporal.SearchAttributeUpdate
	// upsertUnchanged upserts them even when a status is set again.
	upsertUnchanged bool
	// details is the Web UI's current details of a status just set.
	details func(status S, detail string) string
	// saveState writes the read model (a local activity).
	saveState func(ctx workflow.Context) error
	// logKey and logID name the workflow's subject in log lines.
	logKey, logID string
}

// setStatus moves the status, noting it on the timeline, and saves.
func (t *tracker[S]) setStatus(ctx workflow.Context, status S, detail string) {
	changed := status != *t.status
	*t.status = status
	t.note(ctx, string(status), detail)
	if changed || t.upsertUnchanged {
		t.upsertSearch(ctx)
	}
	workflow.SetCurrentDetails(ctx, t.details(status, detail))
	// Saved even when the status stays: other fields may have moved.
	t.save(ctx)
}

// passStatus moves the status as setStatus does, saved (the read model and
// its status history keep it), but leaves the search attributes alone: for
// a status that normally lasts only the workflow task it is set in, which
// no operator searches for (an upsert is a visibility write).
func (t *tracker[S]) passStatus(ctx workflow.Context, status S, detail string) {
	*t.status = status
	t.note(ctx, string(status), detail)
	workflow.SetCurrentDetails(ctx, t.details(status, detail))
	t.save(ctx)
}

func (t *tracker[S]) upsertSearch(ctx workflow.Context) {
	if err := workflow.UpsertTypedSearchAttributes(ctx, t.search()...); err != nil {
		workflow.GetLogger(ctx).Warn("search attributes not updated", "error", err)
	}
}

// save writes the read model. It is a local activity: cheap, retried, and a
// failure never blocks the workflow (the next save catches up).
func (t *tracker[S]) save(ctx workflow.Context) {
	if err := t.saveState(ctx); err != nil {
		workflow.GetLogger(ctx).Warn("read model not saved", t.logKey, t.logID, "error", err)
	}
}

// maxTimeline bounds a bounded timeline however many events point at one
// subject (duplicates, unsolicited payments): repeats of the last entry are
// counted on it, and past maxTimeline entries only the newest are kept, after
// a marker counting what was dropped. The timeline is workflow state, not
// commands, so bounding it changes no history.
const maxTimeline = 200

// stepTruncated marks where the timeline dropped entries; Repeats counts them.
const stepTruncated = "timeline_truncated"

func (t *tracker[S]) note(ctx workflow.Context, step, detail string) {
	now := workflow.Now(ctx).UTC()
	tl := *t.timeline
	if !t.bounded {
		*t.timeline = append(tl, TimelineEntry{At: now, Step: step, Detail: detail})
		return
	}
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
	*t.timeline = tl
}

// drainSignals takes what is left on a signal channel without blocking, so a
// closing run records every signal rather than dropping it silently.
func drainSignals[T any](ch workflow.ReceiveChannel, each func(T)) {
	for {
		var v T
		if !ch.ReceiveAsync(&v) {
			return
		}
		each(v)
	}
}
