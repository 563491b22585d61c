package soak

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// KillKinds are the process faults of --kills on the production shape:
// kill -9 a worker and start it again; kill -9 the API process the sandboxes
// post webhooks to, with webhooks in flight; kill -9 the Temporal server and
// start it again; stop Temporal for 30 s while webhooks keep arriving; restart
// PostgreSQL. DefaultKills leaves PostgreSQL out: the machine's one cluster
// also serves every other test running at the same time.
var KillKinds = []string{"worker", "api", "temporal", "temporal-outage", "postgres"}

// DefaultKills is what --kills means without a list.
const DefaultKills = "worker,api,temporal,temporal-outage"

// TemporalOutage is how long temporal-outage keeps the server down.
const TemporalOutage = 30 * time.Second

func (r *run) killAll(ctx context.Context, kinds []string) error {
	for i, k := range kinds {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(4+i) * time.Second):
		}
		began := time.Now()
		if err := r.kill(ctx, k); err != nil {
			return fmt.Errorf("kill %s: %w", k, err)
		}
		r.opts.Logf("soak: %s killed and back after %s", k, time.Since(began).Round(time.Millisecond))
	}
	return nil
}

func (r *run) kill(ctx context.Context, kind string) error {
	p := r.t.Procs
	bounce := func(name string, down time.Duration) error {
		if err := p.Kill(name); err != nil {
			return err
		}
		time.Sleep(down)
		return p.Restart(ctx, name)
	}
	switch kind {
	case "worker":
		return bounce("worker-1", 2*time.Second)
	case "api":
		return bounce("api-1", 3*time.Second)
	case "temporal":
		return bounce("temporal", 0)
	case "temporal-outage":
		return bounce("temporal", TemporalOutage)
	case "postgres":
		return restartPostgres(ctx)
	}
	return fmt.Errorf("unknown kill %q", kind)
}

// restartPostgres restarts the machine's first local cluster (as root, as
// scripts/postgres.sh starts it).
func restartPostgres(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, "pg_lsclusters", "-h").Output()
	if err != nil {
		return err
	}
	f := strings.Fields(string(out))
	if len(f) < 2 {
		return fmt.Errorf("no local PostgreSQL cluster")
	}
	if out, err := exec.CommandContext(ctx, "pg_ctlcluster", f[0], f[1], "restart").CombinedOutput(); err != nil {
		return fmt.Errorf("%w: %s", err, out)
	}
	return nil
}
