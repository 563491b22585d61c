package api

import (
	"context"
	"errors"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/payflow/payflow/workflows"
)

// stateQueryTimeout bounds a workflow query, so that a missing worker costs a
// read of the read model rather than a hung request.
const stateQueryTimeout = 3 * time.Second

// queryState asks a workflow for its state (every payflow workflow answers
// workflows.QueryState).
func (s *server) queryState(ctx context.Context, workflowID string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, stateQueryTimeout)
	defer cancel()
	v, err := s.Temporal.QueryWorkflow(ctx, workflowID, "", workflows.QueryState)
	if err != nil {
		return err
	}
	return v.Get(out)
}

// errWorkflowClosed is queryOpenState's answer for a workflow that has closed.
var errWorkflowClosed = errors.New("workflow closed")

// queryOpenState is queryState for a running workflow only: once it has
// closed, the read model is the truth, since the reconciliation may have
// settled it after its last state.
func (s *server) queryOpenState(ctx context.Context, workflowID string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, stateQueryTimeout)
	defer cancel()
	resp, err := s.Temporal.QueryWorkflowWithOptions(ctx, &client.QueryWorkflowWithOptionsRequest{
		WorkflowID: workflowID, QueryType: workflows.QueryState,
		QueryRejectCondition: enumspb.QUERY_REJECT_CONDITION_NOT_OPEN,
	})
	if err != nil {
		return err
	}
	if resp.QueryRejected != nil {
		return errWorkflowClosed
	}
	return resp.QueryResult.Get(out)
}
