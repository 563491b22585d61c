// Package reconcile holds the reconciliation's acceptance tests that need an
// environment of their own: a short late window and stall timer, provider
// faults switched for the whole sandbox (webhooks dropped, approvals held)
// and a worker stopped and started, none of which the shared integration
// environment's parallel tests could bear. The tests run one at a time.
package reconcile

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/payflow/payflow/app"
	"github.com/payflow/payflow/config"
	"github.com/payflow/payflow/providers/ledger"
	"github.com/payflow/payflow/store"
	"github.com/payflow/payflow/testenv"
	"github.com/payflow/payflow/workflows"
)

var env *testenv.Env

const (
	paymentTimeout = 3 * time.Second
	lateWindow     = 2 * time.Second
	stallTimeout   = 4 * time.Second
	xlm            = "XLM"
	xlmAmount      = 25_000_000
	card3DS        = "4000000000003220"
)

func TestMain(m *testing.M) {
	var err error
	env, err = testenv.Start(testenv.Options{PaymentTimeout: paymentTimeout, LateWindow: lateWindow, StallTimeout: stallTimeout})
	if err != nil {
		fmt.Fprintln(os.Stderr, "reconcile environment:", err)
		os.Exit(1)
	}
	code := m.Run()
	env.Close()
	os.Exit(code)
}

