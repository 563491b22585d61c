package integration

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/payflow/payflow/testenv"
	"github.com/payflow/payflow/workflows"
)

// Refunds through POST /v1/checkouts/{id}/refunds, checked against what
// the sandboxes moved, and webhook replays that change nothing.

type refundAnswer struct {
	OrderID string `json:"order_id"`
	workflows.Refund
}

func postRefund(t *testing.T, order string, body map[string]any, key string) testenv.Response {
	t.Helper()
	headers := map[string]string{"Authorization": "Bearer " + env.Config.APIKeys[0]}
	if key != "" {
		headers["Idempotency-Key"] = key
	}
	return testenv.Call(t, http.MethodPost, env.APIURL+"/v1/checkouts/"+order+"/refunds", body, headers)
}

// refundOK posts a refund and waits for it to be confirmed by the provider.
func refundOK(t *testing.T, order string, body map[string]any, key string) workflows.Refund {
	t.Helper()
	r := postRefund(t, order, body, key)
	if r.Status != http.StatusAccepted {
		t.Fatalf("refund %v: %d %s", body, r.Status, r.Body)
	}
	var a refundAnswer
	r.JSON(t, &a)
	if a.Status == workflows.RefundPending {
		testenv.Eventually(t, 30*time.Second, "refund "+a.RefundID+" settled", func() bool {
			for _, x := range getCheckout(t, order).Refunds {
				if x.RefundID == a.RefundID && x.Status != workflows.RefundPending {
					a.Refund = x
					return true
				}
			}
			return false
		})
	}
	if a.Status != workflows.RefundSucceeded {
		t.Fatalf("refund %v ended %+v", body, a.Refund)
	}
	return a.Refund
}

// ckoRefunds are the amounts of the approved refund actions of the order's
// payment on the Checkout.com sandbox, oldest first.
func ckoRefunds(t *testing.T, reference string) (total int64, amounts []int64) {
	t.Helper()
	var out struct {
		Payments []struct {
			Refunded int64 `json:"refunded"`
			Actions  []struct {
				Type     string `json:"type"`
				Amount   int64  `json:"amount"`
				Approved bool   `json:"approved"`
			} `json:"actions"`
		} `json:"payments"`
	}
	env.SandboxCall(t, http.MethodGet, "/sandbox/checkoutcom/_control/payments?reference="+reference, nil).JSON(t, &out)
	if len(out.Payments) != 1 {
		t.Fatalf("%d payments for %s, want 1", len(out.Payments), reference)
	}
	amounts = []int64{}
	for _, a := range out.Payments[0].Actions {
		if a.Type == "Refund" && a.Approved {
			amounts = append(amounts, a.Amount)
		}
	}
	return out.Payments[0].Refunded, amounts
}

// The acceptance of issue 12 item 4: a partial refund, a second one, one
// beyond what is left (refused), then the rest; Checkout.com shows exactly
// those amounts; the order reads partially_refunded, then refunded.
func TestCardPartialRefunds(t *testing.T) {
	t.Parallel()
	sku := product(t, 1000, 5)
	order := uid("ord")
	createCheckout(t, checkoutBody(order, sku, 3, "card", cardToken(t, cardApproved)))
	waitStatus(t, order, 20*time.Second, workflows.StatusFulfilled)
	waitFor(t, "capture", func() bool { p := ckoPayments(t, order); return len(p) == 1 && p[0].Captured == 3000 })

	// One shirt back: 1000 refunded, one unit restocked.
	first := refundOK(t, order, map[string]any{"lines": []map[string]any{{"sku": sku, "quantity": 1}}, "reason": "returned one"}, "rf-"+order+"-1")
	if first.Amount != 1000 {
		t.Fatalf("first refund %+v, want 1000", first)
	}
	if stock, _ := getProduct(t, sku); stock != 3 {
		t.Fatalf("stock %d after restocking one of three sold from five, want 3", stock)
	}
	// The same Idempotency-Key answers the same refund.
	if r := postRefund(t, order, map[string]any{"lines": []map[string]any{{"sku": sku, "quantity": 1}}, "reason": "returned one"}, "rf-"+order+"-1"); r.Status != http.StatusAccepted || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("repeat: %d %s", r.Status, r.Body)
	}
	if st := getCheckout(t, order); st.Status != workflows.StatusPartiallyRefunded || len(st.Refunds) != 1 {
		t.Fatalf("after the first refund: %s, %d refunds", st.Status, len(st.Refunds))
	}

	refundOK(t, order, map[string]any{"amount": 1500, "reason": "late delivery"}, "")
	recordHistory(t, "card_partially_refunded", order)
	if r := postRefund(t, order, map[string]any{"amount": 501, "reason": "too much"}, ""); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("a refund beyond what is left: %d %s, want 422", r.Status, r.Body)
	}
	if r := postRefund(t, order, map[string]any{"lines": []map[string]any{{"sku": "NOT-IN-ORDER", "quantity": 1}}, "reason": "x"}, ""); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("a line the order does not hold: %d %s, want 422", r.Status, r.Body)
	}
	total, amounts := ckoRefunds(t, order)
	if total != 2500 || fmt.Sprint(amounts) != "[1000 1500]" {
		t.Fatalf("Checkout.com refunded %d in %v, want 2500 in [1000 1500]", total, amounts)
	}

	last := refundOK(t, order, map[string]any{"reason": "the rest"}, "")
	if last.Amount != 500 {
		t.Fatalf("the rest: %+v, want 500", last)
	}
	st := waitStatus(t, order, 20*time.Second, workflows.StatusRefunded)
	if len(st.Refunds) != 3 || !hasStep(st, string(workflows.StatusPartiallyRefunded)) || !hasStep(st, "refund_succeeded") {
		t.Fatalf("refunded order: %+v", st)
	}
	if total, amounts := ckoRefunds(t, order); total != 3000 || fmt.Sprint(amounts) != "[1000 1500 500]" {
		t.Fatalf("Checkout.com refunded %d in %v, want 3000 in [1000 1500 500]", total, amounts)
	}
	if r := postRefund(t, order, map[string]any{"amount": 1, "reason": "more"}, ""); r.Status != http.StatusConflict {
		t.Fatalf("a refund of a refunded order: %d %s, want 409", r.Status, r.Body)
	}
}

