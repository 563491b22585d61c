package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/payflow/payflow/api"
	"github.com/payflow/payflow/config"
	"github.com/payflow/payflow/devserver"
)

// runDev brings the whole stack up in one process.
func runDev(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	st, err := openStore(cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := migrate(ctx, st, logger); err != nil {
		return fmt.Errorf("%w (is PostgreSQL running at DATABASE_URL? `make run` starts it)", err)
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return err
	}
	ts, err := devserver.Start(devserver.Options{
		FrontendAddr: cfg.TemporalAddress,
		UIAddr:       cfg.UIAddr,
		DatabaseFile: filepath.Join(dataDir, "temporal.sqlite"),
		Namespace:    cfg.Namespace,
		Logger:       logger,
	})
	if err != nil {
		return err
	}
	defer ts.Stop()
	tc, err := temporalClient(cfg, logger)
	if err != nil {
		return err
	}
	defer tc.Close()
	app := api.New(api.Deps{Config: cfg, Store: st, Temporal: tc, Logger: logger})
	fmt.Printf(`
payflow dev is up
  API            http://%s   (bearer key: %s)
  Temporal UI    http://%s
  Temporal gRPC  %s   (namespace %s)
  Sandboxes      http://%s/sandbox/{checkoutcom,rehive/3,ledger}
  Data           %s
Stop with Ctrl-C.
`, cfg.APIAddr, cfg.APIKeys[0], cfg.UIAddr, cfg.TemporalAddress, cfg.Namespace, cfg.SandboxAddr, dataDir)
	return serveAPI(ctx, app, cfg.APIAddr, logger)
}
