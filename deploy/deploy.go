// Package deploy brings up payflow's production shape on this machine: a real
// Temporal server (built from the pinned go.temporal.io/server module) on
// PostgreSQL, its Web UI, and payflow's sandbox, api and worker commands, each
// its own process with its own log. `payflow prod` (make run-prod) and
// `payflow soak --shape prod` use it; the soak kills and restarts the
// processes through it.
package deploy

import (
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the database/sql driver for the admin connection

	"github.com/payflow/payflow/devserver"
)

// TemporalConfig is the server's configuration template (deploy/temporal.yaml).
//
//go:embed temporal.yaml
var TemporalConfig []byte

// Options place the shape.
type Options struct {
	// BinDir holds payflow, temporal-server and temporal-sql-tool.
	BinDir string
	// SchemaDir is the server module's schema/postgresql/v12 directory.
	SchemaDir string
	// DataDir receives the rendered config and one log per process.
	DataDir string
	// DatabaseURL is payflow's database; Temporal's two databases live on the
	// same PostgreSQL with the same credentials.
	DatabaseURL              string
	TemporalDB, VisibilityDB string
	TemporalAddr, UIAddr     string
	SandboxAddr              string
	APIAddrs                 []string
	Workers                  int
	Namespace                string
	// CodecEndpoint is the codec the Web UI decodes payloads with (an API's
	// /codec) when the processes encrypt them (PAYFLOW_CODEC_KEYS).
	CodecEndpoint string
	// Env is passed to every payflow process on top of this one's
	// environment (e.g. timeouts).
	Env    map[string]string
	Logger *slog.Logger
}

// Shape is a running production shape.
type Shape struct {
	opts  Options
	ui    *devserver.UI
	mu    sync.Mutex
	procs map[string]*proc
	order []string
}

type proc struct {
	name string
	args []string
	env  []string
	log  string
	cmd  *exec.Cmd
	done chan struct{}
}

// Names of the processes: "temporal", "sandbox", "api-1".., "worker-1"...
const Temporal = "temporal"

