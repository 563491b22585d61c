package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/payflow/payflow/config"
	"github.com/payflow/payflow/soak"
	"github.com/payflow/payflow/testenv"
)

// runSoak runs the soak on an in-process stack (embedded Temporal, a
// throwaway database, the sandboxes) and fails when an invariant broke.
func runSoak(ctx context.Context, _ config.Config, logger *slog.Logger) error {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	duration := fs.Duration("duration", time.Minute, "how long to start new checkouts")
	conc := fs.Int("c", 8, "concurrent customers")
	pause := fs.Duration("pause", 100*time.Millisecond, "each customer's rest between checkouts")
	timeout := fs.Duration("payment-timeout", 10*time.Second, "the checkouts' payment timeout")
	if err := fs.Parse(os.Args[2:]); err != nil {
		return err
	}
	env, err := testenv.Start(testenv.Options{PaymentTimeout: *timeout})
	if err != nil {
		return err
	}
	defer env.Close()
	rep, err := soak.Run(ctx, env, soak.Options{
		Duration: *duration, Concurrency: *conc, Pause: *pause, Seed: uint64(time.Now().UnixNano()),
		Logf: func(f string, a ...any) { logger.Info(fmt.Sprintf(f, a...)) },
	})
	if err != nil {
		return err
	}
	fmt.Print(rep)
	if len(rep.Violations) > 0 {
		return errors.New("invariants broken")
	}
	return nil
}
