package integration

import (
	"net/http"
	"testing"
	"time"

	"github.com/payflow/payflow/testenv"
	"github.com/payflow/payflow/workflows"
)

// The worker stops mid-checkout (after the charge, while 3-D Secure is
// pending); the customer completes 3-D Secure meanwhile; a new worker finishes
// the checkout, and the card was charged exactly once.
func TestWorkerRestartMidCheckout(t *testing.T) {
	sku := product(t, 4200, 1)
	order := uid("ord")
	createCheckout(t, checkoutBody(order, sku, 1, "card", cardToken(t, card3DS)))
	st := waitStatus(t, order, 20*time.Second, workflows.StatusRequiresAction)

	env.StopWorker()
	restarted := false
	defer func() {
		if !restarted {
			_ = env.StartWorker()
		}
	}()
	r := env.SandboxCall(t, http.MethodPost, "/sandbox/checkoutcom/_control/3ds/"+st.Payment.ProviderPaymentID, map[string]string{"outcome": "approved"})
	if r.Status >= 300 {
		t.Fatalf("3ds: %d %s", r.Status, r.Body)
	}
	env.Sandbox.Flush() // the webhooks are in the inbox
	// and signalled, right after their answer, with no worker running.
	testenv.Eventually(t, 10*time.Second, "the webhooks delivered", func() bool {
		var out struct{ Items []struct{ Status string } }
		env.API(t, http.MethodGet, "/v1/webhooks/inbox?order_id="+order, nil).JSON(t, &out)
		for _, it := range out.Items {
			if it.Status == "pending" {
				return false
			}
		}
		return len(out.Items) > 0
	})
	time.Sleep(500 * time.Millisecond)
	if got := getCheckout(t, order); got.Status == workflows.StatusFulfilled {
		t.Fatal("fulfilled without a worker")
	}
	if err := env.StartWorker(); err != nil {
		t.Fatal(err)
	}
	restarted = true
	st = waitStatus(t, order, 30*time.Second, workflows.StatusFulfilled, workflows.StatusFailed)
	if st.Status != workflows.StatusFulfilled {
		t.Fatalf("want fulfilled, got %+v", st)
	}
	pays := ckoPayments(t, order)
	if len(pays) != 1 {
		t.Fatalf("%d payments for the order, want exactly 1", len(pays))
	}
}
