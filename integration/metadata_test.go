package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	sdk "go.temporal.io/api/sdk/v1"

	"github.com/payflow/payflow/workflows"
)

// userMetadata is what the Web UI shows of a workflow without its history:
// the static summary and details of its start, and its current details.
func userMetadata(t *testing.T, workflowID string) (summary, details, current string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := env.App.Temporal.DescribeWorkflow(ctx, workflowID, "")
	if err != nil {
		t.Fatalf("describe %s: %v", workflowID, err)
	}
	if summary, err = d.GetStaticSummary(); err != nil {
		t.Fatalf("summary of %s: %v", workflowID, err)
	}
	if details, err = d.GetStaticDetails(); err != nil {
		t.Fatalf("details of %s: %v", workflowID, err)
	}
	v, err := env.App.Temporal.QueryWorkflow(ctx, workflowID, "", "__temporal_workflow_metadata")
	if err != nil {
		t.Fatalf("metadata query of %s: %v", workflowID, err)
	}
	var md sdk.WorkflowMetadata
	if err := v.Get(&md); err != nil {
		t.Fatalf("metadata of %s: %v", workflowID, err)
	}
	return summary, details, md.GetCurrentDetails()
}

func requireContains(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Fatalf("%s %q lacks %q", what, got, w)
		}
	}
}

// Each workflow type's start carries a summary and details, and the run
// keeps its current details (payflow status, what it waits for) up to date.
func TestWorkflowsShowUserMetadata(t *testing.T) {
	t.Parallel()
	t.Run("checkout", func(t *testing.T) {
		t.Parallel()
		order := uid("ord")
		createCheckout(t, checkoutBody(order, product(t, 1250, 5), 2, "card", cardToken(t, cardApproved)))
		waitStatus(t, order, 20*time.Second, workflows.StatusFulfilled)
		summary, details, current := userMetadata(t, workflows.CheckoutWorkflowID(order))
		if summary != "Order "+order+": 25.00 USD by card" {
			t.Fatalf("summary %q", summary)
		}
		requireContains(t, "details", details, "**Order**: "+order, "**Amount**: 25.00 USD", "**Payment method**: card")
		requireContains(t, "current details", current, "**Status**: fulfilled", "**Waiting for**: a refund or cancel")
		if strings.Contains(summary+details+current, "ada@example.com") {
			t.Fatal("the customer's email is in the user metadata")
		}
	})
	t.Run("ledger deposit", func(t *testing.T) {
		t.Parallel()
		id := ledgerIncoming(t, uid("ledger-unlinked"), xlmAmount, 0)
		waitDeposit(t, id, workflows.DepositUnlinked, cmWait)
		summary, details, current := userMetadata(t, workflows.DepositWorkflowID(id))
		requireContains(t, "summary", summary, "Ledger deposit "+id, xlm)
		requireContains(t, "details", details, "**Ledger transaction**: "+id)
		requireContains(t, "current details", current, "**Status**: unlinked", "**Waiting for**: an operator to link")
	})
	t.Run("rehive transaction", func(t *testing.T) {
		t.Parallel()
		from, to := rehiveCustomer(t, map[string]int64{xlm: 10 * xlmAmount}), rehiveCustomer(t, nil)
		tx := userTx(t, map[string]any{"user": from.Email, "partner": to.Email, "tx_type": "debit", "currency": xlm, "amount": xlmAmount})
		waitCMTx(t, tx.ID, workflows.TxStatusComplete, cmWait)
		summary, details, current := userMetadata(t, workflows.RehiveTxWorkflowID(tx.ID))
		requireContains(t, "summary", summary, "Rehive debit", tx.ID, xlm)
		requireContains(t, "details", details, "**Rehive transaction**: "+tx.ID)
		requireContains(t, "current details", current, "**Status**: complete", "**Flow**: transfer")
	})
}
