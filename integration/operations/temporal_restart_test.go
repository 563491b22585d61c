package operations

import (
	"net/http"
	"testing"
	"time"

	"github.com/payflow/payflow/testenv"
	"github.com/payflow/payflow/workflows"
)

// Temporal goes down while a Rehive checkout waits for payment, and the
// customer pays meanwhile: Rehive's webhook is still acknowledged at once and
// kept, and once Temporal is back the relay delivers it and the order is
// fulfilled.
func TestTemporalRestartLosesNothing(t *testing.T) {
	sku := "TR-" + testenv.RandomID(3)
	env.API(t, http.MethodPut, "/v1/products/"+sku, map[string]any{"name": "x", "price": 1500, "currency": "USD", "stock": 2})
	order := "ord_tr_" + testenv.RandomID(4)
	if r := env.API(t, http.MethodPost, "/v1/checkouts", map[string]any{"order_id": order, "currency": "USD",
		"lines": []map[string]any{{"sku": sku, "quantity": 1}}, "payment": map[string]any{"method": "rehive"}}); r.Status != http.StatusCreated {
		t.Fatalf("checkout: %d %s", r.Status, r.Body)
	}
	status := func() workflows.CheckoutStatus {
		var st workflows.CheckoutState
		env.API(t, http.MethodGet, "/v1/checkouts/"+order, nil).JSON(t, &st)
		return st.Status
	}
	testenv.Eventually(t, 20*time.Second, "awaiting_payment", func() bool { return status() == workflows.StatusAwaitingPayment })
	var merchant struct{ Email string }
	env.SandboxCall(t, http.MethodGet, "/sandbox/rehive/_control/merchant", nil).JSON(t, &merchant)
	customer := "tr_" + testenv.RandomID(3) + "@example.com"
	env.SandboxCall(t, http.MethodPost, "/sandbox/rehive/_control/users", map[string]any{"email": customer, "password": "pw", "balances": map[string]int64{"USD": 10000}})

	var inboxed int
	err := env.RestartTemporal(func() {
		r := env.SandboxCall(t, http.MethodPost, "/sandbox/rehive/_control/transactions", map[string]any{
			"user": customer, "tx_type": "debit", "currency": "USD", "amount": 1500, "partner": merchant.Email,
			"metadata": map[string]any{"order_id": order},
		})
		if r.Status >= 300 {
			t.Errorf("payment: %d %s", r.Status, r.Body)
			return
		}
		// The webhooks are answered and recorded while Temporal is down.
		testenv.Eventually(t, 20*time.Second, "the webhooks in the inbox", func() bool {
			var out struct {
				Items []struct {
					Status string `json:"status"`
				}
			}
			env.API(t, http.MethodGet, "/v1/webhooks/inbox?provider=rehive&status=pending", nil).JSON(t, &out)
			inboxed = len(out.Items)
			return inboxed > 0
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d Rehive webhooks waited in the inbox while Temporal was down", inboxed)
	testenv.Eventually(t, 60*time.Second, "fulfilled after Temporal is back", func() bool { return status() == workflows.StatusFulfilled })
}
