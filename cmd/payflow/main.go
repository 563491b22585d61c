// Command payflow is the one binary of payflow: the dev stack, the API, the
// worker, migrations and the provider sandboxes.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/payflow/payflow/breakage"
	"github.com/payflow/payflow/config"
	"github.com/payflow/payflow/telemetry"
)

const usage = `payflow runs payments as durable Temporal workflows.

Usage: payflow <command>

Commands:
  dev       everything in one process: embedded Temporal server + Web UI,
            migrations, provider sandboxes, worker and API (prints the URLs)
  api       the REST API and webhook endpoints
  worker    the Temporal worker (workflows and activities)
  migrate   apply the database migrations and exit
  sandbox   the provider sandboxes alone
  prod      the production shape on this machine (make run-prod): a real
            Temporal server on PostgreSQL and its Web UI, the sandboxes, two
            api and two worker processes (-api, -workers, -temporal-db,
            -visibility-db, -schema)
  soak      a random mix of checkouts under provider faults, then a check of
            every invariant (-duration, -c, -pause, -payment-timeout)
  bench     payflow's card checkout against the raw engine on an in-process
            stack: throughput in interleaved rounds, POST p99 against a bare
            SDK start, webhook acknowledgement p99 (-n, -rounds, -c, -json,
            -pprof, -temporal-address); -memory N: the worker's RSS with N
            checkouts open (-sticky-cache)
  replay    before a deploy: replay the histories of the workflows running on
            the Temporal server against this binary; lists those that would
            break and exits non-zero if any (-types, -limit)
  help      this text

Configuration (environment variables and their defaults):
`

func main() {
	cmd := "help"
	if len(os.Args) > 1 {
		cmd = os.Args[1]
	}
	if cmd == "help" || cmd == "-h" || cmd == "--help" {
		fmt.Print(usage)
		config.PrintHelp(os.Stdout)
		return
	}
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if msg := productionGuard(cmd, cfg.Env, os.Getenv); msg != "" {
		fmt.Fprintln(os.Stderr, msg)
		os.Exit(2)
	}
	logger := newLogger(os.Stderr, cfg, cmd == "dev" || cmd == "prod" || cmd == "sandbox" || cmd == "soak" || cmd == "bench")
	slog.SetDefault(logger)
	if ks := breakage.Active(); len(ks) > 0 {
		// Only a build can do this (the soak's self-checks): say so in every
		// process, so that a broken binary never passes for a good one.
		logger.Error("this binary is broken on purpose", "breakage", ks)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// Traces go out over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set.
	shutdownTracing, err := telemetry.Setup(ctx, cmd)
	if err != nil {
		logger.Error("tracing", "error", err)
		os.Exit(2)
	}
	defer func() { _ = shutdownTracing(context.Background()) }()

	run, ok := map[string]func(context.Context, config.Config, *slog.Logger) error{
		"dev":     runDev,
		"api":     runAPIOnly,
		"worker":  runWorkerOnly,
		"migrate": runMigrate,
		"sandbox": runSandboxOnly,
		"bench":   runBench,
		"soak":    runSoak,
		"prod":    runProd,
		"replay":  runReplay,
	}[cmd]
	if !ok {
		fmt.Fprintf(os.Stderr, "unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if err := run(ctx, cfg, logger); err != nil {
		logger.Error(cmd+" failed", "error", err)
		os.Exit(1)
	}
}

// productionGuard says why cmd must not start, or "": outside PAYFLOW_ENV=dev
// the dev stack and the sandboxes do not run at all, and the API and the
// worker do not run with public or weak credentials or sandbox providers.
func productionGuard(cmd, env string, getenv func(string) string) string {
	if env == "dev" {
		return ""
	}
	switch cmd {
	case "dev", "sandbox":
		return fmt.Sprintf("refusing to run payflow %s with PAYFLOW_ENV=%s: it serves public dev credentials and fake providers; it runs only with PAYFLOW_ENV=dev (make run sets it)", cmd, env)
	case "api", "worker":
		if p := config.ProductionProblems(getenv); len(p) > 0 {
			return fmt.Sprintf("refusing to run payflow %s with PAYFLOW_ENV=%s: %s. Set real values, or PAYFLOW_ENV=dev for a demo", cmd, env, strings.Join(p, "; "))
		}
	}
	return ""
}

// newLogger logs text in dev and JSON otherwise, unless PAYFLOW_LOG_FORMAT says.
func newLogger(w io.Writer, cfg config.Config, dev bool) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	format := cfg.LogFormat
	if format == "" {
		format = "json"
		if dev {
			format = "text"
		}
	}
	// Lines logged in a traced request carry its trace_id and span_id.
	if strings.EqualFold(format, "text") {
		return slog.New(telemetry.LogHandler(slog.NewTextHandler(w, opts)))
	}
	return slog.New(telemetry.LogHandler(slog.NewJSONHandler(w, opts)))
}