// A wallet order is refunded by Rehive reversals of the amounts asked; a
// cancel after a partial refund sends back the rest.
func TestWalletPartialRefundThenCancel(t *testing.T) {
	t.Parallel()
	sku := product(t, 1250, 3)
	order := uid("ord")
	createCheckout(t, checkoutBody(order, sku, 2, "rehive", ""))
	waitStatus(t, order, 20*time.Second, workflows.StatusAwaitingPayment)
	cust := rehiveCustomer(t, map[string]int64{"USD": 100000})
	if r := env.API(t, http.MethodPost, "/v1/checkouts/"+order+"/rehive/pay", map[string]string{"token": cust.Token, "account": cust.Account}); r.Status != http.StatusAccepted {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	waitStatus(t, order, 20*time.Second, workflows.StatusFulfilled)
	if bal := rehiveBalance(t, cust, "USD"); bal != 100000-2500 {
		t.Fatalf("balance %d after paying 2500", bal)
	}

	refundOK(t, order, map[string]any{"amount": 700, "reason": "discount"}, "")
	if st := getCheckout(t, order); st.Status != workflows.StatusPartiallyRefunded {
		t.Fatalf("after 700 of 2500: %s", st.Status)
	}
	if bal := rehiveBalance(t, cust, "USD"); bal != 100000-2500+700 {
		t.Fatalf("balance %d, want %d", bal, 100000-2500+700)
	}
	if r := env.API(t, http.MethodPost, "/v1/checkouts/"+order+"/cancel", nil); r.Status != http.StatusAccepted {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	st := waitStatus(t, order, 20*time.Second, workflows.StatusRefunded)
	if bal := rehiveBalance(t, cust, "USD"); bal != 100000 {
		t.Fatalf("balance %d after the rest came back, want 100000", bal)
	}
	if len(st.Refunds) != 2 || st.Refunds[1].Amount != 1800 {
		t.Fatalf("refunds %+v, want 700 then the rest 1800", st.Refunds)
	}
	// Exactly the refunded amounts went back, as two reversal credits.
	var out struct{ Transactions []map[string]any }
	env.SandboxCall(t, http.MethodGet, "/sandbox/rehive/_control/transactions", nil).JSON(t, &out)
	var credits []string
	for _, tx := range out.Transactions {
		if md, _ := tx["metadata"].(map[string]any); md != nil && md["refund_for_order"] == order && tx["tx_type"] == "credit" {
			credits = append(credits, fmt.Sprint(tx["amount"]))
		}
	}
	if fmt.Sprint(credits) != "[700 1800]" {
		t.Fatalf("reversal credits %v, want [700 1800]", credits)
	}
	if stock, _ := getProduct(t, sku); stock != 3 {
		t.Fatalf("stock %d: the cancel restocks the order", stock)
	}
}

// A recorded event replayed through POST /v1/webhooks/inbox/{id}/replay
// reaches the workflow again and changes nothing: same status, no second
// charge or refund, the same payment on Checkout.com.
func TestInboxReplayChangesNothing(t *testing.T) {
	t.Parallel()
	sku := product(t, 900, 2)
	order := uid("ord")
	createCheckout(t, checkoutBody(order, sku, 1, "card", cardToken(t, cardApproved)))
	waitStatus(t, order, 20*time.Second, workflows.StatusFulfilled)
	var page struct {
		Items []struct {
			ID        int64  `json:"id"`
			EventType string `json:"event_type"`
			Status    string `json:"status"`
		} `json:"items"`
	}
	var captured int64
	testenv.Eventually(t, 20*time.Second, "the capture webhook delivered", func() bool {
		env.API(t, http.MethodGet, "/v1/webhooks/inbox?order_id="+order+"&event_type=payment_captured", nil).JSON(t, &page)
		if len(page.Items) == 1 && page.Items[0].Status == "delivered" {
			captured = page.Items[0].ID
		}
		return captured != 0
	})
	before := getCheckout(t, order)
	payBefore := ckoPayments(t, order)

	for range 2 {
		r := env.API(t, http.MethodPost, fmt.Sprintf("/v1/webhooks/inbox/%d/replay", captured), nil)
		var rep struct {
			Status    string `json:"status"`
			Delivered bool   `json:"delivered"`
		}
		r.JSON(t, &rep)
		if r.Status != http.StatusAccepted || !rep.Delivered || rep.Status != "delivered" {
			t.Fatalf("replay: %d %s", r.Status, r.Body)
		}
	}
	// Wait for the workflow to have taken the signals in: the timeline
	// notes them.
	var after workflows.CheckoutState
	testenv.Eventually(t, 10*time.Second, "the replayed events noted", func() bool {
		after = getCheckout(t, order)
		return len(after.Timeline) > len(before.Timeline) || lastRepeats(after) > lastRepeats(before)
	})
	if after.Status != workflows.StatusFulfilled || after.Payment != before.Payment || len(after.Refunds) != 0 {
		t.Fatalf("after the replays: %+v, before %+v", after, before)
	}
	for _, e := range after.Timeline[len(before.Timeline):] {
		if e.Step != "webhook" {
			t.Errorf("a replay added %q to the timeline: %s", e.Step, e.Detail)
		}
	}
	payAfter := ckoPayments(t, order)
	if fmt.Sprint(payAfter) != fmt.Sprint(payBefore) {
		t.Fatalf("Checkout.com changed: %+v, before %+v", payAfter, payBefore)
	}
	if r := env.API(t, http.MethodPost, "/v1/webhooks/inbox/999999999/replay", nil); r.Status != http.StatusNotFound {
		t.Fatalf("unknown event: %d", r.Status)
	}
}

func lastRepeats(st workflows.CheckoutState) int {
	if n := len(st.Timeline); n > 0 {
		return st.Timeline[n-1].Repeats
	}
	return 0
}

// The ledger's events of a credited deposit replayed: the deposit's run has
// closed, so they go to the reconciliation as closed-workflow events, which
// finds the credit made; Rehive credited the account once.
func TestInboxReplayOfDepositCreditsOnce(t *testing.T) {
	t.Parallel()
	u := rehiveCustomer(t, nil)
	acct := uid("ledger-dep")
	linkAccount(t, u.Account, acct)
	id := ledgerIncoming(t, acct, xlmAmount, 1)
	waitDeposit(t, id, workflows.DepositPending, cmWait)
	ledgerConfirm(t, id)
	done := waitDeposit(t, id, workflows.DepositComplete, cmWait)
	waitRehiveTx(t, done.RehiveTxID, string(workflows.RehiveTxComplete), cmWait)

	var page struct {
		Items []struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
		} `json:"items"`
	}
	testenv.Eventually(t, 20*time.Second, "the deposit's ledger events delivered", func() bool {
		env.API(t, http.MethodGet, "/v1/webhooks/inbox?provider=ledger&ledger_tx_id="+id, nil).JSON(t, &page)
		for _, it := range page.Items {
			if it.Status == "pending" {
				return false
			}
		}
		return len(page.Items) > 0
	})
	for _, it := range page.Items {
		if r := env.API(t, http.MethodPost, fmt.Sprintf("/v1/webhooks/inbox/%d/replay", it.ID), nil); r.Status != http.StatusAccepted {
			t.Fatalf("replay %d: %d %s", it.ID, r.Status, r.Body)
		}
	}
	reconcile(t)
	if got := xlmBalance(t, u); got != xlmAmount {
		t.Fatalf("balance %d after replays and a reconciliation, want %d (credited once)", got, xlmAmount)
	}
	if st := getDeposit(t, id); st.Status != workflows.DepositComplete || st.RehiveTxID != done.RehiveTxID {
		t.Fatalf("deposit after the replays: %+v", st)
	}
}
