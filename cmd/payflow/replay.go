package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"

	"github.com/payflow/payflow/app"
	"github.com/payflow/payflow/config"
	"github.com/payflow/payflow/replay"
)

// runReplay is `payflow replay`: before a deploy, the histories of the
// workflows running on the Temporal server (TEMPORAL_ADDRESS, with the
// namespace, TLS, API key and payload codec of the worker) are replayed
// against this binary's workflow code. It prints which would break and
// fails when any would: deploying it would fail those workflows' next task.
func runReplay(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	types := fs.String("types", strings.Join(replay.Types, ","), "workflow types to replay, comma-separated")
	limit := fs.Int("limit", 0, "replay at most this many running workflows per type (0: all)")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after this long")
	if err := fs.Parse(os.Args[2:]); err != nil {
		return err
	}
	wanted := strings.Split(*types, ",")
	for _, t := range wanted {
		if !slices.Contains(replay.Types, t) {
			return fmt.Errorf("-types: %q is not a payflow workflow type (%s)", t, strings.Join(replay.Types, ", "))
		}
	}
	opts, metrics, err := app.TemporalOptions(cfg, logger, prometheus.NewRegistry())
	if err != nil {
		return err
	}
	defer metrics.Close()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return fmt.Errorf("temporal at %s: %w", cfg.TemporalAddress, err)
	}
	defer c.Close()
	rep, err := replay.Running(ctx, c, replay.Options{
		Namespace: cfg.Namespace, Types: wanted, Limit: *limit,
		DataConverter: opts.DataConverter, FailureConverter: opts.FailureConverter, Logger: logger,
	}, os.Stdout)
	if err != nil {
		return err
	}
	if len(rep.Broken) > 0 {
		return fmt.Errorf("%d running workflows would break on this code: put the change behind workflow.GetVersion (CONTRIBUTING.md)", len(rep.Broken))
	}
	return nil
}
