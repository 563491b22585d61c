package integration

import (
	"context"
	"net/http"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/payflow/payflow/providers/rehive"
	"github.com/payflow/payflow/testenv"
	"github.com/payflow/payflow/workflows"
)

// Issue 8's checkout acceptance: no payment's fate depends on a webhook or an
// answer arriving. Tests that set provider faults change them for the whole
// sandbox, so they do not run in parallel.

const (
	cardCaptureDeclined = "4000000000000259" // approved, then the capture is declined
	cardRefundDeclined  = "4000000000000267" // captured; refunds are declined
)

// rehiveTxs lists the Rehive sandbox's transactions whose metadata.order_id
// is order.
func rehiveTxs(t *testing.T, order string) []map[string]any {
	t.Helper()
	var out struct{ Transactions []map[string]any }
	env.SandboxCall(t, http.MethodGet, "/sandbox/rehive/_control/transactions", nil).JSON(t, &out)
	var mine []map[string]any
	for _, tx := range out.Transactions {
		if md, _ := tx["metadata"].(map[string]any); md != nil && md["order_id"] == order {
			mine = append(mine, tx)
		}
	}
	return mine
}

// rehiveBalance is the customer's balance in currency, from Rehive itself.
func rehiveBalance(t *testing.T, cust rehiveUser, currency string) int64 {
	t.Helper()
	c := rehive.New(rehive.Config{BaseURL: env.Config.Rehive.BaseURL})
	accounts, err := c.Accounts(context.Background(), cust.Token)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range accounts {
		if bal := a.Currency(currency); a.Reference == cust.Account && bal != nil {
			return bal.Balance
		}
	}
	t.Fatalf("no %s balance on %s", currency, cust.Account)
	return 0
}

