package inbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/payflow/payflow/breakage"
	"github.com/payflow/payflow/store"
	"github.com/payflow/payflow/workflows"
)

// Deliverer sends recorded events to their workflows.
type Deliverer struct {
	Store     *store.Store
	Temporal  client.Client
	TaskQueue string
	Policy    Policy
	// ResolveTransition finds the transaction behind a Rehive transition when
	// the event did not carry it.
	ResolveTransition func(ctx context.Context, transitionID string) (txID, currency string, err error)
	Logger            *slog.Logger
}

// Deliver signals the event's workflow and records the outcome. An error
// means the event stays pending for the relay.
func (d *Deliverer) Deliver(ctx context.Context, rec store.InboxEvent, r Route) error {
	if r.Status == "" && r.WorkflowID == "" && r.TransitionID != "" {
		if err := d.resolve(ctx, &r); err != nil {
			_ = d.Store.NoteInboxAttempt(ctx, rec.ID, "resolve transition: "+err.Error())
			return err
		}
	}
	if r.Status != "" {
		return d.Store.MarkInbox(ctx, rec.ID, r.Status, r.Note)
	}
	var err error
	if r.Start != nil {
		_, err = d.Temporal.SignalWithStartWorkflow(ctx, r.WorkflowID, r.Signal, r.Arg, client.StartWorkflowOptions{
			ID:        r.WorkflowID,
			TaskQueue: d.TaskQueue,
			// A closed workflow is final: a late event must not start it again.
			WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			StaticSummary:         r.Start.Metadata.Summary,
			StaticDetails:         r.Start.Metadata.Details,
		}, r.Start.Workflow, r.Start.Input)
	} else {
		err = d.Temporal.SignalWorkflow(ctx, r.WorkflowID, "", r.Signal, r.Arg)
	}
	// The outcome is written even when the delivery used up ctx: a signal
	// sent but not marked would be sent again by the relay.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var notFound *serviceerror.NotFound
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &notFound) {
		// No open run: a closed one makes the event the reconciliation's
		// (money may have moved after the workflow ended); no run at all
		// means nothing payflow tracks.
		switch closed, derr := d.closed(ctx, r.WorkflowID); {
		case derr != nil:
			err = derr
		case closed:
			return d.Store.MarkInboxClosed(ctx, rec.ID, r.WorkflowID, "workflow "+r.WorkflowID+" had closed")
		case r.Optional:
			return d.Store.MarkInbox(ctx, rec.ID, store.InboxIgnored, "no workflow "+r.WorkflowID+" to inform")
		default:
			return d.Store.MarkInbox(ctx, rec.ID, store.InboxUnroutable, "no open workflow "+r.WorkflowID)
		}
	}
	switch {
	case err == nil:
		return d.Store.MarkInbox(ctx, rec.ID, store.InboxDelivered, r.WorkflowID)
	case errors.As(err, &started):
		// SignalWithStart refused to start the id again: its run closed.
		return d.Store.MarkInboxClosed(ctx, rec.ID, r.WorkflowID, "workflow "+r.WorkflowID+" had closed")
	}
	if nerr := d.Store.NoteInboxAttempt(ctx, rec.ID, err.Error()); nerr != nil {
		d.Logger.Warn("inbox attempt not recorded", "id", rec.ID, "error", nerr)
	}
	return fmt.Errorf("deliver %s to %s: %w", r.EventID, r.WorkflowID, err)
}

// closed reports whether workflowID has a run, which can then only be closed.
func (d *Deliverer) closed(ctx context.Context, workflowID string) (bool, error) {
	desc, err := d.Temporal.DescribeWorkflowExecution(ctx, workflowID, "")
	var notFound *serviceerror.NotFound
	switch {
	case err == nil && desc.WorkflowExecutionInfo.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		// Started since the signal failed: the relay signals it again.
		return false, fmt.Errorf("workflow %s is running again", workflowID)
	case err == nil:
		return true, nil
	case errors.As(err, &notFound):
		return false, nil
	}
	return false, fmt.Errorf("describe %s: %w", workflowID, err)
}

func (d *Deliverer) resolve(ctx context.Context, r *Route) error {
	if d.ResolveTransition == nil {
		return errors.New("no transition resolver")
	}
	txID, currency, err := d.ResolveTransition(ctx, r.TransitionID)
	if err != nil {
		return err
	}
	if !d.Policy.IsManaged(currency) {
		r.Status, r.Note = store.InboxIgnored, "currency "+currency+" is not managed"
		return nil
	}
	r.WorkflowID = workflows.RehiveTxWorkflowID(txID)
	r.Signal = workflows.SignalRehiveEvent
	r.Arg = workflows.RehiveEvent{EventID: r.EventID, Event: r.EventType, TxID: txID, TransitionID: r.TransitionID, Currency: currency}
	r.Start = &Start{Workflow: workflows.RehiveTxWorkflowName, Input: workflows.RehiveTxInput{TxID: txID, StallTimeout: d.Policy.Stall}}
	return nil
}

// Relay delivers events still pending (Temporal was down, or the process
// stopped between recording and delivering) until ctx ends.
func (d *Deliverer) Relay(ctx context.Context, every, minAge time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		d.RelayOnce(ctx, minAge)
	}
}

// Relay batches: each claimed batch is leased for as long as its deliveries
// may take, so a relay killed mid-batch holds at most relayBatch events, for
// at most relayBatch×relayPerEvent, before another replica takes them.
const (
	relayBatch    = 10
	relayPerEvent = 5 * time.Second
	relayBatches  = 10 // per pass
)

// RelayOnce makes one pass over the events that are due, a leased batch at
// a time, so several API replicas can relay side by side.
func (d *Deliverer) RelayOnce(ctx context.Context, minAge time.Duration) {
	if breakage.On(breakage.RelayOff) {
		return
	}
	// A relay that cannot reach Temporal claims nothing: it would only push
	// the events' next attempts back while a healthy replica could deliver.
	hctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	_, err := d.Temporal.CheckHealth(hctx, &client.CheckHealthRequest{})
	cancel()
	if err != nil {
		return
	}
	for range relayBatches {
		n, err := d.relayBatch(ctx, minAge)
		if err != nil {
			d.Logger.Warn("relay: claim pending webhooks", "error", err)
			return
		}
		if n < relayBatch || ctx.Err() != nil {
			return
		}
	}
}

// relayBatch claims and delivers one batch; it returns how many it claimed.
func (d *Deliverer) relayBatch(ctx context.Context, minAge time.Duration) (int, error) {
	events, err := d.Store.ClaimPendingWebhooks(ctx, minAge, relayBatch*relayPerEvent, relayBatch)
	if err != nil {
		return 0, err
	}
	for _, ev := range events {
		r, err := RouteEvent(ev.Provider, ev.Payload, d.Policy)
		if err != nil {
			_ = d.Store.MarkInbox(ctx, ev.ID, store.InboxUnroutable, "unparseable: "+err.Error())
			continue
		}
		dctx, cancel := context.WithTimeout(ctx, relayPerEvent)
		if err := d.Deliver(dctx, ev, r); err != nil {
			d.Logger.Warn("relay: delivery failed; will retry", "provider", ev.Provider, "event_id", ev.EventID, "error", err)
		}
		cancel()
	}
	return len(events), nil
}
