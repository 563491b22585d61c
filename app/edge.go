package app

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/payflow/payflow/api"
)

// pruneBatch bounds one DELETE, so pruning never holds long locks.
const pruneBatch = 1000

// pruneLoop deletes expired idempotency keys and old handled inbox rows
// every PAYFLOW_PRUNE_INTERVAL (and once at start), so neither table grows
// without bound.
func (a *App) pruneLoop(ctx context.Context) {
	t := time.NewTicker(a.Config.PruneInterval)
	defer t.Stop()
	for {
		a.Prune(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Prune runs one pruning pass, in batches until nothing is left to delete.
func (a *App) Prune(ctx context.Context) {
	for _, p := range []struct {
		what string
		f    func(context.Context) (int64, error)
	}{
		{"idempotency keys", func(ctx context.Context) (int64, error) {
			return a.Store.PruneIdempotencyKeys(ctx, a.Config.IdempotencyTTL, pruneBatch)
		}},
		{"inbox rows", func(ctx context.Context) (int64, error) {
			return a.Store.PruneInbox(ctx, a.Config.InboxRetention, pruneBatch)
		}},
	} {
		var total int64
		for ctx.Err() == nil {
			n, err := p.f(ctx)
			if err != nil {
				a.Logger.Warn("prune failed", "what", p.what, "error", err)
				break
			}
			total += n
			if n < pruneBatch {
				break
			}
		}
		if total > 0 {
			a.Logger.Info("pruned", "what", p.what, "rows", total)
		}
	}
}

// ServeOps serves /metrics on PAYFLOW_OPS_ADDR until ctx ends (beside the
// API, or alone for `payflow worker`, whose SDK worker metrics it serves); it
// returns at once when no operations address is configured.
func (a *App) ServeOps(ctx context.Context) error {
	if a.Config.OpsAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", a.Config.OpsAddr)
	if err != nil {
		return fmt.Errorf("listen %s (PAYFLOW_OPS_ADDR): %w", a.Config.OpsAddr, err)
	}
	ops := api.Ops(a.Registry)
	errc := make(chan error, 1)
	go func() { errc <- ops.Listener(ln) }()
	a.Logger.Info("operations listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	return ops.ShutdownWithTimeout(5 * time.Second)
}
