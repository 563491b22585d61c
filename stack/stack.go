// Package stack runs a whole payflow in one process on throwaway resources: a
// fresh PostgreSQL database, the embedded Temporal server (in memory or in a
// SQLite file), the provider sandboxes and the API over real HTTP on free
// 127.0.0.1 ports, and a worker that can be stopped and started again.
// `payflow soak` and `payflow bench` run on it, and testenv builds the
// integration tests' helpers on top of it; it does not link package testing.
package stack

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	sdkworker "go.temporal.io/sdk/worker"

	"github.com/payflow/payflow/app"
	"github.com/payflow/payflow/config"
	"github.com/payflow/payflow/devserver"
	"github.com/payflow/payflow/sandbox"
	"github.com/payflow/payflow/stack/scratchdb"
)

// Options tune a stack.
type Options struct {
	PaymentTimeout time.Duration // default 10s
	StallTimeout   time.Duration // default 20s
	// UI serves the Temporal Web UI too (Stack.UIURL).
	UI bool
	// TemporalFile keeps Temporal's state in a SQLite file, so that
	// RestartTemporal brings the same workflows back.
	TemporalFile bool
	// DatabaseURL overrides the database URL the app uses (e.g. to go
	// through a proxy); the database itself is still created by Start.
	DatabaseURL func(real string) string
	// LateWindow and ReconcileInterval set PAYFLOW_LATE_WINDOW and
	// PAYFLOW_RECONCILE_INTERVAL (their defaults when zero).
	LateWindow        time.Duration
	ReconcileInterval time.Duration
	// TemporalAddress runs the stack on that Temporal server (e.g. the
	// production shape's, on PostgreSQL) instead of an embedded one, in
	// Namespace (default "default").
	TemporalAddress, Namespace string
	// Env sets further configuration variables (e.g. PAYFLOW_WORKER_*).
	Env map[string]string
	// Logger receives the stack's logs (default: warnings on stderr).
	Logger *slog.Logger
}

// Stack is a running payflow.
type Stack struct {
	Config     config.Config
	App        *app.App
	Sandbox    *sandbox.Server
	APIURL     string
	SandboxURL string
	UIURL      string
	Logger     *slog.Logger

	temporal     *devserver.Server
	temporalOpts devserver.Options
	tempDir      string
	mu           sync.Mutex
	worker       sdkworker.Worker
	stop         []func()
	dbName       string
	env          map[string]string
}

