package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/payflow/payflow/config"
	"github.com/payflow/payflow/deploy"
)

// prodFlags are the production shape's placement: the flags of `payflow
// prod`, and of `payflow soak --shape prod`, which picks its own.
type prodFlags struct {
	apis                   string
	workers                int
	temporalDB, visibility string
	schema                 string
}

func (f *prodFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.apis, "api", "127.0.0.1:8080,127.0.0.1:8081", "comma-separated addresses, one `payflow api` process each")
	fs.IntVar(&f.workers, "workers", 2, "how many `payflow worker` processes")
	fs.StringVar(&f.temporalDB, "temporal-db", "temporal", "Temporal's database (on DATABASE_URL's server)")
	fs.StringVar(&f.visibility, "visibility-db", "temporal_visibility", "Temporal's visibility database")
	fs.StringVar(&f.schema, "schema", os.Getenv("PAYFLOW_TEMPORAL_SCHEMA"), "the pinned server module's schema/postgresql/v12 (default: found with `go list -m`)")
}

// options turns the flags and the configuration into deploy.Options.
func (f *prodFlags) options(cfg config.Config, logger *slog.Logger) (deploy.Options, error) {
	exe, err := os.Executable()
	if err != nil {
		return deploy.Options{}, err
	}
	schema := f.schema
	if schema == "" {
		// The module cache's copy of the server module go.mod pins.
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "go.temporal.io/server").Output()
		if err != nil {
			return deploy.Options{}, fmt.Errorf("find the Temporal server module (set -schema or PAYFLOW_TEMPORAL_SCHEMA): %w", err)
		}
		schema = filepath.Join(strings.TrimSpace(string(out)), "schema", "postgresql", "v12")
	}
	dataDir, err := filepath.Abs(filepath.Join(cfg.DataDir, "prod"))
	if err != nil {
		return deploy.Options{}, err
	}
	env := map[string]string{}
	if os.Getenv("PAYFLOW_ENV") == "" {
		env["PAYFLOW_ENV"] = "dev" // the demo runs against the sandboxes with their dev secrets
	}
	if cfg.CodecKeys == "" {
		env["PAYFLOW_CODEC_KEYS"] = config.DevCodecKeys // payloads encrypted, as in production
	}
	apis := strings.Split(f.apis, ",")
	return deploy.Options{
		BinDir: filepath.Dir(exe), SchemaDir: schema, DataDir: dataDir,
		DatabaseURL: cfg.DatabaseURL, TemporalDB: f.temporalDB, VisibilityDB: f.visibility,
		TemporalAddr: cfg.TemporalAddress, UIAddr: cfg.UIAddr, SandboxAddr: cfg.SandboxAddr,
		APIAddrs: apis, Workers: f.workers, Namespace: cfg.Namespace,
		CodecEndpoint: "http://" + apis[0] + "/codec",
		Env:           env, Logger: logger,
	}, nil
}

// runProd brings the production shape up in the foreground (make run-prod):
// it returns, stopping everything, on Ctrl-C or when a process dies.
func runProd(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	fs := flag.NewFlagSet("prod", flag.ContinueOnError)
	var f prodFlags
	f.register(fs)
	if err := fs.Parse(os.Args[2:]); err != nil {
		return err
	}
	opts, err := f.options(cfg, logger)
	if err != nil {
		return err
	}
	shape, err := deploy.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer shape.Stop()
	var ps strings.Builder
	for _, name := range shape.Names() {
		fmt.Fprintf(&ps, "  %-10s pid %-8d %s\n", name, shape.Pid(name), shape.LogPath(name))
	}
	apis := make([]string, len(opts.APIAddrs))
	for i, a := range opts.APIAddrs {
		apis[i] = "http://" + a
	}
	fmt.Printf(`
payflow production shape is up (Temporal server on PostgreSQL)
  API            %s   (Authorization: Bearer %s)
  Temporal UI    http://%s
  Temporal gRPC  %s   (namespace %s; databases %s, %s)
  Sandboxes      http://%s/sandbox/checkoutcom  .../sandbox/rehive/3  .../sandbox/ledger
Processes and logs:
%sStop with Ctrl-C.

`, strings.Join(apis, "  "), cfg.APIKeys[0], opts.UIAddr, opts.TemporalAddr, opts.Namespace, opts.TemporalDB, opts.VisibilityDB, opts.SandboxAddr, ps.String())
	name, err := shape.Exited(ctx)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return fmt.Errorf("%s: %w", name, err)
}
