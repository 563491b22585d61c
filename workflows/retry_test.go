package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// askAgain's tries, as offsets from the first, for a schedule in a workflow.
func askAgainOffsets(t *testing.T, a askAgain, settleAt int) (offsets []time.Duration, settled bool) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.ExecuteWorkflow(func(ctx workflow.Context) error {
		start := workflow.Now(ctx)
		var err error
		settled, err = a.until(ctx, func(attempt int) bool {
			require.Equal(t, len(offsets), attempt)
			offsets = append(offsets, workflow.Now(ctx).Sub(start))
			return attempt == settleAt
		})
		return err
	})
	require.NoError(t, env.GetWorkflowError())
	return offsets, settled
}

func TestAskAgainBacksOffUpToMax(t *testing.T) {
	got, settled := askAgainOffsets(t, askAgain{first: time.Second, max: 3 * time.Second, attempts: 4}, -1)
	require.False(t, settled)
	require.Equal(t, []time.Duration{0, time.Second, 3 * time.Second, 6 * time.Second}, got)

	got, settled = askAgainOffsets(t, askAgain{first: time.Second, max: time.Minute}, 2)
	require.True(t, settled)
	require.Len(t, got, 3)
}

// A try that does not settle once within has passed is the last.
func TestAskAgainStopsAfterWithin(t *testing.T) {
	got, settled := askAgainOffsets(t, askAgain{first: 10 * time.Second, max: 10 * time.Second, within: 25 * time.Second}, -1)
	require.False(t, settled)
	require.Equal(t, []time.Duration{0, 10 * time.Second, 20 * time.Second, 30 * time.Second}, got)
}
