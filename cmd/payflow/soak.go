package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/payflow/payflow/breakage"
	"github.com/payflow/payflow/config"
	"github.com/payflow/payflow/deploy"
	"github.com/payflow/payflow/soak"
	"github.com/payflow/payflow/stack"
	"github.com/payflow/payflow/stack/scratchdb"
)

// soakFlags are `payflow soak`'s flags.
type soakFlags struct {
	shape                         string
	seed                          uint64
	checkouts, transactions, deps int
	conc                          int
	faults                        string
	kills                         bool
	killSet                       string
	paymentTimeout, stallTimeout  time.Duration
	reconcileInterval, lateWindow time.Duration
	prod                          prodFlags
	ui                            string
}

// runSoak runs the soak on a stack it brings up itself (dev: one process
// with the embedded Temporal server; prod: the production shape, as make
// run-prod runs it, on throwaway databases and free ports) and fails when an
// invariant broke.
func runSoak(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	var f soakFlags
	fs.StringVar(&f.shape, "shape", "dev", "dev (in-process, embedded Temporal) or prod (Temporal server on PostgreSQL, two api and two worker processes)")
	fs.Uint64Var(&f.seed, "seed", 0, "replay the run of this seed (default: a new one, printed)")
	fs.IntVar(&f.checkouts, "checkouts", 100, "checkout scenarios (card, 3-D Secure, wallet, cancels)")
	fs.IntVar(&f.transactions, "transactions", 60, "managed Rehive transaction scenarios (withdrawals, transfers, credits, Initiating→Pending→Complete, unmanaged)")
	fs.IntVar(&f.deps, "deposits", 20, "ledger deposit scenarios")
	fs.IntVar(&f.conc, "c", 8, "scenarios in flight at once")
	fs.StringVar(&f.faults, "faults", "all", "provider faults: none, all, or some of "+fmt.Sprint(soak.FaultKinds))
	fs.BoolVar(&f.kills, "kills", false, "process faults during the run (prod shape): the -kill-set")
	fs.StringVar(&f.killSet, "kill-set", soak.DefaultKills, "which process faults -kills injects, some of "+fmt.Sprint(soak.KillKinds))
	fs.DurationVar(&f.paymentTimeout, "payment-timeout", 10*time.Second, "the checkouts' payment timeout")
	fs.DurationVar(&f.stallTimeout, "stall-timeout", 20*time.Second, "the managed transactions' and deposits' stall timeout")
	fs.DurationVar(&f.reconcileInterval, "reconcile-interval", 10*time.Second, "how often the reconciliation runs")
	fs.DurationVar(&f.lateWindow, "late-window", 20*time.Second, "how long a closed checkout still refunds a late payment")
	f.prod.register(fs)
	fs.StringVar(&f.ui, "ui", "", "prod shape: serve its Temporal Web UI on this address (e.g. 127.0.0.1:8234) to watch the soak's workflows")
	if err := fs.Parse(os.Args[2:]); err != nil {
		return err
	}
	if f.seed == 0 {
		f.seed = rand.Uint64()
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if floor := 2 * soak.TemporalOutage; f.kills && strings.Contains(f.killSet, "temporal-outage") {
		// Production's timers (15 min, 1 h) outlast any outage they ride
		// out; a timer that fires while Temporal is stopped ends a payment
		// or fails a transaction, as PRODUCT.md says it must, which is no
		// scenario's expected end. Keep that order unless told otherwise.
		for _, d := range []struct {
			name string
			v    *time.Duration
		}{{"payment-timeout", &f.paymentTimeout}, {"stall-timeout", &f.stallTimeout}} {
			if !set[d.name] && *d.v < floor {
				*d.v = floor
				fmt.Printf("soak: --%s %s, twice the Temporal outage of --kills\n", d.name, floor)
			}
		}
	}
	fmt.Printf("soak seed %d (replay with --seed %d)\n", f.seed, f.seed)
	if ks := breakage.Active(); len(ks) > 0 {
		// A self-check: this binary, and so every process of the shape,
		// is broken on purpose; the soak must fail.
		fmt.Printf("soak: this build is broken on purpose: %v\n", ks)
	}
	opts := soak.Options{Checkouts: f.checkouts, Transactions: f.transactions, Deposits: f.deps, Concurrency: f.conc,
		Faults: f.faults, Seed: f.seed, Logf: func(s string, a ...any) { logger.Info(fmt.Sprintf(s, a...)) }}
	if f.kills {
		opts.Kills = f.killSet
	}
	var target soak.Target
	switch f.shape {
	case "dev":
		env, err := stack.Start(stack.Options{PaymentTimeout: f.paymentTimeout, StallTimeout: f.stallTimeout,
			ReconcileInterval: f.reconcileInterval, LateWindow: f.lateWindow})
		if err != nil {
			return err
		}
		defer env.Close()
		target = soak.Target{APIURLs: []string{env.APIURL}, SandboxURL: env.SandboxURL, APIKey: env.Config.APIKeys[0],
			PaymentTimeout: f.paymentTimeout, StallTimeout: f.stallTimeout, DB: env.App.Store.DB()}
	case "prod":
		shape, t, cleanup, err := startProdShape(ctx, cfg, f, logger)
		defer cleanup()
		if err != nil {
			return err
		}
		defer shape.Stop()
		target = t
	default:
		return fmt.Errorf("--shape: want dev or prod, got %q", f.shape)
	}
	rep, err := soak.Run(ctx, target, opts)
	if err != nil {
		return err
	}
	fmt.Print(rep)
	if len(rep.Violations) > 0 {
		return errors.New("invariants broken")
	}
	return nil
}

// startProdShape brings the production shape up on fresh databases (its own
// payflow, temporal and temporal_visibility) and free loopback ports, so it
// runs beside a make run-prod and other tests; cleanup drops the databases.
func startProdShape(ctx context.Context, cfg config.Config, f soakFlags, logger *slog.Logger) (*deploy.Shape, soak.Target, func(), error) {
	var drop []string
	var db *sqlx.DB
	cleanup := func() {
		if db != nil {
			db.Close()
		}
		for _, name := range drop {
			if err := scratchdb.Drop(name); err != nil {
				logger.Warn("drop database", "name", name, "error", err)
			}
		}
	}
	dbURL, dbName, err := scratchdb.Create()
	if err != nil {
		return nil, soak.Target{}, cleanup, err
	}
	drop = append(drop, dbName)
	suffix := stack.RandomID(4)
	temporalDB, visibilityDB := "temporal_soak_"+suffix, "temporal_visibility_soak_"+suffix
	drop = append(drop, temporalDB, visibilityDB)
	addr := func() string {
		p, _ := deploy.FreePort("127.0.0.1")
		return fmt.Sprintf("127.0.0.1:%d", p)
	}
	dataDir, err := os.MkdirTemp("", "payflow-soak-")
	if err != nil {
		return nil, soak.Target{}, cleanup, err
	}
	f.prod.apis = addr() + "," + addr()
	f.prod.temporalDB, f.prod.visibility = temporalDB, visibilityDB
	opts, err := f.prod.options(cfg, logger)
	if err != nil {
		return nil, soak.Target{}, cleanup, err
	}
	opts.DataDir = filepath.Join(dataDir, "prod")
	opts.DatabaseURL = dbURL
	opts.TemporalAddr, opts.UIAddr, opts.SandboxAddr = addr(), f.ui, addr()
	opts.Env["PAYFLOW_ENV"] = "dev"
	opts.Env["PAYFLOW_PAYMENT_TIMEOUT"] = f.paymentTimeout.String()
	opts.Env["PAYFLOW_STALL_TIMEOUT"] = f.stallTimeout.String()
	opts.Env["PAYFLOW_RECONCILE_INTERVAL"] = f.reconcileInterval.String()
	opts.Env["PAYFLOW_LATE_WINDOW"] = f.lateWindow.String()
	fmt.Printf("soak: production shape in %s (logs in %s/logs)\n", dataDir, opts.DataDir)
	shape, err := deploy.Start(ctx, opts)
	if err != nil {
		return nil, soak.Target{}, cleanup, err
	}
	if db, err = sqlx.Open("postgres", dbURL); err != nil {
		shape.Stop()
		return nil, soak.Target{}, cleanup, err
	}
	apis := make([]string, len(opts.APIAddrs))
	for i, a := range opts.APIAddrs {
		apis[i] = "http://" + a
	}
	return shape, soak.Target{APIURLs: apis, SandboxURL: "http://" + opts.SandboxAddr, APIKey: cfg.APIKeys[0],
		PaymentTimeout: f.paymentTimeout, StallTimeout: f.stallTimeout, DB: db, Procs: shape}, cleanup, nil
}
