package integration

import (
	"context"
	"testing"

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

	env.App.ReconcileOrders(ctx, 0)

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
}
