// Package worker builds payflow's Temporal worker: every workflow and
// activity registered under the names the workflows call.
package worker

import (
	"time"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/payflow/payflow/activities"
	"github.com/payflow/payflow/workflows"
)

// Deps are the activity implementations.
type Deps struct {
	Checkout        *activities.Checkout
	CurrencyManager *activities.CurrencyManager
	Reconciler      *activities.Reconciler
	// VersionPins are the versions new runs record for pinned change ids
	// (workflows.PinnedVersions, PAYFLOW_WORKFLOW_VERSION_PINS).
	VersionPins map[string]int
}

// New returns a worker on taskQueue; the caller starts and stops it.
func New(c client.Client, taskQueue string, d Deps) sdkworker.Worker {
	w := sdkworker.New(c, taskQueue, sdkworker.Options{
		// On shutdown, give running activities time to finish before the
		// worker stops; Temporal retries whatever is cut short.
		WorkerStopTimeout:                  20 * time.Second,
		MaxConcurrentActivityExecutionSize: 200,
		PreferredVersionProvider:           workflows.PinnedVersions(d.VersionPins),
	})
	workflows.RegisterWorkflows(w)
	workflows.RegisterCheckoutActivities(w, d.Checkout)
	workflows.RegisterCurrencyActivities(w, d.CurrencyManager)
	// The reconciliation's passes are its methods, by name (workflows.ReconcilePasses).
	w.RegisterActivity(d.Reconciler)
	return w
}