// Start sets up the databases, starts every process and returns once all of
// them answer. On error, whatever started is stopped.
func Start(ctx context.Context, opts Options) (_ *Shape, err error) {
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Shape{opts: opts, procs: map[string]*proc{}}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	if err := os.MkdirAll(filepath.Join(opts.DataDir, "logs"), 0o755); err != nil {
		return nil, err
	}
	db, err := url.Parse(opts.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if err := s.setupSchema(ctx, db); err != nil {
		return nil, err
	}
	if err := s.startTemporal(ctx, db); err != nil {
		return nil, err
	}
	if err := RegisterNamespace(ctx, opts.TemporalAddr, opts.Namespace); err != nil {
		return nil, err
	}
	if opts.UIAddr != "" {
		if s.ui, err = devserver.StartUI(opts.TemporalAddr, opts.UIAddr, opts.Namespace, opts.CodecEndpoint); err != nil {
			return nil, err
		}
	}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	s.add("sandbox", "sandbox", map[string]string{"PAYFLOW_SANDBOX_ADDR": opts.SandboxAddr})
	for i, addr := range opts.APIAddrs {
		s.add(fmt.Sprintf("api-%d", i+1), "api", map[string]string{"PAYFLOW_API_ADDR": addr})
	}
	for i := range opts.Workers {
		s.add(fmt.Sprintf("worker-%d", i+1), "worker", nil)
	}
	for _, name := range s.order {
		if name == Temporal {
			continue
		}
		if err := s.Restart(ctx, name); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// payflowEnv is the environment of every payflow process.
func (s *Shape) payflowEnv(extra map[string]string) []string {
	env := map[string]string{
		"DATABASE_URL":         s.opts.DatabaseURL,
		"TEMPORAL_ADDRESS":     s.opts.TemporalAddr,
		"TEMPORAL_NAMESPACE":   s.opts.Namespace,
		"PAYFLOW_SANDBOX_ADDR": s.opts.SandboxAddr,
		"CHECKOUTCOM_BASE_URL": "http://" + s.opts.SandboxAddr + "/sandbox/checkoutcom",
		"REHIVE_BASE_URL":      "http://" + s.opts.SandboxAddr + "/sandbox/rehive/3",
		"LEDGER_BASE_URL":      "http://" + s.opts.SandboxAddr + "/sandbox/ledger",
	}
	if len(s.opts.APIAddrs) > 0 {
		env["PAYFLOW_PUBLIC_URL"] = "http://" + s.opts.APIAddrs[0]
	}
	for k, v := range s.opts.Env {
		env[k] = v
	}
	for k, v := range extra {
		env[k] = v
	}
	return mergeEnv(env)
}

func mergeEnv(env map[string]string) []string {
	out := make([]string, 0, len(os.Environ())+len(env))
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); env[k] == "" {
			out = append(out, kv)
		}
	}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

func (s *Shape) add(name, cmd string, extra map[string]string) {
	s.procs[name] = &proc{name: name, args: []string{filepath.Join(s.opts.BinDir, "payflow"), cmd}, env: s.payflowEnv(extra), log: s.logPath(name)}
	s.order = append(s.order, name)
}

func (s *Shape) logPath(name string) string {
	return filepath.Join(s.opts.DataDir, "logs", name+".log")
}

// migrate runs `payflow migrate` to its end before the api and workers start.
func (s *Shape) migrate(ctx context.Context) error {
	return run(ctx, s.logPath("migrate"), s.payflowEnv(nil), filepath.Join(s.opts.BinDir, "payflow"), "migrate")
}

func run(ctx context.Context, log string, env []string, args ...string) error {
	f, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	c := exec.CommandContext(ctx, args[0], args[1:]...)
	c.Env, c.Stdout, c.Stderr = env, f, f
	if err := c.Run(); err != nil {
		return fmt.Errorf("%s %s: %w (see %s)", filepath.Base(args[0]), strings.Join(args[1:], " "), err, log)
	}
	return nil
}

// setupSchema creates the two Temporal databases when missing and brings
// their schema to the version the pinned server ships (a no-op when current).
func (s *Shape) setupSchema(ctx context.Context, db *url.URL) error {
	admin, err := sqlx.ConnectContext(ctx, "postgres", s.opts.DatabaseURL)
	if err != nil {
		return fmt.Errorf("%w (is PostgreSQL running? make run-prod starts it)", err)
	}
	defer admin.Close()
	pw, _ := db.User.Password()
	port := db.Port()
	if port == "" {
		port = "5432"
	}
	tool := filepath.Join(s.opts.BinDir, "temporal-sql-tool")
	for _, d := range []struct{ name, schema string }{{s.opts.TemporalDB, "temporal"}, {s.opts.VisibilityDB, "visibility"}} {
		// The password goes by environment, not on a command line ps shows.
		env := mergeEnv(map[string]string{"SQL_HOST": db.Hostname(), "SQL_PORT": port, "SQL_USER": db.User.Username(),
			"SQL_PASSWORD": pw, "SQL_DATABASE": d.name, "SQL_PLUGIN": "postgres12"})
		var exists bool
		if err := admin.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, d.name); err != nil {
			return err
		}
		log := s.logPath("temporal-sql-tool")
		if !exists {
			if err := run(ctx, log, env, tool, "create-database", "--defaultdb", db.Path[1:]); err != nil {
				return err
			}
			if err := run(ctx, log, env, tool, "setup-schema", "-v", "0.0"); err != nil {
				return err
			}
		}
		if err := run(ctx, log, env, tool, "update-schema", "-d", filepath.Join(s.opts.SchemaDir, d.schema, "versioned")); err != nil {
			return err
		}
	}
	return nil
}

func (s *Shape) startTemporal(ctx context.Context, db *url.URL) error {
	conf := filepath.Join(s.opts.DataDir, "temporal.yaml")
	if err := os.WriteFile(conf, TemporalConfig, 0o644); err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(s.opts.TemporalAddr)
	if err != nil {
		return fmt.Errorf("TEMPORAL_ADDRESS: %w", err)
	}
	pw, _ := db.User.Password()
	dbPort := db.Port()
	if dbPort == "" {
		dbPort = "5432"
	}
	env := map[string]string{
		"TEMPORAL_DB": s.opts.TemporalDB, "TEMPORAL_VISIBILITY_DB": s.opts.VisibilityDB,
		"TEMPORAL_DB_ADDR": net.JoinHostPort(db.Hostname(), dbPort), "TEMPORAL_DB_USER": db.User.Username(), "TEMPORAL_DB_PASSWORD": pw,
		"TEMPORAL_BIND_IP": host, "TEMPORAL_FRONTEND_PORT": port,
	}
	// The other listeners: fixed next to the frontend's default port for
	// make run-prod, free ports when the frontend's is not the default.
	for _, name := range []string{"FRONTEND_HTTP", "FRONTEND_MEMBERSHIP", "HISTORY", "HISTORY_MEMBERSHIP", "MATCHING", "MATCHING_MEMBERSHIP", "WORKER", "WORKER_MEMBERSHIP"} {
		if port == "7233" {
			continue // the template's defaults
		}
		p, err := lowFreePort(host)
		if err != nil {
			return err
		}
		env["TEMPORAL_"+name+"_PORT"] = strconv.Itoa(p)
	}
	s.procs[Temporal] = &proc{name: Temporal, args: []string{filepath.Join(s.opts.BinDir, "temporal-server"), "--config-file", conf, "--allow-no-auth", "start"},
		env: mergeEnv(env), log: s.logPath(Temporal)}
	s.order = append([]string{Temporal}, s.order...)
	return s.Restart(ctx, Temporal)
}

// Restart starts the named process (again, after Kill) and waits until it
// answers.
func (s *Shape) Restart(ctx context.Context, name string) error {
	s.mu.Lock()
	p := s.procs[name]
	s.mu.Unlock()
	if p == nil {
		return fmt.Errorf("no process %q", name)
	}
	if p.running() {
		return nil
	}
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	c := exec.Command(p.args[0], p.args[1:]...)
	c.Env, c.Stdout, c.Stderr = p.env, f, f
	// Its own process group: a Ctrl-C on the terminal reaches the parent,
	// which stops the children in order.
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", name, err)
	}
	done := make(chan struct{})
	go func() { _ = c.Wait(); f.Close(); close(done) }()
	s.mu.Lock()
	p.cmd, p.done = c, done
	s.mu.Unlock()
	return s.waitReady(ctx, p)
}

