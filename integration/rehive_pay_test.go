package integration

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/payflow/payflow/workflows"
)

// Each pay attempt has its own Rehive idempotency key (Rehive replays
// refusals under a key), so what stops a repeated pay — a retry after a lost
// answer, a double click, several at once — from paying twice is the
// per-order lock and the look for a transfer already posted.
func TestWalletPayRepeatedPaysOnce(t *testing.T) {
	sku := product(t, 1250, 2)
	order := uid("ord")
	createCheckout(t, checkoutBody(order, sku, 1, "rehive", ""))
	waitStatus(t, order, 20*time.Second, workflows.StatusAwaitingPayment)
	cust := rehiveCustomer(t, map[string]int64{"USD": 100000})
	before := rehiveBalance(t, cust, "USD")
	pay := func() int {
		return env.API(t, http.MethodPost, "/v1/checkouts/"+order+"/rehive/pay", map[string]string{"token": cust.Token, "account": cust.Account}).Status
	}

	if got := pay(); got != http.StatusAccepted {
		t.Fatalf("pay: %d", got)
	}
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if got := pay(); got != http.StatusAccepted && got != http.StatusConflict {
				t.Errorf("repeated pay: %d", got)
			}
		}()
	}
	wg.Wait()

	if st := waitStatus(t, order, 30*time.Second, workflows.StatusFulfilled, workflows.StatusFailed, workflows.StatusExpired); st.Status != workflows.StatusFulfilled {
		t.Fatalf("want fulfilled, got %+v", st)
	}
	credits := 0
	for _, tx := range rehiveTxs(t, order) {
		if tx["tx_type"] == "credit" && tx["status"] != "Failed" {
			credits++
		}
	}
	if after := rehiveBalance(t, cust, "USD"); before-after != 1250 || credits != 1 {
		t.Fatalf("customer charged %v in %d credits, want 1250 in 1", before-after, credits)
	}
}
