package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/payflow/payflow/providers/checkoutcom"
	ckosb "github.com/payflow/payflow/sandbox/checkoutcom"
	"github.com/payflow/payflow/workflows"
)

// A partial refund whose answer is lost in a 5xx (Checkout.com acted, and
// keeps no 5xx under the key) is retried: the retry must find the refund
// made, not refund again.
func TestRefundCardPartRetryAfterLostAnswerRefundsOnce(t *testing.T) {
	sb := ckosb.New(ckosb.Config{SecretKey: "sk_test"})
	defer sb.Close()
	srv := httptest.NewServer(sb.Handler())
	defer srv.Close()
	cko := checkoutcom.New(checkoutcom.Config{BaseURL: srv.URL + ckosb.Prefix, SecretKey: "sk_test", ProcessingChannelID: "pc_" + strings.Repeat("a", 26)})
	a := &Checkout{CheckoutCom: cko}
	ctx := context.Background()
	post := func(path string, body any, out any) {
		t.Helper()
		raw, _ := json.Marshal(body)
		resp, err := http.Post(srv.URL+ckosb.Prefix+path, "application/json", bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		if out != nil {
			if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
				t.Fatal(err)
			}
		}
	}
	var tok struct{ Token string }
	post("/tokens", map[string]any{"type": "card", "number": "4242424242424242", "expiry_month": 12, "expiry_year": 2031, "cvv": "100"}, &tok)
	p, err := cko.RequestPayment(ctx, checkoutcom.PaymentRequest{Token: tok.Token, Amount: 1000, Currency: "USD", Reference: "ord_r", Capture: true}, "k-ord_r")
	if err != nil {
		t.Fatal(err)
	}
	refunded := func(want int64) {
		t.Helper()
		var got int64
		for range 100 {
			acts, err := cko.GetActions(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			got = 0
			for _, act := range acts {
				if act.Type == checkoutcom.ActionRefund && act.Approved {
					got += act.Amount
				}
			}
			if got == want {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("refunded %d, want %d", got, want)
	}
	for range 100 { // the capture is processed after the payment's answer
		if st, _ := a.GetCardPayment(ctx, workflows.CardPaymentInput{PaymentID: p.ID}); st.Status == "Captured" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	in := workflows.RefundCardPartInput{OrderID: "ord_r", PaymentID: p.ID, Amount: 300, Seq: 1, Attempt: 1}
	post("/_control/faults", map[string]any{"lose_answers_next": 1, "lose_mode": "5xx"}, nil)
	if _, err := a.RefundCardPart(ctx, in); err == nil {
		t.Fatal("the lost answer did not fail the call")
	}
	refunded(300)
	first, err := a.RefundCardPart(ctx, in)
	if err != nil || first.ID == "" {
		t.Fatalf("retry: %+v %v", first, err)
	}
	refunded(300)
	// The next refund of the order is a refund of its own.
	if _, err := a.RefundCardPart(ctx, workflows.RefundCardPartInput{OrderID: "ord_r", PaymentID: p.ID, Amount: 200, Seq: 2, Attempt: 1}); err != nil {
		t.Fatal(err)
	}
	refunded(500)
}
