package workflows

import "go.temporal.io/sdk/workflow"

// WorkflowRegistry is what workflows are registered with: a worker, or a
// replayer that checks recorded or running histories against this code.
type WorkflowRegistry interface {
	RegisterWorkflowWithOptions(w any, options workflow.RegisterOptions)
}

// RegisterWorkflows registers every payflow workflow under the name it runs
// as. The worker and `payflow replay` share it, so a replay checks exactly
// the workflows a deploy would run.
func RegisterWorkflows(r WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(Checkout, workflow.RegisterOptions{Name: CheckoutWorkflowName})
	r.RegisterWorkflowWithOptions(RehiveTransaction, workflow.RegisterOptions{Name: RehiveTxWorkflowName})
	r.RegisterWorkflowWithOptions(LedgerDeposit, workflow.RegisterOptions{Name: DepositWorkflowName})
	r.RegisterWorkflowWithOptions(Reconcile, workflow.RegisterOptions{Name: ReconcileWorkflowName})
}
