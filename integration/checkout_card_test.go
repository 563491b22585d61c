package integration

import (
	"net/http"
	"testing"
	"time"

	"github.com/payflow/payflow/testenv"
	"github.com/payflow/payflow/workflows"
)

func TestCardApprovedIsFulfilled(t *testing.T) {
	t.Parallel()
	sku := product(t, 2500, 10)
	order := uid("ord")
	createCheckout(t, checkoutBody(order, sku, 2, "card", cardToken(t, cardApproved)))
	st := waitStatus(t, order, 20*time.Second, workflows.StatusFulfilled, workflows.StatusFailed)
	if st.Status != workflows.StatusFulfilled || st.Amount != 5000 {
		t.Fatalf("want fulfilled 5000, got %+v", st)
	}
	if stock, reserved := getProduct(t, sku); stock != 8 || reserved != 0 {
		t.Fatalf("stock %d reserved %d, want 8 and 0", stock, reserved)
	}
	var pays []sandboxPayment
	waitFor(t, "payment captured on the sandbox", func() bool {
		pays = ckoPayments(t, order)
		return len(pays) == 1 && pays[0].Captured == 5000
	})
	if st.Payment.ProviderPaymentID != pays[0].ID {
		t.Fatalf("payment id %q, sandbox has %q", st.Payment.ProviderPaymentID, pays[0].ID)
	}
	// Paid means captured: the order was paid on the capture, which the
	// sandbox sends after payment_approved.
	if st.Payment.Status != "Captured" {
		t.Fatalf("fulfilled with payment status %q, want Captured", st.Payment.Status)
	}
	recordHistory(t, "card_captured", order)
}

func TestCardDeclinedFailsAndReleasesStock(t *testing.T) {
	t.Parallel()
	for _, card := range []string{cardDeclined, cardInsufficient} {
		sku := product(t, 1000, 5)
		order := uid("ord")
		createCheckout(t, checkoutBody(order, sku, 3, "card", cardToken(t, card)))
		st := waitStatus(t, order, 20*time.Second, workflows.StatusFulfilled, workflows.StatusFailed)
		if st.Status != workflows.StatusFailed || st.FailureReason != workflows.ReasonPaymentDeclined {
			t.Fatalf("card %s: want failed payment_declined, got %s %q", card, st.Status, st.FailureReason)
		}
		if stock, reserved := getProduct(t, sku); stock != 5 || reserved != 0 {
			t.Fatalf("stock %d reserved %d, want 5 and 0", stock, reserved)
		}
		for _, p := range ckoPayments(t, order) {
			if p.Captured != 0 {
				t.Fatalf("declined payment captured: %+v", p)
			}
		}
	}
}

func TestThreeDSecure(t *testing.T) {
	t.Parallel()
	for _, outcome := range []string{"approved", "declined"} {
		sku := product(t, 1500, 3)
		order := uid("ord")
		createCheckout(t, checkoutBody(order, sku, 1, "card", cardToken(t, card3DS)))
		st := waitStatus(t, order, 20*time.Second, workflows.StatusRequiresAction)
		if st.Payment.RedirectURL == "" {
			t.Fatalf("requires_action without redirect_url: %+v", st)
		}
		r := env.SandboxCall(t, http.MethodPost, "/sandbox/checkoutcom/_control/3ds/"+st.Payment.ProviderPaymentID, map[string]string{"outcome": outcome})
		if r.Status >= 300 {
			t.Fatalf("3ds control: %d %s", r.Status, r.Body)
		}
		want := map[string]workflows.CheckoutStatus{"approved": workflows.StatusFulfilled, "declined": workflows.StatusFailed}[outcome]
		st = waitStatus(t, order, 20*time.Second, workflows.StatusFulfilled, workflows.StatusFailed)
		if st.Status != want {
			t.Fatalf("3ds %s: want %s, got %+v", outcome, want, st)
		}
		wantStock := map[string]int64{"approved": 2, "declined": 3}[outcome]
		if stock, reserved := getProduct(t, sku); stock != wantStock || reserved != 0 {
			t.Fatalf("3ds %s: stock %d reserved %d", outcome, stock, reserved)
		}
	}
}

// Every webhook is delivered three times and out of order: the outcome is
// the same as with a clean delivery, and each event is recorded once.
func TestDuplicateAndReorderedWebhooks(t *testing.T) {
	// Faults are global to the sandbox: not parallel with other card tests.
	setFaults(t, "checkoutcom", map[string]any{"duplicate_webhooks": true, "reorder_webhooks": true})
	defer setFaults(t, "checkoutcom", map[string]any{})
	sku := product(t, 700, 4)
	orders := []string{uid("ord"), uid("ord")}
	for _, order := range orders {
		createCheckout(t, checkoutBody(order, sku, 1, "card", cardToken(t, cardApproved)))
	}
	for _, order := range orders {
		st := waitStatus(t, order, 30*time.Second, workflows.StatusFulfilled, workflows.StatusFailed)
		if st.Status != workflows.StatusFulfilled {
			t.Fatalf("%s: %+v", order, st)
		}
		if n := countSteps(st, workflows.StatusPaid); n != 1 {
			t.Fatalf("paid applied %d times", n)
		}
	}
	env.Sandbox.Flush()
	if stock, reserved := getProduct(t, sku); stock != 2 || reserved != 0 {
		t.Fatalf("stock %d reserved %d, want 2 and 0", stock, reserved)
	}
	// Each event id is in the inbox exactly once, however often it came.
	var inbox struct {
		Items []struct {
			EventID string `json:"event_id"`
		}
	}
	env.API(t, http.MethodGet, "/v1/webhooks/inbox?provider=checkoutcom&limit=500", nil).JSON(t, &inbox)
	seen := map[string]int{}
	for _, it := range inbox.Items {
		seen[it.EventID]++
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("event %s recorded %d times", id, n)
		}
	}
}

