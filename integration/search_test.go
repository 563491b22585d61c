package integration

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/payflow/payflow/workflows"
)

// Operators find a checkout in the Web UI by its order id and status: the
// search attributes are indexed and queryable.
func TestCheckoutFoundBySearchAttributes(t *testing.T) {
	t.Parallel()
	sku := product(t, 100, 1)
	order := uid("ord")
	createCheckout(t, checkoutBody(order, sku, 1, "card", cardToken(t, cardApproved)))
	waitStatus(t, order, 20*time.Second, workflows.StatusFulfilled)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	waitFor(t, "the checkout in visibility by OrderId and PayflowStatus", func() bool {
		resp, err := env.App.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: "OrderId = '" + order + "' AND PayflowStatus = 'fulfilled'",
		})
		return err == nil && len(resp.Executions) == 1 && resp.Executions[0].Execution.WorkflowId == workflows.CheckoutWorkflowID(order)
	})
}
