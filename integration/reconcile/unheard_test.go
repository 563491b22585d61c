package reconcile

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/payflow/payflow/store"
	"github.com/payflow/payflow/testenv"
	"github.com/payflow/payflow/workflows"
)

// noWorkflow fails the test if workflowID has a run: the webhooks were
// dropped, so nothing may have started it yet.
func noWorkflow(t *testing.T, workflowID string) {
	t.Helper()
	_, err := env.App.Temporal.DescribeWorkflowExecution(context.Background(), workflowID, "")
	var notFound *serviceerror.NotFound
	if !errors.As(err, &notFound) {
		t.Fatalf("%s: want no run before the reconciliation, got %v", workflowID, err)
	}
}

// Every Rehive webhook of a managed withdrawal is lost: payflow never hears
// of it, and only the reconciliation, listing Rehive's live managed
// transactions, finds its waiting transition and starts its workflow, which
// pays it out and completes it.
func TestUnheardManagedWithdrawalCompletedByReconciliation(t *testing.T) {
	u := rehiveCustomer(t, map[string]int64{xlm: 10 * xlmAmount})
	setFaults(t, "rehive", map[string]any{"drop_webhooks": true})
	defer setFaults(t, "rehive", map[string]any{})
	tx := userTx(t, map[string]any{"user": u.Email, "tx_type": "debit", "currency": xlm, "amount": xlmAmount, "status": "Pending",
		"metadata": map[string]any{workflows.MetaDestination: uid("dest")}})
	time.Sleep(time.Second)
	noWorkflow(t, workflows.RehiveTxWorkflowID(tx.ID))
	reconcileUntil(t, "the unheard withdrawal completed", func() bool {
		return getRehiveTx(t, tx.ID).Status == string(workflows.RehiveTxComplete)
	})
	testenv.Eventually(t, 20*time.Second, "the payout complete", func() bool {
		return getLedgerTx(t, workflows.LedgerTxIDFor(tx.ID)).Status == workflows.LedgerComplete
	})
	acts, err := env.App.Store.ReconcileActions(context.Background(), store.ReconcileRehiveTx, tx.ID)
	if err != nil || len(acts) != 1 || acts[0].Action != workflows.RecTransitionHandedOver {
		t.Fatalf("want one %s action, got %+v (%v)", workflows.RecTransitionHandedOver, acts, err)
	}
	// Its run took the transition up: another run hands nothing over again.
	reconcile(t)
	if acts, _ := env.App.Store.ReconcileActions(context.Background(), store.ReconcileRehiveTx, tx.ID); len(acts) != 1 {
		t.Fatalf("handed over again: %+v", acts)
	}
}

// A deposit that needs no confirmations gets one webhook, and it is lost:
// only the reconciliation, listing the ledger's deposits, starts its
// workflow, which credits it on Rehive once.
func TestUnheardInstantDepositCreditedByReconciliation(t *testing.T) {
	u := rehiveCustomer(t, nil)
	acct := uid("ledger-dep")
	if r := env.API(t, http.MethodPut, "/v1/account-links/"+u.Account, map[string]string{"ledger_account": acct, "currency": xlm}); r.Status != http.StatusOK {
		t.Fatalf("link account: %d %s", r.Status, r.Body)
	}
	setFaults(t, "ledger", map[string]any{"drop_webhooks": true})
	defer setFaults(t, "ledger", map[string]any{})
	r := env.SandboxCall(t, http.MethodPost, "/sandbox/ledger/_control/incoming",
		map[string]any{"account": acct, "amount": xlmAmount, "currency": xlm, "required_confirmations": 0})
	if r.Status != http.StatusCreated {
		t.Fatalf("incoming: %d %s", r.Status, r.Body)
	}
	id := r.Map(t)["id"].(string)
	time.Sleep(time.Second)
	noWorkflow(t, workflows.DepositWorkflowID(id))
	var d store.Deposit
	reconcileUntil(t, "the unheard deposit credited", func() bool {
		d, _ = env.App.Store.GetDeposit(context.Background(), id)
		return d.Status == workflows.DepositComplete
	})
	credits := 0
	for _, tx := range rehiveTxs(t) {
		if tx.Metadata[workflows.DepositMetadataKey] == id && tx.Status == string(workflows.RehiveTxComplete) && tx.TxType == "credit" && tx.Amount == xlmAmount {
			credits++
		}
	}
	if credits != 1 {
		t.Fatalf("want one Complete credit of the deposit, got %d", credits)
	}
	reconcile(t)
	if acts, _ := env.App.Store.ReconcileActions(context.Background(), store.ReconcileDeposit, id); len(acts) != 1 || acts[0].Action != workflows.RecDepositStarted {
		t.Fatalf("want one %s action, got %+v", workflows.RecDepositStarted, acts)
	}
}

