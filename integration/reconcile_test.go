package integration

import (
	"context"
	"testing"
	"time"

	"github.com/payflow/payflow/store"
	"github.com/payflow/payflow/workflows"
)

// An order recorded while its workflow could not start, and never retried,
// is closed by the reconciler; one whose workflow runs is left alone.
func TestReconcilerClosesOrdersThatNeverStarted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	orphan := uid("ord")
	if _, _, err := env.App.Store.CreateOrder(ctx, store.Order{OrderID: orphan, Status: workflows.StatusPending, Amount: 100, Currency: "USD",
		PaymentMethod: "card", RequestHash: "h", WorkflowID: workflows.CheckoutWorkflowID(orphan)}); err != nil {
		t.Fatal(err)
	}
	if err := env.App.Store.PutPaymentToken(ctx, orphan, "tok_orphaned_token_000000000"); err != nil {
		t.Fatal(err)
	}
	sku := product(t, 100, 1)
	live := uid("ord")
	createCheckout(t, checkoutBody(live, sku, 1, "rehive", ""))

	// Recorded before the reconciliation's grace period for a slow start.
	if _, err := env.App.Store.DB().ExecContext(ctx, `UPDATE orders SET created_at = now() - interval '2 minutes' WHERE order_id = $1`, orphan); err != nil {
		t.Fatal(err)
	}
	reconcile(t)

	o, err := env.App.Store.GetOrder(ctx, orphan)
	if err != nil || o.Status != workflows.StatusFailed || o.FailureReason != "not_started" {
		t.Fatalf("orphan: %+v %v", o, err)
	}
	if _, err := env.App.Store.PaymentToken(ctx, orphan); err != store.ErrNotFound {
		t.Fatalf("the orphan's card token is still stored: %v", err)
	}
	if st := getCheckout(t, live); st.Status == workflows.StatusFailed {
		t.Fatalf("a live checkout was closed: %+v", st)
	}
	// The action is on the order's timeline, as the API serves it.
	if st := getCheckout(t, orphan); !hasStep(st, workflows.RecClosedUnstarted) {
		t.Fatalf("no %s on the timeline: %+v", workflows.RecClosedUnstarted, st.Timeline)
	}
}

// reconcile runs one reconciliation, as the schedule does, and waits for it.
func reconcile(t *testing.T) workflows.ReconcileReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := env.App.ReconcileNow(ctx)
	if err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	for _, p := range rep.Passes {
		if len(p.Errors) > 0 {
			t.Logf("reconcile pass %s: %v", p.Name, p.Errors)
		}
	}
	return rep
}
