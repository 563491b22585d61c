package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/payflow/payflow/api"
	"github.com/payflow/payflow/config"
	"github.com/payflow/payflow/schema"
	"github.com/payflow/payflow/store"
)

func openStore(cfg config.Config) (*store.Store, error) {
	return store.Open(cfg.DatabaseURL, cfg.DBMaxOpenConns, cfg.DBMaxIdleConns)
}

// temporalClient connects lazily, so the API starts (and reports not ready)
// while Temporal is down.
func temporalClient(cfg config.Config, logger *slog.Logger) (client.Client, error) {
	quiet := slog.New(logger.Handler()).With("component", "temporal-sdk")
	return client.NewLazyClient(client.Options{
		HostPort:  cfg.TemporalAddress,
		Namespace: cfg.Namespace,
		Logger:    tlog.NewStructuredLogger(slog.New(levelFilter{quiet.Handler(), slog.LevelWarn})),
	})
}

func runMigrate(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	st, err := openStore(cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	return migrate(ctx, st, logger)
}

func migrate(ctx context.Context, st *store.Store, logger *slog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	v, err := schema.Migrate(ctx, st.DB().DB)
	if err != nil {
		return err
	}
	logger.Info("database migrated", "version", v)
	return nil
}

// serveAPI runs the fiber app until ctx ends, then stops taking requests and
// lets those in flight finish.
func serveAPI(ctx context.Context, app *fiber.App, addr string, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("api listen: %w", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- app.Listener(ln) }()
	logger.Info("api listening", "addr", addr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("api shutting down")
	if err := app.ShutdownWithTimeout(20 * time.Second); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

func runAPIOnly(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	st, err := openStore(cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	tc, err := temporalClient(cfg, logger)
	if err != nil {
		return err
	}
	defer tc.Close()
	app := api.New(api.Deps{Config: cfg, Store: st, Temporal: tc, Logger: logger})
	return serveAPI(ctx, app, cfg.APIAddr, logger)
}

func runWorkerOnly(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	return errors.New("not yet")
}

func runSandboxOnly(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	return errors.New("not yet")
}

// levelFilter drops records below a level; the SDK logs every poll at info.
type levelFilter struct {
	slog.Handler
	min slog.Level
}

func (f levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= f.min && f.Handler.Enabled(ctx, l)
}