// A customer completes 3-D Secure after the order expired and after its late
// window closed, and Checkout.com's webhooks never arrive: only the
// reconciliation, asking Checkout.com about the closed order, finds the
// capture, and refunds it.
func TestLateThreeDSAfterLateWindowRefundedByReconciliation(t *testing.T) {
	sku := product(t, 2500, 2)
	order := uid("ord")
	r := env.API(t, http.MethodPost, "/v1/checkouts", map[string]any{
		"order_id": order, "currency": "USD", "lines": []map[string]any{{"sku": sku, "quantity": 1}},
		"customer": map[string]any{"email": "ada@example.com"},
		"payment":  map[string]any{"method": "card", "processor_token": cardToken(t, card3DS)},
	})
	if r.Status != http.StatusCreated {
		t.Fatalf("create checkout: %d %s", r.Status, r.Body)
	}
	st := waitStatus(t, order, workflows.StatusRequiresAction)
	waitStatus(t, order, workflows.StatusExpired)
	testenv.Eventually(t, 30*time.Second, "the checkout's late window to close", func() bool {
		d, err := env.App.Temporal.DescribeWorkflowExecution(context.Background(), workflows.CheckoutWorkflowID(order), "")
		return err == nil && d.WorkflowExecutionInfo.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
	})

	setFaults(t, "checkoutcom", map[string]any{"drop_webhooks": true})
	defer setFaults(t, "checkoutcom", map[string]any{})
	if r := env.SandboxCall(t, http.MethodPost, "/sandbox/checkoutcom/_control/3ds/"+st.Payment.ProviderPaymentID, map[string]string{"outcome": "approved"}); r.Status >= 300 {
		t.Fatalf("3ds: %d %s", r.Status, r.Body)
	}
	testenv.Eventually(t, 20*time.Second, "the late capture on the sandbox", func() bool {
		p := ckoPayments(t, order)
		return len(p) == 1 && p[0].Captured == 2500
	})

	reconcileUntil(t, "the late capture refunded", func() bool { return getCheckout(t, order).Status == workflows.StatusRefunded })
	if p := ckoPayments(t, order); len(p) != 1 || p[0].Refunded != 2500 {
		t.Fatalf("want the one payment refunded in full: %+v", p)
	}
	st = getCheckout(t, order)
	for _, step := range []string{workflows.RecRefundRequested, workflows.RecRefunded} {
		if !hasStep(st.Timeline, step) {
			t.Fatalf("no %s on the timeline: %+v", step, st.Timeline)
		}
	}
	if stock, reserved := getProduct(t, sku); stock != 2 || reserved != 0 {
		t.Fatalf("stock %d reserved %d", stock, reserved)
	}
	// A run that finds the order settled for good; its history guards the
	// Reconcile workflow.
	id := "reconcile-test-" + testenv.RandomID(4)
	if _, err := env.App.RunReconcile(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	replayAndRecord(t, id, "reconcile_run")
}

// Rehive answers the approval of Pending->Complete queued, then fails the
// transaction after all: the payout the ledger held is cancelled, never
// paid, and payflow ends the transaction Failed, as Rehive has it.
func TestQueuedApprovalThenFailedLeavesNoPayout(t *testing.T) {
	ctx := context.Background()
	u := rehiveCustomer(t, map[string]int64{xlm: 10 * xlmAmount})
	dest := uid("dest")

	// Initiating->Pending was approved by an earlier run: the amount is held
	// on the ledger and linked. The worker is stopped while that state is
	// set up, so the run that handles Pending->Complete finds it.
	env.StopWorker()
	setFaults(t, "rehive", map[string]any{"approvals": "held"})
	defer setFaults(t, "rehive", map[string]any{})
	tx := userTx(t, map[string]any{"user": u.Email, "tx_type": "debit", "currency": xlm, "amount": xlmAmount, "status": "Pending",
		"metadata": map[string]any{workflows.MetaDestination: dest}})
	ledgerID := workflows.LedgerTxIDFor(tx.ID)
	if _, err := env.App.Ledger.CreateTransaction(ctx, ledger.CreateRequest{ID: ledgerID, Type: ledger.Withdrawal,
		Account: env.Config.Ledger.WithdrawalAccount, Amount: xlmAmount, Currency: xlm, Status: ledger.StatusPending, Destination: dest,
		Metadata: map[string]string{"rehive_tx_id": tx.ID}}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Store.PutLedgerLink(ctx, store.LedgerLink{RehiveTxID: tx.ID, LedgerTxID: ledgerID, Kind: workflows.LedgerKindPending}); err != nil {
		t.Fatal(err)
	}
	if err := env.StartWorker(); err != nil {
		t.Fatal(err)
	}

	testenv.Eventually(t, 30*time.Second, "payflow's approval answered queued", func() bool {
		for _, tr := range getRehiveTx(t, tx.ID).Transitions {
			if tr.FromStatus == "Pending" && tr.ToStatus == "Complete" && tr.Status == "queued" {
				return true
			}
		}
		return false
	})
	if r := env.SandboxCall(t, http.MethodPost, "/sandbox/rehive/_control/transactions/"+tx.ID+"/status", map[string]string{"status": "Failed"}); r.Status != http.StatusOK {
		t.Fatalf("fail on Rehive: %d %s", r.Status, r.Body)
	}
	var st workflows.RehiveTxState
	testenv.Eventually(t, 30*time.Second, "payflow to settle the transaction", func() bool {
		r := env.API(t, http.MethodGet, "/v1/rehive/transactions/"+tx.ID, nil)
		if r.Status == http.StatusOK {
			r.JSON(t, &st)
		}
		return workflows.IsTxStatusFinal(st.Status)
	})
	if st.Status != workflows.TxStatusFailed || st.RehiveStatus != workflows.RehiveTxFailed {
		t.Fatalf("payflow state: %+v", st)
	}
	if got := getRehiveTx(t, tx.ID); got.Status != string(workflows.RehiveTxFailed) {
		t.Fatalf("Rehive: %+v", got)
	}
	if l := getLedgerTx(t, ledgerID); l.Status != workflows.LedgerCancelled {
		t.Fatalf("a ledger payout is left standing: %+v", l)
	}
	replayAndRecord(t, workflows.RehiveTxWorkflowID(tx.ID), "rehive_queued_approval_failed")
}

// The ledger confirms a deposit only after its stall timer failed the
// Rehive credit, and that webhook reaches a closed workflow: the
// reconciliation credits the customer once, with a replacement credit.
func TestDepositConfirmedAfterStallCredited(t *testing.T) {
	u := rehiveCustomer(t, nil)
	acct := uid("ledger-dep")
	if r := env.API(t, http.MethodPut, "/v1/account-links/"+u.Account, map[string]string{"ledger_account": acct, "currency": xlm}); r.Status != http.StatusOK {
		t.Fatalf("link account: %d %s", r.Status, r.Body)
	}
	r := env.SandboxCall(t, http.MethodPost, "/sandbox/ledger/_control/incoming",
		map[string]any{"account": acct, "amount": xlmAmount, "currency": xlm, "required_confirmations": 1})
	if r.Status != http.StatusCreated {
		t.Fatalf("incoming: %d %s", r.Status, r.Body)
	}
	id := r.Map(t)["id"].(string)
	var d store.Deposit
	testenv.Eventually(t, 30*time.Second, "the deposit to stall", func() bool {
		d, _ = env.App.Store.GetDeposit(context.Background(), id)
		return d.Status == workflows.DepositFailed
	})
	if d.FailureReason != "stalled" || getRehiveTx(t, d.RehiveTxID).Status != string(workflows.RehiveTxFailed) {
		t.Fatalf("stalled deposit: %+v", d)
	}

	if r := env.SandboxCall(t, http.MethodPost, "/sandbox/ledger/_control/confirm/"+id, map[string]int{"count": 1}); r.Status != http.StatusOK {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	reconcileUntil(t, "the late confirmation credited", func() bool {
		d, _ = env.App.Store.GetDeposit(context.Background(), id)
		return d.Status == workflows.DepositComplete
	})
	var complete []sandboxRehiveTx
	for _, tx := range rehiveTxs(t) {
		if tx.Metadata[workflows.DepositMetadataKey] == id && tx.Status == string(workflows.RehiveTxComplete) {
			complete = append(complete, tx)
		}
	}
	if len(complete) != 1 || complete[0].Amount != xlmAmount || complete[0].TxType != "credit" || complete[0].ID != d.RehiveTxID {
		t.Fatalf("want exactly one Complete credit of the deposit: %+v (deposit %+v)", complete, d)
	}
	if !strings.Contains(string(d.State), workflows.RecDepositCredited) {
		t.Fatalf("no %s on the deposit's timeline: %s", workflows.RecDepositCredited, d.State)
	}
	// The API shows what the reconciliation did, not the closed workflow's last state.
	if r := env.API(t, http.MethodGet, "/v1/deposits/"+id, nil); r.Status != http.StatusOK ||
		r.Map(t)["status"] != string(workflows.DepositComplete) || !strings.Contains(string(r.Body), workflows.RecDepositCredited) {
		t.Fatalf("GET deposit after reconciliation: %d %s", r.Status, r.Body)
	}
	// Settled for good: another run credits nothing more.
	reconcile(t)
	n := 0
	for _, tx := range rehiveTxs(t) {
		if tx.Metadata[workflows.DepositMetadataKey] == id && tx.Status == string(workflows.RehiveTxComplete) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("credited %d times", n)
	}
	replayAndRecord(t, workflows.DepositWorkflowID(id), "deposit_stalled")
}

// Rehive carries out payflow's approval and the answer is lost (a 5xx on
// the way back): the retry, under a new key, is refused as the transition
// is no longer pending, finds it approved, and the withdrawal completes.
func TestRehiveApprovalAnswerLost(t *testing.T) {
	u := rehiveCustomer(t, map[string]int64{xlm: 10 * xlmAmount})
	dest := uid("dest")
	setFaults(t, "rehive", map[string]any{"lose_answers_next": 1, "lose_mode": "5xx"})
	defer setFaults(t, "rehive", map[string]any{})
	tx := userTx(t, map[string]any{"user": u.Email, "tx_type": "debit", "currency": xlm, "amount": xlmAmount, "status": "Pending",
		"metadata": map[string]any{workflows.MetaDestination: dest}})
	var st workflows.RehiveTxState
	testenv.Eventually(t, 30*time.Second, "the withdrawal to finish", func() bool {
		r := env.API(t, http.MethodGet, "/v1/rehive/transactions/"+tx.ID, nil)
		if r.Status == http.StatusOK {
			r.JSON(t, &st)
		}
		return workflows.IsTxStatusFinal(st.Status)
	})
	if st.Status != workflows.TxStatusComplete || getRehiveTx(t, tx.ID).Status != string(workflows.RehiveTxComplete) {
		t.Fatalf("payflow state: %+v", st)
	}
	if l := getLedgerTx(t, workflows.LedgerTxIDFor(tx.ID)); l.Status != workflows.LedgerComplete {
		t.Fatalf("ledger payout: %+v", l)
	}
	replayAndRecord(t, workflows.RehiveTxWorkflowID(tx.ID), "rehive_withdrawal_answer_lost")
}

// An operator terminates a managed transaction's run while Rehive holds
// its approval, and Rehive then fails the transaction: the status change
// reaches a closed workflow (inbox status closed_workflow), and the
// reconciliation cancels the payout the ledger still held.
func TestRehiveFailedAfterWorkflowClosedCancelsHeldPayout(t *testing.T) {
	ctx := context.Background()
	u := rehiveCustomer(t, map[string]int64{xlm: 10 * xlmAmount})
	setFaults(t, "rehive", map[string]any{"approvals": "held"})
	defer setFaults(t, "rehive", map[string]any{})
	tx := userTx(t, map[string]any{"user": u.Email, "tx_type": "debit", "currency": xlm, "amount": xlmAmount, "status": "Initiating",
		"metadata": map[string]any{workflows.MetaDestination: uid("dest")}})
	ledgerID := workflows.LedgerTxIDFor(tx.ID)
	testenv.Eventually(t, 30*time.Second, "the approval queued with the payout held", func() bool {
		trs := getRehiveTx(t, tx.ID).Transitions
		return len(trs) == 1 && trs[0].Status == "queued" && getLedgerTx(t, ledgerID).Status == workflows.LedgerPending
	})
	if err := env.App.Temporal.TerminateWorkflow(ctx, workflows.RehiveTxWorkflowID(tx.ID), "", "operator: terminate"); err != nil {
		t.Fatal(err)
	}
	if r := env.SandboxCall(t, http.MethodPost, "/sandbox/rehive/_control/transactions/"+tx.ID+"/status", map[string]string{"status": "Failed"}); r.Status != http.StatusOK {
		t.Fatalf("fail on Rehive: %d %s", r.Status, r.Body)
	}
	testenv.Eventually(t, 20*time.Second, "the status change recorded for the closed workflow", func() bool {
		events, err := env.App.Store.ListInbox(ctx, store.InboxFilter{Provider: "rehive", Status: store.InboxClosedWorkflow, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			if e.WorkflowID.String == workflows.RehiveTxWorkflowID(tx.ID) {
				return true
			}
		}
		return false
	})
	reconcileUntil(t, "the held payout cancelled", func() bool { return getLedgerTx(t, ledgerID).Status == workflows.LedgerCancelled })
	row, err := env.App.Store.GetRehiveTx(ctx, tx.ID)
	if err != nil || row.Status != workflows.TxStatusFailed || !strings.Contains(string(row.State), workflows.RecLedgerCancelled) {
		t.Fatalf("read model: %+v %v", row, err)
	}
	if r := env.API(t, http.MethodGet, "/v1/rehive/transactions/"+tx.ID, nil); r.Status != http.StatusOK ||
		r.Map(t)["status"] != string(workflows.TxStatusFailed) || !strings.Contains(string(r.Body), workflows.RecLedgerCancelled) {
		t.Fatalf("GET transaction after reconciliation: %d %s", r.Status, r.Body)
	}
}

// Two API and two worker processes start at once: each creates or updates
// the reconciliation schedule, and there is exactly one; a process started
// with another PAYFLOW_RECONCILE_INTERVAL brings it to that interval.
func TestOneReconcileScheduleWhateverStarts(t *testing.T) {
	ctx := context.Background()
	start := func(cfg config.Config) *app.App {
		a, err := app.New(cfg, env.Logger)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(a.Close)
		return a
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		a := start(env.Config)
		wg.Add(1)
		go func() { defer wg.Done(); errs <- a.EnsureReconcileSchedule(ctx) }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("ensure schedule: %v", err)
		}
	}
	count := func() int {
		it, err := env.App.Temporal.ScheduleClient().List(ctx, client.ScheduleListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for it.HasNext() {
			s, err := it.Next()
			if err != nil {
				t.Fatal(err)
			}
			if s.ID == workflows.ReconcileScheduleID {
				n++
			}
		}
		return n
	}
	testenv.Eventually(t, 10*time.Second, "the schedule listed", func() bool { return count() > 0 })
	if n := count(); n != 1 {
		t.Fatalf("%d reconcile schedules", n)
	}
	cfg := env.Config
	cfg.ReconcileInterval = 2 * time.Minute
	if err := start(cfg).EnsureReconcileSchedule(ctx); err != nil {
		t.Fatal(err)
	}
	d, err := env.App.Temporal.ScheduleClient().GetHandle(ctx, workflows.ReconcileScheduleID).Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if iv := d.Schedule.Spec.Intervals; len(iv) != 1 || iv[0].Every != 2*time.Minute {
		t.Fatalf("schedule spec: %+v", d.Schedule.Spec)
	}
	if err := env.App.EnsureReconcileSchedule(ctx); err != nil { // back to the environment's interval
		t.Fatal(err)
	}
}

// A wallet checkout's run is terminated, and the customer's transfer to the
// merchant arrives with every Rehive webhook dropped: the reconciliation
// finds the credit among the merchant's transactions, sends it back, and
// closes the order refunded with its stock released.
func TestTerminatedWalletCheckoutReversed(t *testing.T) {
	ctx := context.Background()
	sku := product(t, 1200, 2)
	order := uid("ord")
	r := env.API(t, http.MethodPost, "/v1/checkouts", map[string]any{
		"order_id": order, "currency": "USD", "lines": []map[string]any{{"sku": sku, "quantity": 1}},
		"customer": map[string]any{"email": "ada@example.com"}, "payment": map[string]any{"method": "rehive"},
	})
	if r.Status != http.StatusCreated {
		t.Fatalf("create checkout: %d %s", r.Status, r.Body)
	}
	waitStatus(t, order, workflows.StatusAwaitingPayment)
	if err := env.App.Temporal.TerminateWorkflow(ctx, workflows.CheckoutWorkflowID(order), "", "operator: terminate"); err != nil {
		t.Fatal(err)
	}
	setFaults(t, "rehive", map[string]any{"drop_webhooks": true})
	defer setFaults(t, "rehive", map[string]any{})
	cust := rehiveCustomer(t, map[string]int64{"USD": 100_000})
	var m struct{ Email string }
	env.SandboxCall(t, http.MethodGet, "/sandbox/rehive/_control/merchant", nil).JSON(t, &m)
	if r := env.SandboxCall(t, http.MethodPost, "/sandbox/rehive/_control/transactions", map[string]any{
		"user": cust.Email, "tx_type": "debit", "currency": "USD", "amount": 1200,
		"partner": m.Email, "metadata": map[string]any{"order_id": order}, "status": "Pending",
	}); r.Status >= 300 {
		t.Fatalf("transfer: %d %s", r.Status, r.Body)
	}

	reconcileUntil(t, "the terminated wallet order settled", func() bool { return getCheckout(t, order).Status == workflows.StatusRefunded })
	st := getCheckout(t, order)
	if st.FailureReason != workflows.ReasonWorkflowClosed || !hasStep(st.Timeline, workflows.RecReversed) || !hasStep(st.Timeline, workflows.RecSettled) {
		t.Fatalf("order: %+v", st)
	}
	reversals := 0
	for _, tx := range rehiveTxs(t) {
		if tx.Metadata["refund_for_order"] == order && tx.TxType == "credit" && tx.Status == string(workflows.RehiveTxComplete) && tx.Amount == 1200 {
			reversals++
		}
	}
	if reversals != 1 {
		t.Fatalf("want one reversal to the customer, got %d", reversals)
	}
	if stock, reserved := getProduct(t, sku); stock != 2 || reserved != 0 {
		t.Fatalf("stock %d reserved %d", stock, reserved)
	}
}
