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

	"github.com/payflow/payflow/workflows"
)

// Histories of real checkouts replay against the current workflow code
// without a determinism error. With PAYFLOW_RECORD_HISTORIES=1 they are also
// saved under workflows/testdata, where the unit tests replay them forever
// after, so a change that breaks running workflows fails there.
func TestCheckoutHistoriesReplay(t *testing.T) {
	t.Parallel()
	sku := product(t, 800, 5)
	declined, refunded := uid("ord"), uid("ord")
	createCheckout(t, checkoutBody(declined, sku, 1, "card", cardToken(t, cardDeclined)))
	createCheckout(t, checkoutBody(refunded, sku, 1, "card", cardToken(t, cardApproved)))
	waitStatus(t, declined, 20*time.Second, workflows.StatusFailed)
	waitStatus(t, refunded, 20*time.Second, workflows.StatusFulfilled)
	waitFor(t, "capture", func() bool { p := ckoPayments(t, refunded); return len(p) == 1 && p[0].Captured > 0 })
	if r := env.API(t, http.MethodPost, "/v1/checkouts/"+refunded+"/cancel", nil); r.Status != http.StatusAccepted {
		t.Fatalf("cancel: %d", r.Status)
	}
	waitStatus(t, refunded, 20*time.Second, workflows.StatusRefunded)

	for name, order := range map[string]string{"checkout_card_declined": declined, "checkout_card_refunded": refunded} {
		h := closedHistory(t, workflows.CheckoutWorkflowID(order))
		replayer := worker.NewWorkflowReplayer()
		replayer.RegisterWorkflowWithOptions(workflows.Checkout, workflow.RegisterOptions{Name: workflows.CheckoutWorkflowName})
		if err := replayer.ReplayWorkflowHistory(nil, h); err != nil {
			t.Fatalf("%s does not replay: %v", name, err)
		}
		if os.Getenv("PAYFLOW_RECORD_HISTORIES") != "" {
			raw, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join("..", "workflows", "testdata", name+".json"), raw, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// closedHistory waits for the workflow to close and returns its history.
func closedHistory(t *testing.T, workflowID string) *historypb.History {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	waitFor(t, workflowID+" to close", func() bool {
		d, err := env.App.Temporal.DescribeWorkflowExecution(ctx, workflowID, "")
		return err == nil && d.WorkflowExecutionInfo.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
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
	return h
}
