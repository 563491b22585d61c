// Package app assembles payflow from its configuration: the store, the
// Temporal client, the provider clients, the webhook inbox, the API and the
// worker. The binary's commands and the integration tests build it the same
// way.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/payflow/payflow/activities"
	"github.com/payflow/payflow/api"
	"github.com/payflow/payflow/config"
	"github.com/payflow/payflow/inbox"
	"github.com/payflow/payflow/providers/checkoutcom"
	"github.com/payflow/payflow/providers/ledger"
	"github.com/payflow/payflow/providers/rehive"
	"github.com/payflow/payflow/schema"
	"github.com/payflow/payflow/store"
	"github.com/payflow/payflow/telemetry"
	"github.com/payflow/payflow/worker"
)

// App is an assembled payflow.
type App struct {
	Config   config.Config
	Logger   *slog.Logger
	Store    *store.Store
	Temporal client.Client
	// The worker's provider clients (activities, the reconciliation) try each
	// call once: Temporal's retry policy is their one retry layer, and a
	// retry inside an activity would only hide attempts from the history.
	CheckoutCom *checkoutcom.Client
	Rehive      *rehive.Client
	Ledger      *ledger.Client
	// APIRehive is the API process's Rehive client (the customer's transfer,
	// a webhook's routing). It keeps bounded retries of idempotent calls: no
	// retry policy wraps a request a customer or a provider waits on.
	APIRehive *rehive.Client
	Inbox     *inbox.Deliverer
	Registry  *prometheus.Registry
	// metrics feed the Temporal SDK's metrics into Registry.
	metrics *telemetry.Metrics
}

// New connects to PostgreSQL and Temporal lazily, so it succeeds while they
// are down; /readyz reports them.
func New(cfg config.Config, logger *slog.Logger) (*App, error) {
	st, err := store.OpenTimeouts(cfg.DatabaseURL, cfg.DBMaxOpenConns, cfg.DBMaxIdleConns,
		store.Timeouts{Connect: cfg.DBConnectTimeout, Statement: cfg.DBStatementTimeout})
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	topts, metrics, err := TemporalOptions(cfg, logger, reg)
	if err != nil {
		st.Close()
		return nil, err
	}
	tc, err := client.NewLazyClient(topts)
	if err != nil {
		st.Close()
		metrics.Close()
		return nil, fmt.Errorf("temporal client: %w", err)
	}
	a := &App{
		Config: cfg, Logger: logger, Store: st, Temporal: tc, Registry: reg, metrics: metrics,
		CheckoutCom: checkoutcom.New(checkoutcom.Config{
			BaseURL: cfg.CheckoutCom.BaseURL, SecretKey: cfg.CheckoutCom.SecretKey, ProcessingChannelID: cfg.CheckoutCom.ProcessingChannelID,
			ThreeDS: true, SuccessURL: cfg.CheckoutCom.SuccessURL, FailureURL: cfg.CheckoutCom.FailureURL,
			Timeout: 20 * time.Second, Attempts: 1,
		}),
		Rehive:    rehive.New(rehive.Config{BaseURL: cfg.Rehive.BaseURL, AdminToken: cfg.Rehive.AdminToken, Timeout: 20 * time.Second, Attempts: 1}),
		Ledger:    ledger.New(ledger.Config{BaseURL: cfg.Ledger.BaseURL, APIKey: cfg.Ledger.APIKey, Timeout: 20 * time.Second, Attempts: 1}),
		APIRehive: rehive.New(rehive.Config{BaseURL: cfg.Rehive.BaseURL, AdminToken: cfg.Rehive.AdminToken, Timeout: 20 * time.Second}),
	}
	a.Inbox = &inbox.Deliverer{
		Store: st, Temporal: tc, TaskQueue: cfg.TaskQueue, Logger: logger,
		Policy:            inbox.Policy{IsManaged: cfg.IsManaged, Stall: cfg.StallTimeout},
		ResolveTransition: a.resolveTransition,
	}
	a.Registry.MustRegister(&reconcileCollector{store: st})
	return a, nil
}

func (a *App) resolveTransition(ctx context.Context, id string) (string, string, error) {
	t, err := a.APIRehive.GetTransition(ctx, id)
	if err != nil {
		return "", "", err
	}
	return string(t.Transaction.ID), t.Transaction.Currency.Code, nil
}

