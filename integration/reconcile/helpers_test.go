package reconcile

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/payflow/payflow/testenv"
	"github.com/payflow/payflow/workflows"
)

func uid(prefix string) string { return prefix + "_" + testenv.RandomID(5) }

// reconcile runs one reconciliation, as the schedule does, and waits for it.
func reconcile(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := env.App.ReconcileNow(ctx)
	if err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	for _, p := range rep.Passes {
		if len(p.Errors) > 0 {
			t.Logf("reconcile pass %s: %v", p.Name, p.Errors)
		}
	}
}

// reconcileUntil runs reconciliations until cond holds: a refund or credit
// asked for in one run is confirmed by the provider before a later one.
func reconcileUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, 60*time.Second, what, func() bool {
		reconcile(t)
		if cond() {
			return true
		}
		time.Sleep(500 * time.Millisecond)
		return false
	})
}

func setFaults(t *testing.T, provider string, faults map[string]any) {
	env.SetFaults(t, provider, faults)
}

func product(t *testing.T, price, stock int64) string { return env.Product(t, price, stock) }

func getProduct(t *testing.T, sku string) (stock, reserved int64) { return env.Stock(t, sku) }

func cardToken(t *testing.T, number string) string { return env.CardToken(t, number) }

func getCheckout(t *testing.T, orderID string) workflows.CheckoutState {
	t.Helper()
	var st workflows.CheckoutState
	r := env.API(t, http.MethodGet, "/v1/checkouts/"+orderID, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("get checkout: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &st)
	return st
}

func waitStatus(t *testing.T, orderID string, status workflows.CheckoutStatus) workflows.CheckoutState {
	t.Helper()
	var st workflows.CheckoutState
	testenv.Eventually(t, 30*time.Second, fmt.Sprintf("%s to reach %s", orderID, status), func() bool {
		st = getCheckout(t, orderID)
		return st.Status == status
	})
	return st
}

func hasStep(tl []workflows.TimelineEntry, step string) bool {
	for _, e := range tl {
		if e.Step == step {
			return true
		}
	}
	return false
}

type sandboxPayment struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Captured int64  `json:"captured"`
	Refunded int64  `json:"refunded"`
	Voided   int64  `json:"voided"`
}

func ckoPayments(t *testing.T, reference string) []sandboxPayment {
	t.Helper()
	var out struct{ Payments []sandboxPayment }
	env.SandboxCall(t, http.MethodGet, "/sandbox/checkoutcom/_control/payments?reference="+reference, nil).JSON(t, &out)
	return out.Payments
}

type rehiveUser struct {
	Email   string `json:"email"`
	Account string `json:"account"`
}

func rehiveCustomer(t *testing.T, balances map[string]int64) rehiveUser {
	t.Helper()
	var u rehiveUser
	r := env.SandboxCall(t, http.MethodPost, "/sandbox/rehive/_control/users", map[string]any{
		"email": uid("cust") + "@example.com", "password": "secret-pass", "balances": balances,
	})
	if r.Status >= 300 {
		t.Fatalf("rehive user: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &u)
	return u
}

type sandboxRehiveTx struct {
	ID          string         `json:"id"`
	TxType      string         `json:"tx_type"`
	Status      string         `json:"status"`
	Amount      int64          `json:"amount"`
	Metadata    map[string]any `json:"metadata"`
	Transitions []struct {
		Status     string `json:"status"`
		FromStatus string `json:"from_status"`
		ToStatus   string `json:"to_status"`
	} `json:"transitions"`
}

func userTx(t *testing.T, body map[string]any) sandboxRehiveTx {
	t.Helper()
	r := env.SandboxCall(t, http.MethodPost, "/sandbox/rehive/_control/transactions", body)
	if r.Status != http.StatusCreated {
		t.Fatalf("create rehive transaction: %d %s", r.Status, r.Body)
	}
	var tx sandboxRehiveTx
	r.JSON(t, &tx)
	return tx
}

func getRehiveTx(t *testing.T, id string) sandboxRehiveTx {
	t.Helper()
	var tx sandboxRehiveTx
	if r := env.SandboxCall(t, http.MethodGet, "/sandbox/rehive/_control/transactions/"+id, nil); r.Status == http.StatusOK {
		r.JSON(t, &tx)
	}
	return tx
}

func rehiveTxs(t *testing.T) []sandboxRehiveTx {
	t.Helper()
	var out struct{ Transactions []sandboxRehiveTx }
	env.SandboxCall(t, http.MethodGet, "/sandbox/rehive/_control/transactions", nil).JSON(t, &out)
	return out.Transactions
}

type sandboxLedgerTx struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

func getLedgerTx(t *testing.T, id string) sandboxLedgerTx {
	t.Helper()
	var tx sandboxLedgerTx
	env.SandboxCall(t, http.MethodGet, "/sandbox/ledger/_control/transactions/"+id, nil).JSON(t, &tx)
	return tx
}

// replayAndRecord replays the closed history of workflowID against the
// current workflow code and, with PAYFLOW_RECORD_HISTORIES=1, saves it as
// workflows/testdata/<name>.json, where the unit tests replay it from then
// on: a later change that breaks running workflows fails there.
func replayAndRecord(t *testing.T, workflowID, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	testenv.Eventually(t, 30*time.Second, workflowID+" to close", func() bool {
		d, err := env.App.Temporal.DescribeWorkflowExecution(ctx, workflowID, "")
		return err == nil && d.WorkflowExecutionInfo.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
	})
	h := &historypb.History{}
	it := env.App.Temporal.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, ev)
	}
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(workflows.RehiveTransaction, workflow.RegisterOptions{Name: workflows.RehiveTxWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.LedgerDeposit, workflow.RegisterOptions{Name: workflows.DepositWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.Reconcile, workflow.RegisterOptions{Name: workflows.ReconcileWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.Checkout, workflow.RegisterOptions{Name: workflows.CheckoutWorkflowName})
	if err := r.ReplayWorkflowHistory(nil, h); err != nil {
		t.Fatalf("%s does not replay: %v", workflowID, err)
	}
	if os.Getenv("PAYFLOW_RECORD_HISTORIES") == "" {
		return
	}
	raw, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("..", "..", "workflows", "testdata", name+".json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
}
