package checkoutcom

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// Partial refunds as Checkout.com does them: each with its amount, at most
// what is captured and not refunded yet (422 refund_amount_exceeds_balance),
// the payment Partially Refunded until nothing is left, then Refunded (and a
// refund then 403); the control list shows exactly the refunded amounts.
func TestPartialRefunds(t *testing.T) {
	_, base := newTestSandbox(t, Config{})
	st, _, pay := call(t, "POST", base+"/payments", func() map[string]any {
		b := paymentBody(tokenFor(t, base, "4242424242424242"))
		b["capture"] = true
		return b
	}())
	if st != http.StatusCreated {
		t.Fatalf("payment: %d %v", st, pay)
	}
	id := pay["id"].(string)
	waitPayment := func(status string) map[string]any {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			_, _, p := call(t, "GET", base+"/payments/"+id, nil)
			if p["status"] == status {
				return p
			}
			if time.Now().After(deadline) {
				t.Fatalf("payment %s: %v, want %s", id, p["status"], status)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitPayment(statusCaptured)
	refund := func(amount int64) (int, map[string]any) {
		st, _, out := call(t, "POST", base+"/payments/"+id+"/refunds", map[string]any{"amount": amount, "reference": "ord_1"})
		return st, out
	}

	if st, out := refund(300); st != http.StatusAccepted || out["action_id"] == nil {
		t.Fatalf("refund 300: %d %v", st, out)
	}
	p := waitPayment(statusPartiallyRefunded)
	bal, _ := p["balances"].(map[string]any)
	if bal["total_refunded"] != float64(300) || bal["available_to_refund"] != float64(700) {
		t.Fatalf("balances after 300 of 1000: %v", bal)
	}
	if st, out := refund(701); st != http.StatusUnprocessableEntity || fmt.Sprint(codes(out)) != "[refund_amount_exceeds_balance]" {
		t.Fatalf("refund 701 of 700 left: %d %v", st, out)
	}
	if st, out := refund(700); st != http.StatusAccepted {
		t.Fatalf("refund 700: %d %v", st, out)
	}
	waitPayment(statusRefunded)
	if st, _ := refund(1); st != http.StatusForbidden {
		t.Fatalf("refund of a refunded payment: %d, want 403", st)
	}

	_, _, list := call(t, "GET", base+"/_control/payments?reference=ord_1", nil)
	ps, _ := list["payments"].([]any)
	if len(ps) != 1 {
		t.Fatalf("control list: %v", list)
	}
	entry := ps[0].(map[string]any)
	var refunds []any
	for _, a := range entry["actions"].([]any) {
		if a := a.(map[string]any); a["type"] == actionRefund {
			refunds = append(refunds, a["amount"])
		}
	}
	if entry["refunded"] != float64(1000) || fmt.Sprint(refunds) != "[300 700]" {
		t.Fatalf("control list shows refunded %v in %v, want 1000 in [300 700]", entry["refunded"], refunds)
	}
}
