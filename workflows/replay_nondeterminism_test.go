package workflows

import (
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// The replay test catches what it is there for: a workflow whose commands
// come in another order than a recorded history's. checkoutPrefix issues the
// first commands of the recorded card checkout as Checkout does (the
// operator-cancel version marker, a read-model save, PriceCart, ReserveStock),
// with the two activities in either order. Registered under Checkout's name
// and replayed against the history up to ReserveStock's result, the faithful
// order replays and the swapped one fails as nondeterministic.
func TestReplayCatchesReorderedCommands(t *testing.T) {
	const history = "testdata/checkout_card_captured.json"
	const throughReserveStock = 16 // ActivityTaskCompleted of ReserveStock
	replay := func(swap bool) error {
		r := worker.NewWorkflowReplayer()
		r.RegisterWorkflowWithOptions(checkoutPrefix(swap), workflow.RegisterOptions{Name: CheckoutWorkflowName})
		return r.ReplayPartialWorkflowHistoryFromJSONFile(nil, history, throughReserveStock)
	}
	if err := replay(false); err != nil {
		t.Fatalf("the faithful prefix does not replay, so the test proves nothing: %v", err)
	}
	swapped := replay(true)
	if swapped == nil || !strings.Contains(swapped.Error(), "nondeterministic") {
		t.Fatalf("reordered commands replayed: %v", swapped)
	}
	if !strings.Contains(swapped.Error(), "PriceCart") || !strings.Contains(swapped.Error(), "ReserveStock") {
		t.Errorf("the failure does not name the reordered activities: %v", swapped)
	}
}

func checkoutPrefix(swap bool) func(workflow.Context, CheckoutInput) (CheckoutState, error) {
	return func(ctx workflow.Context, in CheckoutInput) (CheckoutState, error) {
		workflow.GetVersion(ctx, versionOperatorCancel, workflow.DefaultVersion, 1)
		lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{ScheduleToCloseTimeout: time.Minute})
		if err := workflow.ExecuteLocalActivity(lctx, ActSaveOrder, CheckoutState{}).Get(ctx, nil); err != nil {
			return CheckoutState{}, err
		}
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second})
		price := func() error {
			return workflow.ExecuteActivity(actx, ActPriceCart, PriceCartInput{OrderID: in.OrderID, Currency: in.Currency, Lines: in.Lines}).Get(ctx, nil)
		}
		reserve := func() error {
			return workflow.ExecuteActivity(actx, ActReserveStock, ReserveInput{OrderID: in.OrderID, Lines: in.Lines}).Get(ctx, nil)
		}
		first, second := price, reserve
		if swap {
			first, second = reserve, price
		}
		if err := first(); err != nil {
			return CheckoutState{}, err
		}
		return CheckoutState{}, second()
	}
}