// Start brings a stack up; Close tears it down.
func Start(opts Options) (*Stack, error) {
	if opts.PaymentTimeout == 0 {
		opts.PaymentTimeout = 10 * time.Second
	}
	if opts.StallTimeout == 0 {
		opts.StallTimeout = 20 * time.Second
	}
	e := &Stack{Logger: opts.Logger}
	if e.Logger == nil {
		e.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	ok := false
	defer func() {
		if !ok {
			e.Close()
		}
	}()
	dbURL, name, err := scratchdb.Create()
	if err != nil {
		return nil, err
	}
	e.dbName = name
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	// The API's address first: with PAYFLOW_CODEC_KEYS the Web UI decodes
	// payloads through its /codec.
	apiLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	temporalAddr := opts.TemporalAddress
	if temporalAddr == "" {
		if temporalAddr, err = e.startTemporal(opts, "http://"+apiLn.Addr().String()); err != nil {
			apiLn.Close()
			return nil, err
		}
	}
	sbLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		apiLn.Close()
		return nil, err
	}
	e.APIURL = "http://" + apiLn.Addr().String()
	e.SandboxURL = "http://" + sbLn.Addr().String()
	appDB := dbURL
	if opts.DatabaseURL != nil {
		appDB = opts.DatabaseURL(dbURL)
	}
	env := map[string]string{
		"DATABASE_URL":            appDB,
		"TEMPORAL_ADDRESS":        temporalAddr,
		"TEMPORAL_NAMESPACE":      opts.Namespace,
		"PAYFLOW_API_ADDR":        apiLn.Addr().String(),
		"PAYFLOW_SANDBOX_ADDR":    sbLn.Addr().String(),
		"PAYFLOW_PUBLIC_URL":      e.APIURL,
		"PAYFLOW_PAYMENT_TIMEOUT": opts.PaymentTimeout.String(),
		"PAYFLOW_STALL_TIMEOUT":   opts.StallTimeout.String(),
		"CHECKOUTCOM_BASE_URL":    e.SandboxURL + "/sandbox/checkoutcom",
		"REHIVE_BASE_URL":         e.SandboxURL + "/sandbox/rehive/3",
		"LEDGER_BASE_URL":         e.SandboxURL + "/sandbox/ledger",
	}
	if opts.LateWindow > 0 {
		env["PAYFLOW_LATE_WINDOW"] = opts.LateWindow.String()
	}
	if opts.ReconcileInterval > 0 {
		env["PAYFLOW_RECONCILE_INTERVAL"] = opts.ReconcileInterval.String()
	}
	if e.UIURL != "" {
		env["PAYFLOW_UI_URL"] = e.UIURL // the origin /codec answers
	}
	for k, v := range opts.Env {
		env[k] = v
	}
	e.env = env
	if e.Config, err = config.Load(func(k string) string { return env[k] }); err != nil {
		apiLn.Close()
		sbLn.Close()
		return nil, err
	}
	e.Sandbox = sandbox.New(e.Config, e.SandboxURL, sandbox.Options{Logger: e.Logger, LedgerConfirmDelay: 100 * time.Millisecond})
	sbSrv := &http.Server{Handler: e.Sandbox.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go sbSrv.Serve(sbLn)
	e.stop = append(e.stop, func() { sbSrv.Close(); e.Sandbox.Close() })

	if e.App, err = app.New(e.Config, e.Logger); err != nil {
		apiLn.Close()
		return nil, err
	}
	if err := e.App.Migrate(context.Background()); err != nil {
		apiLn.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.App.ServeAPI(ctx, apiLn) }()
	e.stop = append(e.stop, func() { cancel(); <-done })
	if err := e.StartWorker(); err != nil {
		return nil, err
	}
	ok = true
	return e, nil
}

// TemporalDatabaseFile is the SQLite file of the embedded Temporal server
// (with Options.TemporalFile; empty when it is in memory).
func (e *Stack) TemporalDatabaseFile() string { return e.temporalOpts.DatabaseFile }

// Environ is the stack's configuration as environment variables, for a
// payflow process (e.g. `payflow worker`) to join the stack.
func (e *Stack) Environ() []string {
	out := make([]string, 0, len(e.env))
	for k, v := range e.env {
		out = append(out, k+"="+v)
	}
	return out
}

// startTemporal starts the embedded Temporal server on a free port; apiURL
// is where the Web UI finds the API's /codec.
func (e *Stack) startTemporal(opts Options, apiURL string) (string, error) {
	addr, err := freeAddr()
	if err != nil {
		return "", err
	}
	var uiAddr string
	if opts.UI {
		if uiAddr, err = freeAddr(); err != nil {
			return "", err
		}
		e.UIURL = "http://" + uiAddr
	}
	e.temporalOpts = devserver.Options{FrontendAddr: addr, UIAddr: uiAddr, Namespace: opts.Namespace}
	if opts.TemporalFile {
		if e.tempDir, err = os.MkdirTemp("", "payflow-temporal-"); err != nil {
			return "", err
		}
		e.temporalOpts.DatabaseFile = filepath.Join(e.tempDir, "temporal.sqlite")
	}
	if opts.UI && opts.Env["PAYFLOW_CODEC_KEYS"] != "" {
		e.temporalOpts.CodecEndpoint = apiURL + "/codec"
	}
	e.temporal, err = devserver.Start(e.temporalOpts)
	return addr, err
}

// StartWorker starts a worker (again).
func (e *Stack) StartWorker() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.worker != nil {
		return nil
	}
	w := e.App.Worker()
	if err := w.Start(); err != nil {
		return err
	}
	e.worker = w
	return nil
}

// StopWorker stops the worker, as a deploy or a crash would.
func (e *Stack) StopWorker() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.worker != nil {
		e.worker.Stop()
		e.worker = nil
	}
}

// RestartTemporal stops the embedded Temporal server, runs whileDown, and
// starts it again on the same address (with Options.TemporalFile, with the
// same state).
func (e *Stack) RestartTemporal(whileDown func()) error {
	if e.temporal == nil {
		return errors.New("stack: no embedded Temporal server to restart")
	}
	e.temporal.Stop()
	e.temporal = nil
	whileDown()
	srv, err := devserver.Start(e.temporalOpts)
	if err != nil {
		return err
	}
	e.temporal = srv
	return nil
}

// Close stops everything and drops the stack's database.
func (e *Stack) Close() {
	e.StopWorker()
	for i := len(e.stop) - 1; i >= 0; i-- {
		e.stop[i]()
	}
	if e.App != nil {
		e.App.Close()
	}
	if e.temporal != nil {
		e.temporal.Stop()
	}
	if e.tempDir != "" {
		os.RemoveAll(e.tempDir)
	}
	if e.dbName != "" {
		if err := scratchdb.Drop(e.dbName); err != nil {
			e.Logger.Warn("drop database", "name", e.dbName, "error", err)
		}
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// RandomID returns n random bytes in hex, for unique ids.
func RandomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Response is an HTTP answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends one request: body is sent as is when it is []byte or a string, as
// JSON otherwise (nil for none).
func Do(method, url string, body any, headers map[string]string) (Response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return Response{}, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return Response{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Response{}, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, err
}
