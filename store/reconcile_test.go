package store

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// Events that reached a closed workflow are leased to one reconciliation at
// a time, come back after a deferral, and never again once settled.
func TestClosedWorkflowEventsLeasedDeferredFinished(t *testing.T) {
	s := cmTestStore(t)
	ctx := context.Background()
	ev, _, err := s.RecordWebhook(ctx, InboxEvent{Provider: "ledger", EventID: "evt_closed", EventType: "transaction.updated", Payload: json.RawMessage(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.MarkInboxClosed(ctx, ev.ID, "ledger-deposit/ltx_1", "closed"); err != nil {
		t.Fatal(err)
	}
	got, err := s.ClaimClosedWorkflowEvents(ctx, time.Minute, 10)
	if err != nil || len(got) != 1 || got[0].WorkflowID.String != "ledger-deposit/ltx_1" || got[0].Status != InboxClosedWorkflow {
		t.Fatalf("claim: %+v %v", got, err)
	}
	if again, _ := s.ClaimClosedWorkflowEvents(ctx, time.Minute, 10); len(again) != 0 {
		t.Fatalf("a leased event was claimed twice: %+v", again)
	}
	// Deferred: due again after its backoff (attempts 2 -> 4 s).
	if err := s.DeferInboxReconcile(ctx, ev.ID, "not final"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE webhook_inbox SET next_attempt_at = now() WHERE id = $1`, ev.ID); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.ClaimClosedWorkflowEvents(ctx, time.Minute, 10); len(again) != 1 {
		t.Fatalf("a deferred event did not come back: %+v", again)
	}
	if err := s.FinishInboxReconcile(ctx, ev.ID, "done"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE webhook_inbox SET next_attempt_at = now() WHERE id = $1`, ev.ID); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.ClaimClosedWorkflowEvents(ctx, time.Minute, 10); len(again) != 0 {
		t.Fatalf("a settled event came back: %+v", again)
	}
	// The same event delivered again is still a duplicate.
	if _, inserted, err := s.RecordWebhook(ctx, InboxEvent{Provider: "ledger", EventID: "evt_closed", EventType: "transaction.updated", Payload: json.RawMessage(`{}`)}); err != nil || inserted {
		t.Fatalf("redelivery: inserted=%v %v", inserted, err)
	}
}

// An order update records its action and counts it in the same
// transaction; a mutate that changes nothing writes and counts nothing.
func TestReconcileOrderUpdateCountsActions(t *testing.T) {
	s := cmTestStore(t)
	ctx := context.Background()
	if _, _, err := s.CreateOrder(ctx, Order{OrderID: "ord_rec", Status: "expired", Amount: 100, Currency: "USD", PaymentMethod: "card", RequestHash: "h", WorkflowID: "checkout/ord_rec"}); err != nil {
		t.Fatal(err)
	}
	err := s.ReconcileOrderUpdate(ctx, "ord_rec", "reconcile_refunded", "pay_1", func(o *Order) error {
		o.Status = "refunded"
		o.State = json.RawMessage(`{"order_id":"ord_rec","status":"refunded"}`)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.ReconcileOrderUpdate(ctx, "ord_rec", "reconcile_refunded", "again", func(*Order) error { return ErrNotChanged })
	if !errors.Is(err, ErrNotChanged) {
		t.Fatalf("no-op update: %v", err)
	}
	o, _ := s.GetOrder(ctx, "ord_rec")
	if o.Status != "refunded" {
		t.Fatalf("order: %+v", o)
	}
	counts, err := s.ReconcileCounts(ctx)
	if err != nil || len(counts) != 1 || counts[0] != (ReconcileCount{Kind: ReconcileOrder, Action: "reconcile_refunded", N: 1}) {
		t.Fatalf("counts: %+v %v", counts, err)
	}
	if ok, _ := s.HasReconcileAction(ctx, ReconcileOrder, "ord_rec", "reconcile_refunded", "pay_"); !ok {
		t.Fatal("the action is not found by its detail")
	}
	if err := s.MarkSettled(ctx, ReconcileOrder, "ord_rec", "settled"); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSettled(ctx, ReconcileOrder, "ord_rec", "settled"); err != nil {
		t.Fatalf("settled twice: %v", err)
	}
}
