package integration

import (
	"context"
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

	"github.com/payflow/payflow/replay"
	"github.com/payflow/payflow/workflows"
)

// The main path of every workflow type, run for real and its history
// replayed against the current code; with PAYFLOW_RECORD_HISTORIES=1 each is
// saved as workflows/testdata/<name>.json, which `go test ./workflows -run
// Replay` replays from then on. Record a path once, with -run naming it: a
// recorded file is history, not to be overwritten by a newer run.

// recordWorkflow replays workflowID's history as it stands (open or closed)
// and saves it under name when recording.
func recordWorkflow(t *testing.T, workflowID, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
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
	replay.Register(r)
	if err := r.ReplayWorkflowHistory(nil, h); err != nil {
		t.Fatalf("%s (%s) does not replay: %v", name, workflowID, err)
	}
	if os.Getenv("PAYFLOW_RECORD_HISTORIES") == "" {
		return
	}
	raw, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("..", "workflows", "testdata", name+".json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRecordCheckoutPaths(t *testing.T) {
	t.Parallel()
	t.Run("card_3ds", func(t *testing.T) {
		t.Parallel()
		order := uid("ord")
		createCheckout(t, checkoutBody(order, product(t, 1500, 3), 1, "card", cardToken(t, card3DS)))
		st := waitStatus(t, order, 20*time.Second, workflows.StatusRequiresAction)
		if r := env.SandboxCall(t, http.MethodPost, "/sandbox/checkoutcom/_control/3ds/"+st.Payment.ProviderPaymentID, map[string]string{"outcome": "approved"}); r.Status >= 300 {
			t.Fatalf("3ds control: %d %s", r.Status, r.Body)
		}
		waitStatus(t, order, 20*time.Second, workflows.StatusFulfilled)
		recordWorkflow(t, workflows.CheckoutWorkflowID(order), "checkout_card_3ds_fulfilled")
	})
	t.Run("card_cancelled", func(t *testing.T) {
		t.Parallel()
		order := uid("ord")
		createCheckout(t, checkoutBody(order, product(t, 1500, 3), 1, "card", cardToken(t, card3DS)))
		waitStatus(t, order, 20*time.Second, workflows.StatusRequiresAction)
		if r := env.API(t, http.MethodPost, "/v1/checkouts/"+order+"/cancel", nil); r.Status != http.StatusAccepted {
			t.Fatalf("cancel: %d %s", r.Status, r.Body)
		}
		waitStatus(t, order, 20*time.Second, workflows.StatusCancelled)
		recordWorkflow(t, workflows.CheckoutWorkflowID(order), "checkout_card_cancelled")
	})
	t.Run("card_3ds_expired", func(t *testing.T) {
		t.Parallel()
		order := uid("ord")
		createCheckout(t, checkoutBody(order, product(t, 1500, 3), 1, "card", cardToken(t, card3DS)))
		waitStatus(t, order, 30*time.Second, workflows.StatusExpired)
		recordWorkflow(t, workflows.CheckoutWorkflowID(order), "checkout_card_3ds_expired")
	})
	t.Run("wallet_paid", func(t *testing.T) {
		t.Parallel()
		order := uid("ord")
		createCheckout(t, checkoutBody(order, product(t, 1999, 3), 1, "rehive", ""))
		waitStatus(t, order, 20*time.Second, workflows.StatusAwaitingPayment)
		cust := rehiveCustomer(t, map[string]int64{"USD": 100000})
		if r := env.API(t, http.MethodPost, "/v1/checkouts/"+order+"/rehive/pay", map[string]string{"token": cust.Token, "account": cust.Account}); r.Status != http.StatusAccepted {
			t.Fatalf("pay: %d %s", r.Status, r.Body)
		}
		waitStatus(t, order, 20*time.Second, workflows.StatusFulfilled)
		recordWorkflow(t, workflows.CheckoutWorkflowID(order), "checkout_wallet_fulfilled")
	})
	t.Run("wallet_expired", func(t *testing.T) {
		t.Parallel()
		order := uid("ord")
		createCheckout(t, checkoutBody(order, product(t, 1999, 3), 1, "rehive", ""))
		waitStatus(t, order, 30*time.Second, workflows.StatusExpired)
		recordWorkflow(t, workflows.CheckoutWorkflowID(order), "checkout_wallet_expired")
	})
}

func TestRecordCurrencyManagerPaths(t *testing.T) {
	t.Parallel()
	t.Run("withdrawal", func(t *testing.T) {
		t.Parallel()
		u := rehiveCustomer(t, map[string]int64{xlm: 10 * xlmAmount})
		dest := uid("ledger-acct")
		linkAccount(t, u.Account, dest)
		tx := userTx(t, map[string]any{"user": u.Email, "tx_type": "debit", "currency": xlm, "amount": xlmAmount,
			"metadata": map[string]any{workflows.MetaLedgerAccount: dest}})
		waitCMTx(t, tx.ID, workflows.TxStatusComplete, cmWait)
		recordWorkflow(t, workflows.RehiveTxWorkflowID(tx.ID), "rehive_withdrawal_complete")
	})
	t.Run("transfer", func(t *testing.T) {
		t.Parallel()
		from, to := rehiveCustomer(t, map[string]int64{xlm: 10 * xlmAmount}), rehiveCustomer(t, nil)
		tx := userTx(t, map[string]any{"user": from.Email, "partner": to.Email, "tx_type": "debit", "currency": xlm, "amount": xlmAmount})
		waitCMTx(t, tx.ID, workflows.TxStatusComplete, cmWait)
		recordWorkflow(t, workflows.RehiveTxWorkflowID(tx.ID), "rehive_transfer_complete")
	})
	t.Run("initiating_pending_complete", func(t *testing.T) {
		t.Parallel()
		u := rehiveCustomer(t, map[string]int64{xlm: 10 * xlmAmount})
		tx := userTx(t, map[string]any{"user": u.Email, "tx_type": "debit", "currency": xlm, "amount": xlmAmount, "status": "Initiating",
			"metadata": map[string]any{workflows.MetaDestination: uid("dest")}})
		waitCMTx(t, tx.ID, workflows.TxStatusComplete, cmWait)
		recordWorkflow(t, workflows.RehiveTxWorkflowID(tx.ID), "rehive_initiating_pending_complete")
	})
	t.Run("unsupported", func(t *testing.T) {
		t.Parallel()
		u := rehiveCustomer(t, nil)
		tx := userTx(t, map[string]any{"user": u.Email, "tx_type": "credit", "currency": xlm, "amount": xlmAmount,
			"metadata": map[string]any{workflows.DepositMetadataKey: uid("ltx_forged")}})
		waitCMTx(t, tx.ID, workflows.TxStatusFailed, cmWait)
		recordWorkflow(t, workflows.RehiveTxWorkflowID(tx.ID), "rehive_unsupported_failed")
	})
	t.Run("deposit", func(t *testing.T) {
		t.Parallel()
		u := rehiveCustomer(t, nil)
		acct := uid("ledger-dep")
		linkAccount(t, u.Account, acct)
		id := ledgerIncoming(t, acct, xlmAmount, 1)
		waitDeposit(t, id, workflows.DepositPending, cmWait)
		ledgerConfirm(t, id)
		waitDeposit(t, id, workflows.DepositComplete, cmWait)
		recordWorkflow(t, workflows.DepositWorkflowID(id), "deposit_credited")
	})
}

// payflow replay's core on a live server: the running workflows replay
// against the current code, and a checkout whose code changed its commands
// is reported as one that would break.
func TestReplayRunningWorkflows(t *testing.T) {
	t.Parallel()
	order := uid("ord")
	createCheckout(t, checkoutBody(order, product(t, 700, 2), 1, "card", cardToken(t, cardApproved)))
	waitStatus(t, order, 20*time.Second, workflows.StatusFulfilled) // open for its refund window
	wid := workflows.CheckoutWorkflowID(order)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	opts := replay.Options{Namespace: env.Config.Namespace, Types: []string{workflows.CheckoutWorkflowName}}

	rep, err := replay.Running(ctx, env.App.Temporal, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Replayed[workflows.CheckoutWorkflowName] == 0 {
		t.Fatalf("no running checkout replayed: %+v", rep)
	}
	for _, b := range rep.Broken {
		if b.WorkflowID == wid {
			t.Fatalf("the current code breaks its own workflow: %v", b.Err)
		}
	}

	opts.Register = func(r worker.WorkflowReplayer) {
		r.RegisterWorkflowWithOptions(reorderedCheckout, workflow.RegisterOptions{Name: workflows.CheckoutWorkflowName})
	}
	rep, err = replay.Running(ctx, env.App.Temporal, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, b := range rep.Broken {
		found = found || b.WorkflowID == wid
	}
	if !found {
		t.Fatalf("a checkout with reordered commands was not reported: %+v", rep)
	}
}

// reorderedCheckout is a "next version" of the checkout that reserves the
// stock before it prices the cart, without GetVersion.
func reorderedCheckout(ctx workflow.Context, in workflows.CheckoutInput) (workflows.CheckoutState, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second})
	if err := workflow.ExecuteActivity(actx, workflows.ActReserveStock, workflows.ReserveInput{OrderID: in.OrderID, Lines: in.Lines}).Get(ctx, nil); err != nil {
		return workflows.CheckoutState{}, err
	}
	err := workflow.ExecuteActivity(actx, workflows.ActPriceCart, workflows.PriceCartInput{OrderID: in.OrderID, Currency: in.Currency, Lines: in.Lines}).Get(ctx, nil)
	return workflows.CheckoutState{}, err
}
