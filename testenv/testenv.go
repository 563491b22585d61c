// Package testenv starts a whole payflow in-process for integration tests: a
// fresh PostgreSQL database, the embedded Temporal server in memory, the
// provider sandboxes and the API over real HTTP on 127.0.0.1, and a worker
// that tests can stop and start again.
package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/lib/pq" // the database/sql driver for the admin connection

	sdkworker "go.temporal.io/sdk/worker"

	"github.com/payflow/payflow/app"
	"github.com/payflow/payflow/config"
	"github.com/payflow/payflow/devserver"
	"github.com/payflow/payflow/sandbox"
)

// Options tune an environment.
type Options struct {
	PaymentTimeout time.Duration // default 10s
	StallTimeout   time.Duration // default 20s
	// UI serves the Temporal Web UI too (Env.UIURL).
	UI bool
	// TemporalFile keeps Temporal's state in a SQLite file, so that
	// RestartTemporal brings the same workflows back.
	TemporalFile bool
	// DatabaseURL overrides the test database URL the app uses (e.g. to go
	// through a proxy); the database itself is still created by Start.
	DatabaseURL func(real string) string
	// LateWindow and ReconcileInterval set PAYFLOW_LATE_WINDOW and
	// PAYFLOW_RECONCILE_INTERVAL (their defaults when zero).
	LateWindow        time.Duration
	ReconcileInterval time.Duration
}

// Env is a running payflow.
type Env struct {
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
}

// Start brings an environment up; Close tears it down.
func Start(opts Options) (*Env, error) {
	if opts.PaymentTimeout == 0 {
		opts.PaymentTimeout = 10 * time.Second
	}
	if opts.StallTimeout == 0 {
		opts.StallTimeout = 20 * time.Second
	}
	e := &Env{Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	ok := false
	defer func() {
		if !ok {
			e.Close()
		}
	}()
	dbURL, err := e.createDatabase()
	if err != nil {
		return nil, err
	}
	temporalAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	var uiAddr string
	if opts.UI {
		if uiAddr, err = freeAddr(); err != nil {
			return nil, err
		}
		e.UIURL = "http://" + uiAddr
	}
	e.temporalOpts = devserver.Options{FrontendAddr: temporalAddr, UIAddr: uiAddr, Namespace: "default"}
	if opts.TemporalFile {
		if e.tempDir, err = os.MkdirTemp("", "payflow-temporal-"); err != nil {
			return nil, err
		}
		e.temporalOpts.DatabaseFile = filepath.Join(e.tempDir, "temporal.sqlite")
	}
	if e.temporal, err = devserver.Start(e.temporalOpts); err != nil {
		return nil, err
	}
	apiLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
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
	if e.Config, err = config.Load(func(k string) string { return env[k] }); err != nil {
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

// StartWorker starts a worker (again).
func (e *Env) StartWorker() error {
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
func (e *Env) StopWorker() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.worker != nil {
		e.worker.Stop()
		e.worker = nil
	}
}

// RestartTemporal stops the Temporal server, runs whileDown, and starts it
// again on the same address (with Options.TemporalFile, with the same state).
func (e *Env) RestartTemporal(whileDown func()) error {
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

// Close stops everything and drops the test database.
func (e *Env) Close() {
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
		DropDatabase(e.dbName)
	}
}

// createDatabase makes a fresh database for the environment.
func (e *Env) createDatabase() (string, error) {
	url, name, err := CreateDatabase()
	if err != nil {
		return "", err
	}
	e.dbName = name
	return url, nil
}

func adminURL() string {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		return u
	}
	return config.Default("DATABASE_URL")
}

// CreateDatabase makes a fresh, empty database next to DATABASE_URL's and
// returns its URL and name; DropDatabase removes it.
func CreateDatabase() (string, string, error) {
	u, err := url.Parse(adminURL())
	if err != nil {
		return "", "", err
	}
	db, err := sql.Open("postgres", adminURL())
	if err != nil {
		return "", "", err
	}
	defer db.Close()
	name := "payflow_test_" + RandomID(6)
	if _, err := db.Exec(`CREATE DATABASE ` + name); err != nil {
		return "", "", fmt.Errorf("create test database (is PostgreSQL running? `make test` starts it): %w", err)
	}
	u.Path = "/" + name
	return u.String(), name, nil
}

// DropDatabase removes a database made by CreateDatabase.
func DropDatabase(name string) {
	if db, err := sql.Open("postgres", adminURL()); err == nil {
		_, _ = db.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
		db.Close()
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

// RandomID returns n random bytes in hex, for unique test ids.
func RandomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Response is an HTTP answer with its JSON decoded.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v.
func (r Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Map decodes the body as an object.
func (r Response) Map(t testing.TB) map[string]any {
	var m map[string]any
	r.JSON(t, &m)
	return m
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

// Call is Do for tests: a transport error fails the test.
func Call(t testing.TB, method, url string, body any, headers map[string]string) Response {
	t.Helper()
	r, err := Do(method, url, body, headers)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// API calls payflow's API with the dev bearer key.
func (e *Env) API(t testing.TB, method, path string, body any) Response {
	t.Helper()
	return Call(t, method, e.APIURL+path, body, map[string]string{"Authorization": "Bearer " + e.Config.APIKeys[0]})
}

// SandboxCall calls a sandbox path such as /sandbox/checkoutcom/tokens.
func (e *Env) SandboxCall(t testing.TB, method, path string, body any) Response {
	t.Helper()
	return Call(t, method, e.SandboxURL+path, body, nil)
}

// Eventually polls cond until it holds or the timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", timeout, what)
}
