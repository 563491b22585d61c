package integration

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/payflow/payflow/store"
	"github.com/payflow/payflow/testenv"
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

// An operator terminates a checkout while the customer is in 3-D Secure and
// the customer completes it anyway: the next reconciliation finds the order
// open with its workflow gone, refunds the capture (found by reference as
// well as by id), releases the stock and closes the order.
func TestTerminatedCheckoutSettledByReconciliation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sku := product(t, 1500, 3)
	order := uid("ord")
	createCheckout(t, checkoutBody(order, sku, 1, "card", cardToken(t, card3DS)))
	st := waitStatus(t, order, 20*time.Second, workflows.StatusRequiresAction)
	if err := env.App.Temporal.TerminateWorkflow(ctx, workflows.CheckoutWorkflowID(order), "", "operator: terminate"); err != nil {
		t.Fatal(err)
	}
	if r := env.SandboxCall(t, http.MethodPost, "/sandbox/checkoutcom/_control/3ds/"+st.Payment.ProviderPaymentID, map[string]string{"outcome": "approved"}); r.Status >= 300 {
		t.Fatalf("3ds: %d %s", r.Status, r.Body)
	}
	waitFor(t, "the capture on the sandbox", func() bool { p := ckoPayments(t, order); return len(p) == 1 && p[0].Captured == 1500 })

	testenv.Eventually(t, 90*time.Second, "the terminated order settled and refunded", func() bool {
		reconcile(t)
		if getCheckout(t, order).Status == workflows.StatusRefunded {
			return true
		}
		time.Sleep(time.Second)
		return false
	})
	st = getCheckout(t, order)
	for _, step := range []string{workflows.RecSettled, workflows.RecRefundRequested, workflows.RecRefunded} {
		if !hasStep(st, step) {
			t.Fatalf("no %s on the timeline: %+v", step, st.Timeline)
		}
	}
	if p := ckoPayments(t, order); len(p) != 1 || p[0].Refunded != 1500 {
		t.Fatalf("sandbox payments: %+v", p)
	}
	if stock, reserved := getProduct(t, sku); stock != 3 || reserved != 0 {
		t.Fatalf("stock %d reserved %d", stock, reserved)
	}
	// Settled for good: a later run does not act on it again.
	before, err := env.App.Store.ReconcileActions(ctx, store.ReconcileOrder, order)
	if err != nil {
		t.Fatal(err)
	}
	reconcile(t)
	if after, _ := env.App.Store.ReconcileActions(ctx, store.ReconcileOrder, order); len(after) != len(before) {
		t.Fatalf("a settled order was acted on again: %+v", after[len(before):])
	}
	// The registry /metrics serves (gathered directly: what it holds does not
	// depend on the HTTP layer's own metrics).
	families, _ := env.App.Registry.Gather()
	found := false
	for _, f := range families {
		if f.GetName() != "payflow_reconcile_actions_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			found = found || (labels["kind"] == store.ReconcileOrder && labels["action"] == workflows.RecRefunded && m.GetCounter().GetValue() >= 1)
		}
	}
	if !found {
		t.Fatalf("payflow_reconcile_actions_total lacks %s: %v", workflows.RecRefunded, families)
	}
}