// A customer pays a wallet order twice from the browser; the second
// transfer's webhooks are all lost after the order was fulfilled. Only the
// reconciliation, listing the merchant's credits, finds the duplicate and
// sends it back; the payment the order keeps is left alone.
func TestUnheardDuplicateWalletPaymentReversed(t *testing.T) {
	sku := product(t, 1300, 5)
	order := uid("ord")
	r := env.API(t, http.MethodPost, "/v1/checkouts", map[string]any{
		"order_id": order, "currency": "USD", "lines": []map[string]any{{"sku": sku, "quantity": 1}},
		"customer": map[string]any{"email": "ada@example.com"}, "payment": map[string]any{"method": "rehive"},
	})
	if r.Status != http.StatusCreated {
		t.Fatalf("create checkout: %d %s", r.Status, r.Body)
	}
	waitStatus(t, order, workflows.StatusAwaitingPayment)
	cust := rehiveCustomer(t, map[string]int64{"USD": 100_000})
	var m struct{ Email string }
	env.SandboxCall(t, http.MethodGet, "/sandbox/rehive/_control/merchant", nil).JSON(t, &m)
	pay := func() {
		if r := env.SandboxCall(t, http.MethodPost, "/sandbox/rehive/_control/transactions", map[string]any{
			"user": cust.Email, "tx_type": "debit", "currency": "USD", "amount": 1300,
			"partner": m.Email, "metadata": map[string]any{"order_id": order}, "status": "Pending",
		}); r.Status >= 300 {
			t.Fatalf("transfer: %d %s", r.Status, r.Body)
		}
	}
	pay()
	kept := waitStatus(t, order, workflows.StatusFulfilled).Payment.ProviderPaymentID
	setFaults(t, "rehive", map[string]any{"drop_webhooks": true})
	defer setFaults(t, "rehive", map[string]any{})
	pay()

	reversals := func() (n int, of []any) {
		for _, tx := range rehiveTxs(t) {
			if tx.Metadata["refund_for_order"] == order && tx.TxType == "credit" && tx.Status == string(workflows.RehiveTxComplete) && tx.Amount == 1300 {
				n++
				of = append(of, tx.Metadata["refund_of"])
			}
		}
		return n, of
	}
	reconcileUntil(t, "the duplicate sent back", func() bool { n, _ := reversals(); return n > 0 })
	reconcile(t)
	n, of := reversals()
	if n != 1 || of[0] == kept {
		t.Fatalf("want one reversal, not of the kept payment %s: %d %v", kept, n, of)
	}
	if st := getCheckout(t, order); st.Status != workflows.StatusFulfilled {
		t.Fatalf("order: %s", st.Status)
	}
	acts, err := env.App.Store.ReconcileActions(context.Background(), store.ReconcileOrder, order)
	if err != nil || len(acts) != 1 || acts[0].Action != workflows.RecReversed {
		t.Fatalf("want one %s action on the order, got %+v (%v)", workflows.RecReversed, acts, err)
	}
}
