package api

import (
	"context"
	"time"

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