// Close releases connections.
func (a *App) Close() {
	a.Temporal.Close()
	_ = a.metrics.Close()
	a.Store.Close()
}

// Migrate applies the database migrations.
func (a *App) Migrate(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	// Migrations may run longer than the statement timeout of the pool.
	mst, err := store.OpenTimeouts(a.Config.DatabaseURL, 1, 1, store.Timeouts{Connect: a.Config.DBConnectTimeout})
	if err != nil {
		return err
	}
	defer mst.Close()
	v, err := schema.Migrate(ctx, mst.DB().DB)
	if err != nil {
		return err
	}
	a.Logger.Info("database migrated", "version", v)
	return a.Store.SyncManagedCurrencies(ctx, a.Config.Managed)
}

// API builds the fiber app.
func (a *App) API() *fiber.App {
	return api.New(api.Deps{
		Config: a.Config, Store: a.Store, Temporal: a.Temporal, Rehive: a.APIRehive, Inbox: a.Inbox,
		Logger: a.Logger, Registry: a.Registry,
	})
}

// Worker builds the Temporal worker with every activity wired to the clients.
func (a *App) Worker() sdkworker.Worker {
	return worker.New(a.Temporal, a.Config.TaskQueue, worker.Deps{
		VersionPins: a.Config.VersionPins,
		Checkout: &activities.Checkout{
			Store: a.Store, CheckoutCom: a.CheckoutCom, Rehive: a.Rehive,
			Merchant: activities.Merchant{Email: a.Config.Rehive.MerchantEmail, Account: a.Config.Rehive.MerchantAccount},
		},
		CurrencyManager: &activities.CurrencyManager{
			Store: a.Store, Rehive: a.Rehive, Ledger: a.Ledger,
			// The configuration, as the webhook routing uses it: one source.
			Managed:           a.Config.IsManaged,
			WithdrawalAccount: a.Config.Ledger.WithdrawalAccount,
		},
		Reconciler: a.reconciler(),
	})
}

// ServeAPI serves the API on ln, with the inbox relay beside it, until ctx
// ends; then it stops taking requests and lets those in flight finish.
func (a *App) ServeAPI(ctx context.Context, ln net.Listener) error {
	app := a.API()
	if err := a.Store.SyncManagedCurrencies(ctx, a.Config.Managed); err != nil {
		a.Logger.Warn("managed currencies not synced", "error", err)
	}
	relayCtx, stopRelay := context.WithCancel(ctx)
	relayDone := make(chan struct{}, 2)
	go func() {
		defer func() { relayDone <- struct{}{} }()
		a.Inbox.Relay(relayCtx, time.Second, 3*time.Second)
	}()
	go func() { defer func() { relayDone <- struct{}{} }(); a.keepReconcileSchedule(relayCtx) }()
	// Both finish the work in flight before the store closes.
	defer func() { stopRelay(); <-relayDone; <-relayDone }()
	pruneDone := make(chan struct{})
	go func() { defer close(pruneDone); a.pruneLoop(relayCtx) }()
	defer func() { stopRelay(); <-pruneDone }()
	errc := make(chan error, 2)
	go func() { errc <- app.Listener(ln) }()
	go func() {
		if err := a.ServeOps(relayCtx); err != nil {
			errc <- err
		}
	}()
	a.Logger.Info("api listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.Logger.Info("api shutting down")
	if err := app.ShutdownWithTimeout(20 * time.Second); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// RunWorker runs the worker until ctx ends, then stops it cleanly.
func (a *App) RunWorker(ctx context.Context) error {
	a.Logger.Info("worker starting", "task_queue", a.Config.TaskQueue)
	go a.keepReconcileSchedule(ctx)
	stop := make(chan any)
	go func() { <-ctx.Done(); close(stop) }()
	// Run returns on stop, after a clean shutdown, or with a fatal worker error.
	if err := a.Worker().Run(stop); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	a.Logger.Info("worker stopped")
	return nil
}

// levelFilter drops records below a level.
type levelFilter struct {
	slog.Handler
	min slog.Level
}

func (f levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= f.min && f.Handler.Enabled(ctx, l)
}

func (f levelFilter) WithAttrs(attrs []slog.Attr) slog.Handler {
	return levelFilter{f.Handler.WithAttrs(attrs), f.min}
}

func (f levelFilter) WithGroup(name string) slog.Handler {
	return levelFilter{f.Handler.WithGroup(name), f.min}
}