func (p *proc) running() bool {
	if p.done == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// waitReady waits until the process answers on its address.
func (s *Shape) waitReady(ctx context.Context, p *proc) error {
	var check func() error
	switch {
	case p.name == Temporal:
		check = func() error { return healthy(ctx, s.opts.TemporalAddr) }
	case p.name == "sandbox":
		check = func() error { return httpOK(ctx, "http://"+s.opts.SandboxAddr+"/sandbox/rehive/_control/merchant") }
	case strings.HasPrefix(p.name, "api-"):
		n, _ := strconv.Atoi(strings.TrimPrefix(p.name, "api-"))
		check = func() error { return httpOK(ctx, "http://"+s.opts.APIAddrs[n-1]+"/readyz") }
	default:
		check = func() error { return nil } // a worker has no port; it polls
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		err := check()
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited while starting (see %s)", p.name, p.log)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready: %w (see %s)", p.name, err, p.log)
		}
	}
}

func httpOK(ctx context.Context, u string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %d", u, resp.StatusCode)
	}
	return nil
}

// Kill sends SIGKILL to the named process and waits for it to die: a crash,
// with no chance to finish anything.
func (s *Shape) Kill(name string) error {
	return s.signal(name, syscall.SIGKILL)
}

// Terminate stops the named process gracefully (SIGTERM), as a deploy would.
func (s *Shape) Terminate(name string) error {
	return s.signal(name, syscall.SIGTERM)
}

func (s *Shape) signal(name string, sig syscall.Signal) error {
	s.mu.Lock()
	p := s.procs[name]
	s.mu.Unlock()
	if p == nil {
		return fmt.Errorf("no process %q", name)
	}
	if !p.running() {
		return nil
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	return nil
}

// Exited reports the first process that ends without being told to.
func (s *Shape) Exited(ctx context.Context) (string, error) {
	for {
		s.mu.Lock()
		for _, name := range s.order {
			p := s.procs[name]
			if p.done == nil {
				continue
			}
			select {
			case <-p.done:
				s.mu.Unlock()
				return name, fmt.Errorf("%s exited (see %s)", name, p.log)
			default:
			}
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// Names lists the processes in start order.
func (s *Shape) Names() []string { return append([]string(nil), s.order...) }

// Pid is the named process's id (0 when not running).
func (s *Shape) Pid(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.procs[name]; p != nil && p.running() {
		return p.cmd.Process.Pid
	}
	return 0
}

// LogPath is where the named process logs.
func (s *Shape) LogPath(name string) string { return s.logPath(name) }

// Stop ends everything, payflow first and Temporal last.
func (s *Shape) Stop() {
	for i := len(s.order) - 1; i >= 0; i-- {
		_ = s.Terminate(s.order[i])
	}
	if s.ui != nil {
		s.ui.Stop()
	}
}

// lowFreePort finds a free port below 32768: Temporal keeps membership
// ports in a smallint column, and the kernel's own picks are above it.
func lowFreePort(host string) (int, error) {
	for range 200 {
		p := 20000 + rand.IntN(12000)
		if l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p))); err == nil {
			l.Close()
			return p, nil
		}
	}
	return 0, fmt.Errorf("no free port below 32768 on %s", host)
}

// FreePort asks the kernel for a port that is free now.
func FreePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