// The customer pays through payflow's API while Rehive's webhooks are all
// lost: the transaction the API posted is handed to the workflow, which asks
// Rehive about it, so the order is fulfilled and the customer charged once.
func TestWalletPayThroughAPIWithWebhooksDropped(t *testing.T) {
	setFaults(t, "rehive", map[string]any{"drop_webhooks": true})
	defer setFaults(t, "rehive", map[string]any{})
	sku := product(t, 1999, 3)
	order := uid("ord")
	createCheckout(t, checkoutBody(order, sku, 2, "rehive", ""))
	waitStatus(t, order, 20*time.Second, workflows.StatusAwaitingPayment)
	cust := rehiveCustomer(t, map[string]int64{"USD": 100000})
	before := rehiveBalance(t, cust, "USD")

	r := env.API(t, http.MethodPost, "/v1/checkouts/"+order+"/rehive/pay", map[string]string{"token": cust.Token, "account": cust.Account})
	if r.Status != http.StatusAccepted {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	st := waitStatus(t, order, 30*time.Second, workflows.StatusFulfilled, workflows.StatusFailed, workflows.StatusExpired)
	if st.Status != workflows.StatusFulfilled {
		t.Fatalf("want fulfilled, got %+v", st)
	}
	if stock, reserved := getProduct(t, sku); stock != 1 || reserved != 0 {
		t.Fatalf("stock %d reserved %d", stock, reserved)
	}
	if after := rehiveBalance(t, cust, "USD"); before-after != 2*1999 {
		t.Fatalf("customer charged %v, want %d", before-after, 2*1999)
	}
	credits := 0
	for _, tx := range rehiveTxs(t, order) {
		if tx["tx_type"] == "credit" {
			credits++
		}
	}
	if credits != 1 {
		t.Fatalf("%d credits for the order on Rehive, want 1", credits)
	}
	recordHistory(t, "rehive_api_webhooks_dropped", order)
}

// A transfer the customer posted from the browser, straight to Rehive, whose
// webhooks never came: the workflow lists the merchant's credits before the
// order expires, finds it by metadata.order_id and fulfils the order.
func TestWalletTransferFromBrowserWithWebhooksDropped(t *testing.T) {
	setFaults(t, "rehive", map[string]any{"drop_webhooks": true})
	defer setFaults(t, "rehive", map[string]any{})
	sku := product(t, 1500, 2)
	order := uid("ord")
	createCheckout(t, checkoutBody(order, sku, 1, "rehive", ""))
	waitStatus(t, order, 20*time.Second, workflows.StatusAwaitingPayment)
	cust := rehiveCustomer(t, map[string]int64{"USD": 100000})
	meta := map[string]any{"order_id": order}
	r := testenv.Call(t, http.MethodPost, env.SandboxURL+"/sandbox/rehive/3/transactions/transfer/", map[string]any{
		"amount": 1500, "currency": "USD", "recipient": env.Config.Rehive.MerchantEmail, "debit_account": cust.Account,
		"debit_metadata": meta, "credit_metadata": meta,
	}, map[string]string{"Authorization": "Token " + cust.Token})
	if r.Status != http.StatusCreated {
		t.Fatalf("transfer: %d %s", r.Status, r.Body)
	}
	st := waitStatus(t, order, 30*time.Second, workflows.StatusFulfilled, workflows.StatusFailed, workflows.StatusExpired)
	if st.Status != workflows.StatusFulfilled || !hasStep(st, "payment_found") {
		t.Fatalf("want fulfilled after the lookup, got %+v", st)
	}
	if stock, reserved := getProduct(t, sku); stock != 1 || reserved != 0 {
		t.Fatalf("stock %d reserved %d", stock, reserved)
	}
}

// Checkout.com authorises the card, then declines the capture: the order is
// never fulfilled unpaid. What is left of the authorisation is voided and the
// stock adds up.
func TestCaptureDeclinedAfterApproval(t *testing.T) {
	t.Parallel()
	sku := product(t, 700, 4)
	order := uid("ord")
	createCheckout(t, checkoutBody(order, sku, 3, "card", cardToken(t, cardCaptureDeclined)))
	st := waitStatus(t, order, 30*time.Second, workflows.StatusFailed, workflows.StatusFulfilled, workflows.StatusNeedsAttention)
	if st.Status != workflows.StatusFailed || st.FailureReason != workflows.ReasonCaptureDeclined {
		t.Fatalf("want failed/capture_declined, got %+v", st)
	}
	if hasStep(st, workflows.StatusPaid) || hasStep(st, workflows.StatusFulfilled) {
		t.Fatalf("paid or fulfilled on an authorisation: %v", st.Timeline)
	}
	if stock, reserved := getProduct(t, sku); stock != 4 || reserved != 0 {
		t.Fatalf("stock %d reserved %d, want 4 and 0", stock, reserved)
	}
	waitFor(t, "the authorisation voided", func() bool {
		p := ckoPayments(t, order)
		return len(p) == 1 && p[0].Captured == 0 && p[0].Voided == 2100
	})
	closedHistory(t, workflows.CheckoutWorkflowID(order))
	recordHistory(t, "card_capture_declined", order)
}

// A refund Checkout.com declines: the order never reads refunded; the
// workflow tries again with a new idempotency key (and after its bounded
// attempts needs attention, see the workflow unit tests).
func TestRefundDeclinedIsNotRefunded(t *testing.T) {
	t.Parallel()
	sku := product(t, 1100, 2)
	order := uid("ord")
	createCheckout(t, checkoutBody(order, sku, 1, "card", cardToken(t, cardRefundDeclined)))
	waitStatus(t, order, 20*time.Second, workflows.StatusFulfilled)
	// 503 says retry: the update is not accepted while no worker polls (other
	// tests of this package stop and start the shared worker).
	var r testenv.Response
	for start := time.Now(); ; time.Sleep(time.Second) {
		r = env.API(t, http.MethodPost, "/v1/checkouts/"+order+"/cancel", nil)
		if r.Status != http.StatusServiceUnavailable || time.Since(start) > 45*time.Second {
			break
		}
	}
	if r.Status != http.StatusAccepted {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	if s := r.Map(t)["status"]; s == workflows.StatusRefunded {
		t.Fatalf("cancel answered %v for a declined refund", s)
	}
	// Three attempts, 30 s and 1 min apart, then needs_attention.
	deadline := time.Now().Add(150 * time.Second)
	var st workflows.CheckoutState
	for {
		st = getCheckout(t, order)
		if st.Status == workflows.StatusRefunded || st.Payment.Status == "Refunded" {
			t.Fatalf("reads refunded although Checkout.com declined: %+v", st)
		}
		if st.Status == workflows.StatusNeedsAttention {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not needs_attention after the declined refunds: %+v", st)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if st.FailureReason != workflows.ReasonRefundDeclined || countSteps(st, "refund_declined") != 3 {
		t.Fatalf("want 3 declined attempts and refund_declined, got %+v", st)
	}
	if p := ckoPayments(t, order); len(p) != 1 || p[0].Refunded != 0 || p[0].Captured != 1100 {
		t.Fatalf("sandbox payment %+v", p)
	}
	var list struct {
		Items []struct {
			OrderID string `json:"order_id"`
		} `json:"items"`
	}
	env.API(t, http.MethodGet, "/v1/checkouts?status=needs_attention&limit=500", nil).JSON(t, &list)
	listed := false
	for _, it := range list.Items {
		listed = listed || it.OrderID == order
	}
	if !listed {
		t.Fatal("not listed under status=needs_attention")
	}
	if r := env.API(t, http.MethodPost, "/v1/checkouts/"+order+"/cancel", nil); r.Status != http.StatusConflict {
		t.Fatalf("cancel of a needs_attention order: want 409, got %d", r.Status)
	}
	closedHistory(t, workflows.CheckoutWorkflowID(order))
	recordHistory(t, "card_refund_declined_needs_attention", order)
}

// A charge that Checkout.com carried out but whose answer was lost — a 5xx,
// a hang past the client's deadline, a cut connection — is never charged
// again and never fails the order: exactly one payment, order fulfilled.
func TestChargeAnswerLost(t *testing.T) {
	for _, mode := range []string{"5xx", "hang", "reset"} {
		t.Run(mode, func(t *testing.T) {
			sku := product(t, 1300, 2)
			order := uid("ord")
			tok := cardToken(t, cardApproved)
			setFaults(t, "checkoutcom", map[string]any{"lose_answers_next": 1, "lose_mode": mode})
			defer setFaults(t, "checkoutcom", map[string]any{})
			createCheckout(t, checkoutBody(order, sku, 1, "card", tok))
			st := waitStatus(t, order, 90*time.Second, workflows.StatusFulfilled, workflows.StatusFailed, workflows.StatusExpired)
			if st.Status != workflows.StatusFulfilled {
				t.Fatalf("want fulfilled, got %+v", st)
			}
			if p := ckoPayments(t, order); len(p) != 1 || p[0].Captured != 1300 {
				t.Fatalf("want exactly one captured payment, got %+v", p)
			}
			if stock, reserved := getProduct(t, sku); stock != 1 || reserved != 0 {
				t.Fatalf("stock %d reserved %d", stock, reserved)
			}
			// 5xx drops the key's record, so the retry meets token_used and
			// the payment is found by reference.
			if mode == "5xx" && !hasStep(st, "charge_found") {
				t.Fatalf("5xx: the payment was not looked up: %+v", st.Timeline)
			}
			recordHistory(t, "card_charge_answer_lost_"+mode, order)
		})
	}
}

// An operator cancels checkout/<order> in Temporal (Web UI, CLI) while it
// awaits payment: it is settled like an API cancel — the authorisation
// voided, the stock released, cancelled.
func TestOperatorCancelWhileAwaitingPayment(t *testing.T) {
	// Webhooks dropped, so the workflow is still waiting when the capture
	// has been declined and the authorisation stands.
	setFaults(t, "checkoutcom", map[string]any{"drop_webhooks": true})
	defer setFaults(t, "checkoutcom", map[string]any{})
	sku := product(t, 650, 3)
	card, wallet := uid("ord"), uid("ord")
	createCheckout(t, checkoutBody(card, sku, 1, "card", cardToken(t, cardCaptureDeclined)))
	createCheckout(t, checkoutBody(wallet, sku, 1, "rehive", ""))
	waitStatus(t, card, 20*time.Second, workflows.StatusAwaitingPayment)
	waitStatus(t, wallet, 20*time.Second, workflows.StatusAwaitingPayment)
	waitFor(t, "the authorisation", func() bool { p := ckoPayments(t, card); return len(p) == 1 && p[0].Status == "Authorized" })

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, order := range []string{card, wallet} {
		if err := env.App.Temporal.CancelWorkflow(ctx, workflows.CheckoutWorkflowID(order), ""); err != nil {
			t.Fatalf("cancel %s: %v", order, err)
		}
	}
	for _, order := range []string{card, wallet} {
		st := waitStatus(t, order, 20*time.Second, workflows.StatusCancelled, workflows.StatusFailed, workflows.StatusExpired, workflows.StatusNeedsAttention)
		if st.Status != workflows.StatusCancelled || !hasStep(st, "operator_cancel") {
			t.Fatalf("%s: want cancelled by the operator, got %+v", order, st)
		}
	}
	waitFor(t, "the void", func() bool { p := ckoPayments(t, card); return len(p) == 1 && p[0].Voided == 650 })
	if stock, reserved := getProduct(t, sku); stock != 3 || reserved != 0 {
		t.Fatalf("stock %d reserved %d, want 3 and 0", stock, reserved)
	}
	for _, order := range []string{card, wallet} {
		waitFor(t, order+" closed as Canceled", func() bool {
			d, err := env.App.Temporal.DescribeWorkflowExecution(ctx, workflows.CheckoutWorkflowID(order), "")
			return err == nil && d.WorkflowExecutionInfo.Status == enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED
		})
	}
	recordHistory(t, "card_operator_cancel", card)
}
