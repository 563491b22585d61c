package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/payflow/payflow/app"
	"github.com/payflow/payflow/config"
	"github.com/payflow/payflow/devserver"
	"github.com/payflow/payflow/sandbox"
)

// runDev brings the whole stack up in one process: migrations, the embedded
// Temporal server and Web UI, the sandboxes, the worker and the API.
func runDev(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	setStickyCache(cfg)
	a, err := app.New(cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Migrate(ctx); err != nil {
		return fmt.Errorf("%w (is PostgreSQL running at DATABASE_URL? `make run` starts it)", err)
	}
	// Take the API and sandbox ports first: a busy port fails fast and clearly.
	apiLn, err := listen(cfg.APIAddr)
	if err != nil {
		return err
	}
	defer apiLn.Close()
	sbLn, err := listen(cfg.SandboxAddr)
	if err != nil {
		return err
	}
	defer sbLn.Close()
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return err
	}
	devOpts := devserver.Options{
		FrontendAddr: cfg.TemporalAddress,
		UIAddr:       cfg.UIAddr,
		DatabaseFile: filepath.Join(dataDir, "temporal.sqlite"),
		Namespace:    cfg.Namespace,
		Logger:       logger,
	}
	if cfg.CodecKeys != "" {
		devOpts.CodecEndpoint = "http://" + cfg.APIAddr + "/codec"
	}
	ts, err := devserver.Start(devOpts)
	if err != nil {
		return err
	}
	defer ts.Stop()
	sb := sandbox.New(cfg, "http://"+cfg.SandboxAddr, sandbox.Options{Logger: logger})
	defer sb.Close()
	fmt.Printf(`
payflow dev is up
  API            http://%s   (Authorization: Bearer %s)
  Temporal UI    http://%s
  Temporal gRPC  %s   (namespace %s)
  Sandboxes      http://%s/sandbox/checkoutcom  .../sandbox/rehive/3  .../sandbox/ledger
  Data           %s
Stop with Ctrl-C.

`, cfg.APIAddr, cfg.APIKeys[0], cfg.UIAddr, cfg.TemporalAddress, cfg.Namespace, cfg.SandboxAddr, dataDir)
	return runAll(ctx,
		func(ctx context.Context) error { return serveHTTP(ctx, sbLn, sb.Handler(), logger) },
		a.RunWorker,
		func(ctx context.Context) error { return a.ServeAPI(ctx, apiLn) },
	)
}