// countSteps counts the step's timeline entries, repeats included.
func countSteps[S ~string](st workflows.CheckoutState, step S) int {
	n := 0
	for _, e := range st.Timeline {
		if e.Step == string(step) {
			n += 1 + e.Repeats
		}
	}
	return n
}

func TestForgedWebhookIsRejected(t *testing.T) {
	t.Parallel()
	body := `{"id":"evt_forged","type":"payment_captured","data":{"id":"pay_x","reference":"ord_forged","amount":100,"currency":"USD"}}`
	for _, h := range []map[string]string{
		{},
		{"Authorization": "wrong", "Cko-Signature": "00"},
		{"Authorization": env.Config.CheckoutCom.WebhookAuthKey, "Cko-Signature": "deadbeef"},
	} {
		if r := callRaw(t, "/webhooks/checkoutcom", body, h); r.Status != http.StatusUnauthorized {
			t.Fatalf("forged webhook answered %d", r.Status)
		}
	}
	if r := callRaw(t, "/webhooks/rehive", `{"id":1,"event":"transaction.update","data":{}}`, map[string]string{"Authorization": "Secret nope"}); r.Status != http.StatusUnauthorized {
		t.Fatalf("forged rehive webhook answered %d", r.Status)
	}
	if r := callRaw(t, "/webhooks/ledger", `{"id":"evt_1","type":"transaction.updated","data":{"id":"x"}}`, map[string]string{"Ledger-Signature": "t=1,v1=00"}); r.Status != http.StatusUnauthorized {
		t.Fatalf("forged ledger webhook answered %d", r.Status)
	}
	var inbox struct{ Items []any }
	env.API(t, http.MethodGet, "/v1/webhooks/inbox?provider=checkoutcom&status=unroutable", nil).JSON(t, &inbox)
	for _, it := range inbox.Items {
		if m, _ := it.(map[string]any); m["event_id"] == "evt_forged" {
			t.Fatal("forged event was recorded")
		}
	}
}

// A payment that succeeded while its webhooks were lost is found by asking
// the provider at the payment timeout: fulfilled, not expired.
func TestLostWebhookFulfilledAtTimeout(t *testing.T) {
	setFaults(t, "checkoutcom", map[string]any{"drop_webhooks": true})
	defer setFaults(t, "checkoutcom", map[string]any{})
	sku := product(t, 900, 2)
	order := uid("ord")
	createCheckout(t, checkoutBody(order, sku, 1, "card", cardToken(t, cardApproved)))
	st := waitStatus(t, order, 40*time.Second, workflows.StatusFulfilled, workflows.StatusExpired, workflows.StatusFailed)
	if st.Status != workflows.StatusFulfilled || !hasStep(st, "timeout_check") {
		t.Fatalf("want fulfilled after the timeout check, got %+v", st)
	}
}

func TestCancelBeforePaymentAndAfterCapture(t *testing.T) {
	t.Parallel()
	sku := product(t, 1200, 5)

	before := uid("ord")
	createCheckout(t, checkoutBody(before, sku, 2, "rehive", ""))
	waitStatus(t, before, 20*time.Second, workflows.StatusAwaitingPayment)
	if r := env.API(t, http.MethodPost, "/v1/checkouts/"+before+"/cancel", nil); r.Status != http.StatusAccepted {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	waitStatus(t, before, 20*time.Second, workflows.StatusCancelled)
	if stock, reserved := getProduct(t, sku); stock != 5 || reserved != 0 {
		t.Fatalf("after cancel: stock %d reserved %d", stock, reserved)
	}
	if r := env.API(t, http.MethodPost, "/v1/checkouts/"+before+"/cancel", nil); r.Status != http.StatusConflict {
		t.Fatalf("second cancel: want 409, got %d", r.Status)
	}

	after := uid("ord")
	createCheckout(t, checkoutBody(after, sku, 1, "card", cardToken(t, cardApproved)))
	waitStatus(t, after, 20*time.Second, workflows.StatusFulfilled)
	waitFor(t, "capture", func() bool { p := ckoPayments(t, after); return len(p) == 1 && p[0].Captured > 0 })
	if r := env.API(t, http.MethodPost, "/v1/checkouts/"+after+"/cancel", nil); r.Status != http.StatusAccepted {
		t.Fatalf("cancel after capture: %d %s", r.Status, r.Body)
	}
	st := waitStatus(t, after, 20*time.Second, workflows.StatusRefunded)
	if st.Payment.RefundID == "" {
		t.Fatalf("no refund id: %+v", st)
	}
	waitFor(t, "refund on the sandbox", func() bool { p := ckoPayments(t, after); return len(p) == 1 && p[0].Refunded == 1200 })
	if stock, reserved := getProduct(t, sku); stock != 5 || reserved != 0 {
		t.Fatalf("after refund: stock %d reserved %d", stock, reserved)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func callRaw(t *testing.T, path, body string, headers map[string]string) testenv.Response {
	t.Helper()
	return testenv.Call(t, http.MethodPost, env.APIURL+path, body, headers)
}
