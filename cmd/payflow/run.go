package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	sdkworker "go.temporal.io/sdk/worker"
	"golang.org/x/sync/errgroup"

	"github.com/payflow/payflow/app"
	"github.com/payflow/payflow/config"
	"github.com/payflow/payflow/sandbox"
)

func runMigrate(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	a, err := app.New(cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Migrate(ctx)
}

func runAPIOnly(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	a, err := app.New(cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := listen(cfg.APIAddr)
	if err != nil {
		return err
	}
	return a.ServeAPI(ctx, ln)
}

func runWorkerOnly(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	setStickyCache(cfg)
	a, err := app.New(cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	// The worker's own /metrics (the SDK's worker metrics) when PAYFLOW_OPS_ADDR is set.
	return runAll(ctx, a.RunWorker, a.ServeOps)
}

func runSandboxOnly(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	sb := sandbox.New(cfg, "http://"+cfg.SandboxAddr, sandbox.Options{Logger: logger})
	defer sb.Close()
	ln, err := listen(cfg.SandboxAddr)
	if err != nil {
		return err
	}
	return serveHTTP(ctx, ln, sb.Handler(), logger)
}

// setStickyCache sizes the process's sticky workflow cache; the SDK reads
// it when the first worker starts.
func setStickyCache(cfg config.Config) {
	sdkworker.SetStickyWorkflowCacheSize(cfg.WorkerStickyCache)
}

func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	return ln, nil
}

// serveHTTP serves h on ln until ctx ends, then shuts down gracefully.
func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger) error {
	addr := ln.Addr().String()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("listening", "addr", addr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// runAll runs the functions until ctx ends or one of them fails.
func runAll(ctx context.Context, fns ...func(context.Context) error) error {
	g, ctx := errgroup.WithContext(ctx)
	for _, f := range fns {
		g.Go(func() error { return f(ctx) })
	}
	return g.Wait()
}
