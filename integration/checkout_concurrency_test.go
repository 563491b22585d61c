package integration

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/payflow/payflow/workflows"
)

// 50 concurrent checkouts of a product with 10 in stock: exactly 10 are
// fulfilled, 40 fail out_of_stock without any charge, and stock ends at 0.
func TestConcurrentCheckoutsNeverOversell(t *testing.T) {
	sku := product(t, 300, 10)
	const n = 50
	orders := make([]string, n)
	tokens := make([]string, n)
	for i := range orders {
		orders[i] = uid("ord")
		tokens[i] = cardToken(t, cardApproved)
	}
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := range orders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := env.API(t, http.MethodPost, "/v1/checkouts", checkoutBody(orders[i], sku, 1, "card", tokens[i]))
			if r.Status != http.StatusCreated {
				errs <- string(r.Body)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatalf("create: %s", e)
	}
	counts := map[string]int{}
	for _, order := range orders {
		st := waitStatus(t, order, 90*time.Second, workflows.StatusFulfilled, workflows.StatusFailed)
		counts[string(st.Status)+"/"+st.FailureReason]++
		charged := 0
		for _, p := range ckoPayments(t, order) {
			if p.Captured > 0 || p.Status == "Authorized" {
				charged++
			}
		}
		if st.Status == workflows.StatusFailed && charged != 0 {
			t.Fatalf("%s failed but was charged", order)
		}
	}
	if counts["fulfilled/"] != 10 || counts["failed/out_of_stock"] != 40 {
		t.Fatalf("outcomes %v, want 10 fulfilled and 40 out_of_stock", counts)
	}
	if stock, reserved := getProduct(t, sku); stock != 0 || reserved != 0 {
		t.Fatalf("stock %d reserved %d, want 0 and 0", stock, reserved)
	}
}
