package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Reconcile is one run of the reconciliation (PRODUCT.md, "Webhooks are a
// hint, the provider is the truth"). The Temporal Schedule ReconcileScheduleID
// starts it every PAYFLOW_RECONCILE_INTERVAL; each pass is one activity that
// settles at most a page of work, idempotently, so a run that dies half way,
// or two runs side by side, settle nothing twice. A pass that fails does not
// hold up the others: the next run tries again.
func Reconcile(ctx workflow.Context) (ReconcileReport, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		// Work left over waits for the next run rather than a tight retry.
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 5 * time.Second, MaximumAttempts: 2},
	})
	// Runs that began before a pass was added replay without it.
	passes := ReconcilePasses
	switch workflow.GetVersion(ctx, versionReconcileUnheard, workflow.DefaultVersion, 2) {
	case workflow.DefaultVersion:
		passes = passes[:len(passes)-len(unheardPasses)]
	case 1:
		passes = passes[:len(passes)-1] // before ReconcileMerchantCredits
	}
	report := ReconcileReport{Passes: []ReconcilePass{}}
	for _, name := range passes {
		var p ReconcilePass
		if err := workflow.ExecuteActivity(ctx, name).Get(ctx, &p); err != nil {
			p = ReconcilePass{Errors: []string{errDetail(err)}}
		}
		p.Name = name
		report.Passes = append(report.Passes, p)
	}
	return report, nil
}

// Names of the reconciliation's schedule, workflow and passes.
const (
	ReconcileWorkflowName = "Reconcile"
	// ReconcileScheduleID is the one schedule every process creates or
	// updates at start; its runs are reconcile/<time>.
	ReconcileScheduleID = "payflow-reconcile"
	ReconcileWorkflowID = "reconcile"

	ActReconcileUnstarted = "ReconcileUnstarted"    // orders whose workflow never started
	ActReconcileOrphaned  = "ReconcileOrphaned"     // orders whose workflow closed without a terminal status
	ActReconcileUnpaid    = "ReconcileClosedUnpaid" // card orders closed unpaid: ask Checkout.com
	ActReconcileInbox     = "ReconcileInbox"        // events that reached a closed workflow
	ActReconcileDeposits  = "ReconcileDeposits"     // deposits the ledger confirmed after their stall
	// The passes that list the providers' books for what payflow never
	// heard of.
	ActReconcileUnheardRehive   = "ReconcileUnheardRehive"   // managed transactions with a transition no run took up
	ActReconcileUnheardDeposits = "ReconcileUnheardDeposits" // ledger deposits with no workflow
	ActReconcileMerchantCredits = "ReconcileMerchantCredits" // wallet payments a terminal order does not keep
)

// versionReconcileUnheard: the passes that list the providers run after the
// others (1: Rehive transitions and ledger deposits; 2: merchant credits).
const versionReconcileUnheard = "reconcile-unheard"

var unheardPasses = []string{ActReconcileUnheardRehive, ActReconcileUnheardDeposits, ActReconcileMerchantCredits}

// ReconcilePasses run in this order: an order settled by one pass is no
// longer a candidate of the next.
var ReconcilePasses = append([]string{ActReconcileUnstarted, ActReconcileOrphaned, ActReconcileUnpaid, ActReconcileInbox, ActReconcileDeposits},
	unheardPasses...)

// ReconcileReport is a run's result, as the Web UI shows it.
type ReconcileReport struct {
	Passes []ReconcilePass `json:"passes"`
}

// ReconcilePass says what one pass looked at and did.
type ReconcilePass struct {
	Name    string   `json:"name"`
	Checked int      `json:"checked"`
	Actions []string `json:"actions,omitempty"` // "<subject>: <action>"
	// Deferred counts subjects left for a later run (a provider not final
	// yet, a call that failed).
	Deferred int      `json:"deferred"`
	Errors   []string `json:"errors,omitempty"`
}

// Timeline steps the reconciliation records on orders, transactions and
// deposits (and counts in /metrics as payflow_reconcile_actions_total).
const (
	RecClosedUnstarted   = "reconcile_not_started"         // an order whose workflow never started, failed
	RecVoidRequested     = "reconcile_void_requested"      // an authorisation for an unpaid order, voided
	RecRefundRequested   = "reconcile_refund_requested"    // a capture for an unpaid order, refunded
	RecRefunded          = "reconcile_refunded"            // the provider confirmed the refund
	RecVoided            = "reconcile_voided"              // the provider confirmed the void
	RecReversed          = "reconcile_reversed"            // a Rehive payment for an unpaid order, reversed
	RecStockReleased     = "reconcile_stock_released"      // a closed workflow's reservation, released
	RecSettled           = "reconcile_settled"             // an order whose workflow closed, given its terminal status
	RecReadModelRepaired = "reconcile_read_model_repaired" // a completed workflow's final state, written to the order
	RecNeedsAttention    = "reconcile_needs_attention"     // the providers disagree in a way only an operator can settle
	RecLedgerCompleted   = "reconcile_ledger_completed"
	RecLedgerCreated     = "reconcile_ledger_created"
	RecLedgerCancelled   = "reconcile_ledger_cancelled"
	RecRehiveConsistent  = "reconcile_consistent" // checked, Rehive and the ledger agree
	RecDepositCredited   = "reconcile_deposit_credited"
	// A transition no run had taken up, handed to the transaction's workflow.
	RecTransitionHandedOver = "reconcile_transition_handed_over"
	// A ledger deposit payflow never heard of: its workflow started.
	RecDepositStarted = "reconcile_deposit_started"
)

// ReasonWorkflowClosed is the failure reason of an order whose workflow
// ended (terminated, failed, timed out) before the order did.
const ReasonWorkflowClosed = "workflow_closed"
