package rehive

import (
	"net/http"
	"testing"
)

// A partial reversal as payflow makes it: one Complete collection debiting
// the merchant and crediting the payer the same amount; balances move by
// exactly that amount, the control list shows it, and a debit beyond the
// merchant's balance is refused whole (nothing moves).
func TestPartialReversalCollection(t *testing.T) {
	h := newHarness(t)
	_, merchant := h.user("shop@example.com", map[string]int64{"USD": 2500})
	_, payer := h.user("ada@example.com", map[string]int64{"USD": 0})
	reversal := func(id string, amount int64) answer {
		return h.do("POST", "/3/admin/transaction-collections/", "adm", map[string]any{
			"id": id, "status": "Complete",
			"transactions": []any{
				map[string]any{"tx_type": "debit", "amount": amount, "currency": "USD", "account": merchant, "status": "Complete", "metadata": map[string]any{"refund_of": "tx_1"}},
				map[string]any{"tx_type": "credit", "amount": amount, "currency": "USD", "account": payer, "status": "Complete", "metadata": map[string]any{"refund_of": "tx_1"}},
			}})
	}
	if a := reversal("7e0b9a52-0000-5000-8000-000000000001", 700); a.status != http.StatusCreated || data(a)["status"] != "Complete" {
		t.Fatalf("reversal of 700: %d %v", a.status, a.body)
	}
	if a := reversal("7e0b9a52-0000-5000-8000-000000000002", 1801); a.status != http.StatusBadRequest {
		t.Fatalf("a reversal beyond the merchant's 1800: %d %v", a.status, a.body)
	}
	balance := func(email string) float64 {
		t.Helper()
		a := h.do("GET", "/3/accounts/", h.userToken(email), nil)
		for _, c := range data(a)["results"].([]any)[0].(map[string]any)["currencies"].([]any) {
			if c := c.(map[string]any); c["currency"].(map[string]any)["code"] == "USD" {
				return c["balance"].(float64)
			}
		}
		t.Fatalf("no USD balance for %s", email)
		return 0
	}
	if m, p := balance("shop@example.com"), balance("ada@example.com"); m != 1800 || p != 700 {
		t.Fatalf("balances merchant %v payer %v, want 1800 and 700", m, p)
	}
	var amounts []float64
	for _, tx := range h.do("GET", "/_control/transactions", "", nil).body["transactions"].([]any) {
		tx := tx.(map[string]any)
		if md, _ := tx["metadata"].(map[string]any); md != nil && md["refund_of"] == "tx_1" {
			amounts = append(amounts, tx["amount"].(float64))
		}
	}
	if len(amounts) != 2 || amounts[0] != -700 || amounts[1] != 700 {
		t.Fatalf("control list of the reversal: %v, want the debit (-700, signed as on Rehive) and the credit of 700", amounts)
	}
}
