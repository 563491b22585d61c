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
	"github.com/payflow/payflow/providers/rehive"
	ckosb "github.com/payflow/payflow/sandbox/checkoutcom"
	rehivesb "github.com/payflow/payflow/sandbox/rehive"
	"github.com/payflow/payflow/workflows"
)

// VerifyRehivePayment is checked against the Rehive sandbox over HTTP: only
// a Complete credit to the merchant, for this order, in the order's currency
// and exact amount, pays it.
func TestVerifyRehivePayment(t *testing.T) {
	sb := rehivesb.New(rehivesb.Config{AdminToken: "admin", MerchantEmail: "merchant@shop.test", ManagedCurrencies: []string{"XLM"}})
	defer sb.Close()
	srv := httptest.NewServer(sb.Handler())
	defer srv.Close()
	base := srv.URL + "/sandbox/rehive"
	post := func(path string, body any) map[string]any {
		t.Helper()
		raw, _ := json.Marshal(body)
		resp, err := http.Post(base+path, "application/json", bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode >= 300 {
			t.Fatalf("%s: %d %v %v", path, resp.StatusCode, out, err)
		}
		return out
	}
	post("/_control/users", map[string]any{"email": "ada@example.com", "password": "pw", "balances": map[string]int64{"USD": 100000, "EUR": 100000}})
	// pay posts a transfer to the merchant and returns the merchant's credit leg.
	pay := func(order, currency string, amount int64, to string) (credit, debit string) {
		tx := post("/_control/transactions", map[string]any{"user": "ada@example.com", "tx_type": "debit", "currency": currency, "amount": amount, "partner": to, "metadata": map[string]any{"order_id": order}})
		return tx["partner"].(map[string]any)["id"].(string), tx["id"].(string)
	}
	a := &Checkout{Rehive: rehive.New(rehive.Config{BaseURL: base + "/3", AdminToken: "admin"}), Merchant: Merchant{Email: "merchant@shop.test"}}
	verify := func(order, tx string) workflows.RehivePaymentResult {
		t.Helper()
		res, err := a.VerifyRehivePayment(context.Background(), workflows.RehivePaymentInput{OrderID: order, TxID: tx, Amount: 2500, Currency: "USD"})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	good, goodDebit := pay("ord_1", "USD", 2500, "merchant@shop.test")
	if r := verify("ord_1", good); r.Outcome != workflows.RehivePaid || r.PayerEmail != "ada@example.com" {
		t.Fatalf("matching payment: %+v", r)
	}
	if r := verify("ord_1", goodDebit); r.Outcome != workflows.RehiveIgnored {
		t.Fatalf("the payer's debit leg: %+v", r)
	}
	if r := verify("ord_other", good); r.Outcome != workflows.RehiveMismatch || !strings.HasPrefix(r.Reason, "order_id_mismatch") || r.Refundable {
		t.Fatalf("another order's payment: %+v", r)
	}
	short, _ := pay("ord_2", "USD", 2400, "merchant@shop.test")
	if r := verify("ord_2", short); r.Outcome != workflows.RehiveMismatch || !strings.HasPrefix(r.Reason, "amount_mismatch") || !r.Refundable {
		t.Fatalf("short payment: %+v", r)
	}
	euro, _ := pay("ord_3", "EUR", 2500, "merchant@shop.test")
	if r := verify("ord_3", euro); r.Outcome != workflows.RehiveMismatch || !strings.HasPrefix(r.Reason, "currency_mismatch") || !r.Refundable {
		t.Fatalf("wrong currency: %+v", r)
	}
	post("/_control/users", map[string]any{"email": "eve@example.com", "password": "pw"})
	elsewhere, _ := pay("ord_4", "USD", 2500, "eve@example.com")
	if r := verify("ord_4", elsewhere); r.Outcome != workflows.RehiveMismatch || !strings.HasPrefix(r.Reason, "wrong_recipient") || r.Refundable {
		t.Fatalf("paid to someone else: %+v", r)
	}
	if _, err := a.VerifyRehivePayment(context.Background(), workflows.RehivePaymentInput{OrderID: "ord_1", TxID: "00000000-0000-0000-0000-000000000000", Amount: 2500, Currency: "USD"}); err == nil {
		t.Fatal("an unknown transaction must be an error")
	}
}

// The card activities against the Checkout.com sandbox over HTTP: a payment
// is found by its reference, and a refund counts only as its action in GET
// /actions says; a declined refund tried again gets a new key, and so a new
// action.
func TestCardPaymentLookupAndActionOutcomes(t *testing.T) {
	sb := ckosb.New(ckosb.Config{SecretKey: "sk_test"})
	defer sb.Close()
	srv := httptest.NewServer(sb.Handler())
	defer srv.Close()
	cko := checkoutcom.New(checkoutcom.Config{BaseURL: srv.URL + ckosb.Prefix, SecretKey: "sk_test", ProcessingChannelID: "pc_" + strings.Repeat("a", 26)})
	a := &Checkout{CheckoutCom: cko}
	ctx := context.Background()

	if res, err := a.FindCardPayment(ctx, workflows.FindCardPaymentInput{OrderID: "ord_none"}); err != nil || res.Found {
		t.Fatalf("no payment: %+v %v", res, err)
	}
	token := func(number string) string {
		raw, _ := json.Marshal(map[string]any{"type": "card", "number": number, "expiry_month": 12, "expiry_year": 2031, "cvv": "100"})
		resp, err := http.Post(srv.URL+ckosb.Prefix+"/tokens", "application/json", bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct{ Token string }
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
			t.Fatalf("token: %d %v", resp.StatusCode, err)
		}
		return out.Token
	}
	p, err := cko.RequestPayment(ctx, checkoutcom.PaymentRequest{Token: token("4000000000000267"), Amount: 1100, Currency: "USD", Reference: "ord_1", Capture: true}, "k-ord_1")
	if err != nil {
		t.Fatal(err)
	}
	found, err := a.FindCardPayment(ctx, workflows.FindCardPaymentInput{OrderID: "ord_1"})
	if err != nil || !found.Found || found.Count != 1 || found.Charge.PaymentID != p.ID || !found.Charge.Approved {
		t.Fatalf("lookup by reference: %+v %v", found, err)
	}
	waitCaptured := func() {
		for i := 0; i < 100; i++ {
			if st, _ := a.GetCardPayment(ctx, workflows.CardPaymentInput{PaymentID: p.ID}); st.Status == "Captured" {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatal("not captured")
	}
	waitCaptured()
	// outcome polls the action until Checkout.com has processed it.
	outcome := func(actionID string) workflows.CardActionResult {
		for i := 0; i < 200; i++ {
			res, err := a.GetCardAction(ctx, workflows.CardActionInput{PaymentID: p.ID, ActionID: actionID, Kind: "Refund"})
			if err != nil {
				t.Fatal(err)
			}
			if res.Found {
				return res
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("action %s never processed", actionID)
		return workflows.CardActionResult{}
	}
	first, err := a.RefundCard(ctx, workflows.CardPaymentInput{OrderID: "ord_1", PaymentID: p.ID, Amount: 1100, Attempt: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res := outcome(first.ID); res.Approved {
		t.Fatalf("this card's refunds are declined: %+v", res)
	}
	again, err := a.RefundCard(ctx, workflows.CardPaymentInput{OrderID: "ord_1", PaymentID: p.ID, Amount: 1100, Attempt: 1})
	if err != nil || again.ID != first.ID {
		t.Fatalf("the same attempt replays its key: %+v %v", again, err)
	}
	second, err := a.RefundCard(ctx, workflows.CardPaymentInput{OrderID: "ord_1", PaymentID: p.ID, Amount: 1100, Attempt: 2})
	if err != nil || second.ID == first.ID {
		t.Fatalf("a new attempt is a new action: %+v %v", second, err)
	}
	if res := outcome(second.ID); res.Approved {
		t.Fatalf("declined again: %+v", res)
	}
	if st, _ := a.GetCardPayment(ctx, workflows.CardPaymentInput{PaymentID: p.ID}); st.Status != "Captured" {
		t.Fatalf("declined refunds leave it captured, got %s", st.Status)
	}
}

func TestAttemptKey(t *testing.T) {
	for attempt, want := range map[int]string{0: "payflow-o-refund", 1: "payflow-o-refund", 2: "payflow-o-refund-2", 3: "payflow-o-refund-3"} {
		if got := attemptKey("o", "refund", attempt); got != want {
			t.Errorf("attempt %d: %s, want %s", attempt, got, want)
		}
	}
}

// FindRehivePayments names the merchant's credits for the order, not its
// other credits nor the payer's debit leg.
func TestFindRehivePayments(t *testing.T) {
	sb := rehivesb.New(rehivesb.Config{AdminToken: "admin", MerchantEmail: "merchant@shop.test"})
	defer sb.Close()
	srv := httptest.NewServer(sb.Handler())
	defer srv.Close()
	base := srv.URL + "/sandbox/rehive"
	post := func(path string, body any) map[string]any {
		t.Helper()
		raw, _ := json.Marshal(body)
		resp, err := http.Post(base+path, "application/json", bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode >= 300 {
			t.Fatalf("%s: %d %v %v", path, resp.StatusCode, out, err)
		}
		return out
	}
	post("/_control/users", map[string]any{"email": "ada@example.com", "password": "pw", "balances": map[string]int64{"USD": 100000}})
	since := time.Now().Add(-time.Minute)
	pay := func(order string) string {
		tx := post("/_control/transactions", map[string]any{"user": "ada@example.com", "tx_type": "debit", "currency": "USD", "amount": 500, "partner": "merchant@shop.test", "metadata": map[string]any{"order_id": order}})
		return tx["partner"].(map[string]any)["id"].(string)
	}
	mine := pay("ord_1")
	pay("ord_2")
	a := &Checkout{Rehive: rehive.New(rehive.Config{BaseURL: base + "/3", AdminToken: "admin"}), Merchant: Merchant{Email: "merchant@shop.test"}}
	res, err := a.FindRehivePayments(context.Background(), workflows.FindRehivePaymentsInput{OrderID: "ord_1", Since: since})
	if err != nil || len(res.TxIDs) != 1 || res.TxIDs[0] != mine {
		t.Fatalf("want [%s], got %+v %v", mine, res, err)
	}
	if res, err := a.FindRehivePayments(context.Background(), workflows.FindRehivePaymentsInput{OrderID: "ord_1", Since: time.Now().Add(time.Hour)}); err != nil || len(res.TxIDs) != 0 {
		t.Fatalf("nothing after since: %+v %v", res, err)
	}
}
