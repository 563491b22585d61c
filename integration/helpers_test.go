package integration

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/payflow/payflow/testenv"
	"github.com/payflow/payflow/workflows"
)

const (
	cardApproved     = "4242424242424242"
	cardDeclined     = "4000000000000002"
	card3DS          = "4000000000003220"
	cardInsufficient = "4000000000009995"
)

func uid(prefix string) string { return prefix + "_" + testenv.RandomID(5) }

func product(t *testing.T, price, stock int64) string { return env.Product(t, price, stock) }

func getProduct(t *testing.T, sku string) (stock, reserved int64) { return env.Stock(t, sku) }

func cardToken(t *testing.T, number string) string { return env.CardToken(t, number) }

func checkoutBody(orderID, sku string, qty int64, method, token string) map[string]any {
	payment := map[string]any{"method": method}
	if token != "" {
		payment["processor_token"] = token
	}
	return map[string]any{
		"order_id": orderID, "currency": "USD",
		"lines":    []map[string]any{{"sku": sku, "quantity": qty}},
		"customer": map[string]any{"email": "ada@example.com"},
		"payment":  payment,
	}
}

func createCheckout(t *testing.T, body map[string]any) {
	t.Helper()
	r := env.API(t, http.MethodPost, "/v1/checkouts", body)
	if r.Status != http.StatusCreated {
		t.Fatalf("create checkout: %d %s", r.Status, r.Body)
	}
}

func getCheckout(t *testing.T, orderID string) workflows.CheckoutState {
	t.Helper()
	var st workflows.CheckoutState
	r := env.API(t, http.MethodGet, "/v1/checkouts/"+orderID, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("get checkout: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &st)
	return st
}

// waitStatus waits for the checkout to reach one of the statuses.
func waitStatus(t *testing.T, orderID string, timeout time.Duration, statuses ...workflows.CheckoutStatus) workflows.CheckoutState {
	t.Helper()
	var st workflows.CheckoutState
	testenv.Eventually(t, timeout, fmt.Sprintf("%s to reach %v (last: %+v)", orderID, statuses, &st), func() bool {
		st = getCheckout(t, orderID)
		for _, s := range statuses {
			if st.Status == s {
				return true
			}
		}
		return false
	})
	return st
}

type sandboxPayment struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Captured  int64  `json:"captured"`
	Refunded  int64  `json:"refunded"`
	Voided    int64  `json:"voided"`
	Reference string `json:"reference"`
}

func ckoPayments(t *testing.T, reference string) []sandboxPayment {
	t.Helper()
	var out struct{ Payments []sandboxPayment }
	env.SandboxCall(t, http.MethodGet, "/sandbox/checkoutcom/_control/payments?reference="+reference, nil).JSON(t, &out)
	return out.Payments
}

func setFaults(t *testing.T, provider string, faults map[string]any) {
	env.SetFaults(t, provider, faults)
}

func hasStep[S ~string](st workflows.CheckoutState, step S) bool {
	for _, e := range st.Timeline {
		if e.Step == string(step) {
			return true
		}
	}
	return false
}
