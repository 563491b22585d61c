package integration

import (
	"context"
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

// recordHistory replays the order's workflow history as it stands (open or
// closed) against the current code and, with PAYFLOW_RECORD_HISTORIES=1,
// saves it as workflows/testdata/checkout_<name>.json, where
// TestRecordedHistoriesReplay replays it from then on: a later change to the
// path it took that is not behind GetVersion fails there. Record with
// -run limited to the tests to record: a recorded file is history and must
// not be overwritten by a newer run of the same path.
func recordHistory(t *testing.T, name, order string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h := &historypb.History{}
	it := env.App.Temporal.GetWorkflowHistory(ctx, workflows.CheckoutWorkflowID(order), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, ev)
	}
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(workflows.Checkout, workflow.RegisterOptions{Name: workflows.CheckoutWorkflowName})
	if err := r.ReplayWorkflowHistory(nil, h); err != nil {
		t.Fatalf("%s does not replay: %v", name, err)
	}
	if os.Getenv("PAYFLOW_RECORD_HISTORIES") == "" {
		return
	}
	raw, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("..", "workflows", "testdata", "checkout_"+name+".json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
}
