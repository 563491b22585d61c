package devserver

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// A workflow started before a restart of the dev server is still there, with
// its history, after it: the SQLite file keeps it.
func TestWorkflowSurvivesRestart(t *testing.T) {
	dbFile := filepath.Join(t.TempDir(), "temporal.sqlite")
	addr := freeAddr(t)
	start := func() (*Server, client.Client) {
		srv, err := Start(Options{FrontendAddr: addr, DatabaseFile: dbFile})
		if err != nil {
			t.Fatal(err)
		}
		c, err := client.Dial(client.Options{HostPort: addr})
		if err != nil {
			srv.Stop()
			t.Fatal(err)
		}
		return srv, c
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	srv, c := start()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "checkout/persisted", TaskQueue: "nobody-polls"}, "Checkout", "input")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SignalWorkflow(ctx, run.GetID(), run.GetRunID(), "payment-event", "hello"); err != nil {
		t.Fatal(err)
	}
	before := historyLength(ctx, t, c, run.GetID(), run.GetRunID())
	c.Close()
	srv.Stop()

	srv, c = start()
	defer srv.Stop()
	defer c.Close()
	desc, err := c.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
	if err != nil {
		t.Fatalf("workflow lost across restart: %v", err)
	}
	if s := desc.WorkflowExecutionInfo.Status; s != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Fatalf("status %v after restart", s)
	}
	if after := historyLength(ctx, t, c, run.GetID(), run.GetRunID()); after != before || after < 3 {
		t.Fatalf("history has %d events after restart, %d before", after, before)
	}
}

func historyLength(ctx context.Context, t *testing.T, c client.Client, id, runID string) int {
	t.Helper()
	it := c.GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	n := 0
	for it.HasNext() {
		if _, err := it.Next(); err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}
