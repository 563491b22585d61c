package activities

import (
	"encoding/json"
	"testing"

	"github.com/payflow/payflow/store"
	"github.com/payflow/payflow/workflows"
)

// TestKeptPayment: the reconciliation never sends back a payment the order
// kept or its checkout already returned in parts (a reversal keyed by the
// whole payment would not see the parts and would return it again).
func TestKeptPayment(t *testing.T) {
	order := func(status workflows.CheckoutStatus, refunds []workflows.Refund) store.Order {
		st := workflows.CheckoutState{OrderID: "ord_1", Status: status, Refunds: refunds,
			Payment: workflows.PaymentState{Method: "rehive", ProviderPaymentID: "tx_1"}}
		raw, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		return store.Order{OrderID: "ord_1", Status: status, State: raw}
	}
	part := []workflows.Refund{{Amount: 700}}
	for _, c := range []struct {
		name string
		o    store.Order
		want string
	}{
		{"fulfilled", order(workflows.StatusFulfilled, nil), "tx_1"},
		{"partially refunded", order(workflows.StatusPartiallyRefunded, part), "tx_1"},
		{"refunded in parts", order(workflows.StatusRefunded, part), "tx_1"},
		{"cancelled after a partial refund", order(workflows.StatusCancelled, part), "tx_1"},
		{"needs attention after a partial refund", order(workflows.StatusNeedsAttention, part), "tx_1"},
		{"expired unpaid", order(workflows.StatusExpired, nil), ""},
		{"failed, payment not kept", order(workflows.StatusFailed, nil), ""},
	} {
		if got := keptPayment(c.o); got != c.want {
			t.Errorf("%s: keptPayment = %q, want %q", c.name, got, c.want)
		}
	}
}
