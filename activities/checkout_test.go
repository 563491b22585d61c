package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/payflow/payflow/providers/rehive"
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
