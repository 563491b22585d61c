package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/payflow/payflow/bench"
	"github.com/payflow/payflow/config"
)

// runBench parses `payflow bench`'s flags; package bench measures.
func runBench(ctx context.Context, cfg config.Config, _ *slog.Logger) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	o := bench.Options{Out: os.Stdout}
	fs.IntVar(&o.N, "n", 150, "workflows per round, for each side")
	fs.IntVar(&o.Rounds, "rounds", 3, "rounds of each side, interleaved")
	fs.IntVar(&o.Concurrency, "c", 32, "workflows in flight at once")
	fs.IntVar(&o.Warmup, "warmup", 60, "untimed workflows of each side first")
	fs.StringVar(&o.TemporalAddress, "temporal-address", "", "measure on this Temporal server (e.g. make run-prod's) instead of an embedded one")
	fs.StringVar(&o.Namespace, "namespace", bench.DefaultNamespace, "with -temporal-address: the bench's own namespace there (registered if new), apart from the payflow that runs on that server")
	fs.StringVar(&o.PprofDir, "pprof", "", "write the measured rounds' CPU profiles (per side and merged) and a heap profile into this directory")
	jsonFile := fs.String("json", "", "write the report as JSON to this file")
	memory := fs.Int("memory", 0, "instead: the worker's RSS with this many checkouts waiting for a webhook")
	sticky := fs.Int("sticky-cache", cfg.WorkerStickyCache, "with -memory: the worker's sticky cache size")
	if err := fs.Parse(os.Args[2:]); err != nil {
		return err
	}
	var rep interface{ WriteJSON(string) error }
	var err error
	if *memory > 0 {
		bin, berr := os.Executable()
		if berr != nil {
			return berr
		}
		rep, err = bench.Memory(ctx, bench.MemoryOptions{Open: *memory, StickyCache: *sticky, Concurrency: o.Concurrency, Binary: bin, Out: os.Stdout})
	} else {
		rep, err = bench.Run(ctx, o)
	}
	if err != nil {
		return err
	}
	if *jsonFile != "" {
		if err := rep.WriteJSON(*jsonFile); err != nil {
			return err
		}
		fmt.Printf("report written to %s\n", *jsonFile)
	}
	return nil
}
