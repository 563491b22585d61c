// Package replay replays the histories of running workflows against this
// binary's workflow code before a deploy (`payflow replay`): a change that
// is not behind workflow.GetVersion and alters the commands of a path a
// running workflow took makes its replay fail, and the deploy would break
// that workflow on its next task.
package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/payflow/payflow/workflows"
)

// Register registers payflow's workflows under their names, as the worker
// does.
func Register(r worker.WorkflowReplayer) { workflows.RegisterWorkflows(r) }

// Types are the workflow types payflow runs.
var Types = []string{workflows.CheckoutWorkflowName, workflows.RehiveTxWorkflowName, workflows.DepositWorkflowName, workflows.ReconcileWorkflowName}

// Options say what to replay and how.
type Options struct {
	Namespace string
	// Types to replay (default Types).
	Types []string
	// Limit bounds the workflows replayed per type (0: all).
	Limit int
	// Register registers the workflow code to replay against (default
	// Register); tests pass altered code.
	Register func(worker.WorkflowReplayer)
	// DataConverter decodes the histories' payloads (the payload codec
	// when PAYFLOW_CODEC_KEYS is set).
	DataConverter converter.DataConverter
	// FailureConverter decodes the failures in them (with the codec, their
	// messages are encrypted too).
	FailureConverter converter.FailureConverter
	Logger           *slog.Logger
}

// Result is one workflow's replay.
type Result struct {
	Type, WorkflowID, RunID string
	// Err is the replay's failure: a nondeterminism error names the
	// command the code no longer issues.
	Err error
}

// Report is what a replay found, per workflow type.
type Report struct {
	Replayed map[string]int
	Broken   []Result
}

// Running replays every running workflow of each type and reports those
// whose history the code cannot replay. out, when set, gets a line per
// broken workflow and a summary per type.
func Running(ctx context.Context, c client.Client, o Options, out io.Writer) (Report, error) {
	if o.Register == nil {
		o.Register = Register
	}
	if len(o.Types) == 0 {
		o.Types = Types
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if out == nil {
		out = io.Discard
	}
	rep := Report{Replayed: map[string]int{}}
	replayer, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: o.DataConverter, FailureConverter: o.FailureConverter})
	if err != nil {
		return rep, err
	}
	o.Register(replayer)
	logger := tlog.NewStructuredLogger(o.Logger)
	for _, typ := range o.Types {
		execs, err := running(ctx, c, o.Namespace, typ, o.Limit)
		if err != nil {
			return rep, fmt.Errorf("list running %s workflows: %w", typ, err)
		}
		broken := 0
		for _, ex := range execs {
			h, err := history(ctx, c, ex.workflowID, ex.runID)
			if err != nil {
				return rep, fmt.Errorf("history of %s: %w", ex.workflowID, err)
			}
			rep.Replayed[typ]++
			if err := replayer.ReplayWorkflowHistory(logger, h); err != nil {
				broken++
				rep.Broken = append(rep.Broken, Result{Type: typ, WorkflowID: ex.workflowID, RunID: ex.runID, Err: err})
				fmt.Fprintf(out, "BREAKS  %s %s (run %s): %v\n", typ, ex.workflowID, ex.runID, err)
			}
		}
		fmt.Fprintf(out, "%-18s %d running, %d replayed, %d would break\n", typ, len(execs), len(execs)-broken, broken)
	}
	sort.Slice(rep.Broken, func(i, j int) bool { return rep.Broken[i].WorkflowID < rep.Broken[j].WorkflowID })
	return rep, nil
}

// running lists the open executions of one workflow type (visibility).
func running(ctx context.Context, c client.Client, namespace, typ string, limit int) ([]*execution, error) {
	var out []*execution
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: namespace, PageSize: 100, NextPageToken: token,
			Query: fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = 'Running'", typ),
		})
		if err != nil {
			return nil, err
		}
		for _, e := range resp.GetExecutions() {
			out = append(out, &execution{workflowID: e.GetExecution().GetWorkflowId(), runID: e.GetExecution().GetRunId()})
			if limit > 0 && len(out) >= limit {
				return out, nil
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return out, nil
		}
	}
}

type execution struct{ workflowID, runID string }

func history(ctx context.Context, c client.Client, workflowID, runID string) (*historypb.History, error) {
	h := &historypb.History{}
	it := c.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return nil, err
		}
		h.Events = append(h.Events, ev)
	}
	if len(h.Events) == 0 {
		return nil, errors.New("empty history")
	}
	return h, nil
}
