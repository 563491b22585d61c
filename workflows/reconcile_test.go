package workflows

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// Every pass runs, in order, even when one fails; the report says what
// each did, and a failing pass is retried once, not in a tight loop.
func TestReconcileRunsEveryPassDespiteAFailure(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(Reconcile, workflow.RegisterOptions{Name: ReconcileWorkflowName})
	var order []string
	calls := map[string]int{}
	for _, name := range ReconcilePasses {
		name := name
		env.RegisterActivityWithOptions(func(context.Context) (ReconcilePass, error) {
			order = append(order, name)
			calls[name]++
			if name == ActReconcileUnpaid {
				return ReconcilePass{}, temporal.NewApplicationError("checkout.com is down", "retryable")
			}
			return ReconcilePass{Checked: 2, Actions: []string{"ord_1: " + RecSettled}}, nil
		}, activity.RegisterOptions{Name: name})
	}
	env.ExecuteWorkflow(ReconcileWorkflowName)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var rep ReconcileReport
	require.NoError(t, env.GetWorkflowResult(&rep))

	require.Len(t, rep.Passes, len(ReconcilePasses))
	for i, p := range rep.Passes {
		require.Equal(t, ReconcilePasses[i], p.Name)
		if p.Name == ActReconcileUnpaid {
			require.Equal(t, []string{"checkout.com is down"}, p.Errors)
			continue
		}
		require.Equal(t, 2, p.Checked)
		require.Empty(t, p.Errors)
	}
	require.Equal(t, 2, calls[ActReconcileUnpaid], "a failed pass is tried twice in a run")
	dedup := []string{}
	for _, name := range order {
		if len(dedup) == 0 || dedup[len(dedup)-1] != name {
			dedup = append(dedup, name)
		}
	}
	require.Equal(t, ReconcilePasses, dedup, "every pass in order, the failing one twice")
}
