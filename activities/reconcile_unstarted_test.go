package activities

import (
	"context"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/payflow/payflow/store"
	"github.com/payflow/payflow/workflows"
)

// describeOnly describes the workflows it knows, terminated, and no other.
type describeOnly struct {
	client.Client
	runs map[string]string // workflow id → run id
}

func (d describeOnly) DescribeWorkflowExecution(_ context.Context, id, _ string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	run, ok := d.runs[id]
	if !ok {
		return nil, serviceerror.NewNotFound("workflow not found")
	}
	return &workflowservice.DescribeWorkflowExecutionResponse{WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{
		Execution: &commonpb.WorkflowExecution{WorkflowId: id, RunId: run}, Status: enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED}}, nil
}

// An order whose workflow never started is failed; one whose run started
// and closed before its first save (the API does not record the run) gets
// the run id, which hands it to the orphaned pass.
func TestReconcileUnstartedRecordsStartedRuns(t *testing.T) {
	st := cmTestStore(t)
	ctx := context.Background()
	for _, id := range []string{"ord_never", "ord_closed"} {
		if _, _, err := st.CreateOrderWithToken(ctx, store.Order{OrderID: id, Status: workflows.StatusPending, Amount: 100, Currency: "USD",
			PaymentMethod: "card", RequestHash: "h", WorkflowID: workflows.CheckoutWorkflowID(id)}, "tok_unstarted_0000"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.DB().ExecContext(ctx, `UPDATE orders SET created_at = now() - interval '2 minutes', updated_at = now() - interval '2 minutes'`); err != nil {
		t.Fatal(err)
	}
	rec := &Reconciler{Store: st, Temporal: describeOnly{runs: map[string]string{workflows.CheckoutWorkflowID("ord_closed"): "run-closed"}},
		UnstartedAfter: time.Minute, Page: 10}
	var env testsuite.WorkflowTestSuite
	aenv := env.NewTestActivityEnvironment()
	aenv.RegisterActivity(rec.ReconcileUnstarted)
	v, err := aenv.ExecuteActivity(rec.ReconcileUnstarted)
	if err != nil {
		t.Fatal(err)
	}
	var p workflows.ReconcilePass
	if err := v.Get(&p); err != nil || p.Checked != 2 || len(p.Errors) != 0 {
		t.Fatalf("pass %+v, %v", p, err)
	}

	never, err := st.GetOrder(ctx, "ord_never")
	if err != nil || never.Status != workflows.StatusFailed || never.FailureReason != "not_started" {
		t.Fatalf("never started: %+v, %v", never, err)
	}
	closed, err := st.GetOrder(ctx, "ord_closed")
	if err != nil || closed.Status != workflows.StatusPending || closed.RunID != "run-closed" {
		t.Fatalf("started, closed before saving: %+v, %v", closed, err)
	}
	if tok, err := st.PaymentToken(ctx, "ord_closed"); err != nil || tok == "" {
		t.Fatalf("the started order's token: %q, %v", tok, err)
	}
	idle, err := st.OpenOrdersIdle(ctx, []string{string(workflows.StatusFailed)}, 10*time.Second, 10)
	if err != nil || len(idle) != 1 || idle[0].OrderID != "ord_closed" {
		t.Fatalf("orders for the orphaned pass: %+v, %v", idle, err)
	}
}
