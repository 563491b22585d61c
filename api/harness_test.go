package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/payflow/payflow/config"
	"github.com/payflow/payflow/inbox"
	"github.com/payflow/payflow/providers/ledger"
	"github.com/payflow/payflow/providers/rehive"
	"github.com/payflow/payflow/store"
	"github.com/payflow/payflow/store/storetest"
	"github.com/payflow/payflow/workflows"
)

// fakeTemporal starts workflows (after Delay, so concurrent requests
// overlap) and counts them; everything else answers "not found" or
// "unavailable", as a Temporal without these workflows would.
type fakeTemporal struct {
	client.Client
	Delay time.Duration
	// Signal, when set, answers every signal (SignalWithStart included) in
	// place of "not found": tests hold webhook deliveries with it. Set it
	// before the first request.
	Signal func(ctx context.Context) error
	// Outcome answers the first-outcome update of Update-with-Start; nil:
	// no worker ever takes it (checkouts_wait_test.go).
	Outcome *workflows.CheckoutState
	starts  atomic.Int64
}

type fakeRun struct{ id string }

func (r fakeRun) GetID() string                  { return r.id }
func (r fakeRun) GetRunID() string               { return "run-" + r.id }
func (r fakeRun) GetFirstExecutionRunID() string { return "run-" + r.id }
func (r fakeRun) Get(context.Context, any) error { return nil }
func (r fakeRun) GetWithOptions(context.Context, any, client.WorkflowRunGetOptions) error {
	return nil
}

func (f *fakeTemporal) ExecuteWorkflow(ctx context.Context, o client.StartWorkflowOptions, _ any, _ ...any) (client.WorkflowRun, error) {
	select {
	case <-time.After(f.Delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	f.starts.Add(1)
	return fakeRun{o.ID}, nil
}

func (f *fakeTemporal) QueryWorkflow(context.Context, string, string, string, ...any) (converter.EncodedValue, error) {
	return nil, serviceerror.NewNotFound("workflow not found")
}

func (f *fakeTemporal) QueryWorkflowWithOptions(context.Context, *client.QueryWorkflowWithOptionsRequest) (*client.QueryWorkflowWithOptionsResponse, error) {
	return nil, serviceerror.NewNotFound("workflow not found")
}

func (f *fakeTemporal) SignalWorkflow(ctx context.Context, _, _, _ string, _ any) error {
	if f.Signal != nil {
		return f.Signal(ctx)
	}
	return serviceerror.NewNotFound("workflow not found")
}

func (f *fakeTemporal) SignalWithStartWorkflow(ctx context.Context, id string, _ string, _ any, _ client.StartWorkflowOptions, _ any, _ ...any) (client.WorkflowRun, error) {
	if f.Signal != nil {
		if err := f.Signal(ctx); err != nil {
			return nil, err
		}
		return fakeRun{id}, nil
	}
	return nil, serviceerror.NewUnavailable("test: no Temporal")
}

func (f *fakeTemporal) DescribeWorkflowExecution(context.Context, string, string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	return nil, serviceerror.NewNotFound("workflow not found")
}

func (f *fakeTemporal) CheckHealth(context.Context, *client.CheckHealthRequest) (*client.CheckHealthResponse, error) {
	return &client.CheckHealthResponse{}, nil
}

// testConfig is the dev configuration with overrides.
func testConfig(t testing.TB, env map[string]string) config.Config {
	t.Helper()
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// edgeApp is the whole API over a store on a throwaway schema (skipped
// without PostgreSQL) and a fake Temporal.
type edgeApp struct {
	app       *fiber.App
	store     *store.Store
	temporal  *fakeTemporal
	deliverer *inbox.Deliverer
	cfg       config.Config
}

func newEdgeApp(t testing.TB, dbURL string, env map[string]string) *edgeApp {
	t.Helper()
	if dbURL == "" {
		dbURL = storetest.MigratedURL(t)
	}
	cfg := testConfig(t, env)
	st, err := store.OpenTimeouts(dbURL, 8, 4, store.Timeouts{Connect: cfg.DBConnectTimeout, Statement: cfg.DBStatementTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	tc := &fakeTemporal{}
	log := slog.New(slog.DiscardHandler)
	dl := &inbox.Deliverer{Store: st, Temporal: tc, TaskQueue: cfg.TaskQueue, Logger: log, Policy: inbox.Policy{IsManaged: cfg.IsManaged, Stall: cfg.StallTimeout}}
	app := New(Deps{
		Config: cfg, Store: st, Temporal: tc, Logger: log, Inbox: dl,
		// Nothing answers on port 1: a hostile request must fail before Rehive.
		Rehive: rehive.New(rehive.Config{BaseURL: "http://127.0.0.1:1/3", Timeout: time.Second}),
	})
	// Before the store closes: the shutdown waits for background webhook
	// deliveries (the app never listened, so its error is expected).
	t.Cleanup(func() { _ = app.Shutdown() })
	return &edgeApp{app: app, store: st, temporal: tc, deliverer: dl, cfg: cfg}
}

// inboxStatus is the recorded status of a webhook.
func (e *edgeApp) inboxStatus(t testing.TB, provider, eventID string) string {
	t.Helper()
	var status string
	err := e.store.DB().QueryRowContext(context.Background(),
		`SELECT status FROM webhook_inbox WHERE provider = $1 AND event_id = $2`, provider, eventID).Scan(&status)
	if err != nil {
		t.Fatalf("inbox row %s/%s: %v", provider, eventID, err)
	}
	return status
}

// eventually polls cond every 10 ms until it holds, failing the test after
// timeout.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
	}
}

// result is one answer, decoded.
type result struct {
	Status int
	Header http.Header
	Body   []byte
	Error  struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	}
}

func (e *edgeApp) do(t testing.TB, req *http.Request) result {
	t.Helper()
	resp, err := e.app.Test(req, 30_000)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := result{Status: resp.StatusCode, Header: resp.Header, Body: b}
	if resp.StatusCode >= 400 {
		var env struct {
			Error *json.RawMessage `json:"error"`
		}
		if json.Unmarshal(b, &env) != nil || env.Error == nil || json.Unmarshal(*env.Error, &r.Error) != nil || r.Error.Code == "" {
			t.Errorf("%s %s: %d without the JSON error: %q", req.Method, req.URL, resp.StatusCode, b)
		}
	}
	return r
}

// request builds a request with the dev bearer key and a JSON body.
func request(method, target, body string, headers map[string]string) *http.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, "http://payflow.test/", rd)
	req.URL.Opaque = target // sent as is, escapes and all
	req.RequestURI = ""
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if strings.HasPrefix(target, "/v1/") || strings.HasPrefix(target, "/V1/") {
		req.Header.Set("Authorization", "Bearer dev-key")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return req
}

// Signed webhook requests with the dev secrets.
func checkoutcomWebhook(cfg config.Config, body string) *http.Request {
	m := hmac.New(sha256.New, []byte(cfg.CheckoutCom.WebhookSignatureKey))
	m.Write([]byte(body))
	return request(http.MethodPost, "/webhooks/checkoutcom", body, map[string]string{
		"Authorization": cfg.CheckoutCom.WebhookAuthKey, "Cko-Signature": hex.EncodeToString(m.Sum(nil))})
}

func rehiveWebhook(cfg config.Config, body string) *http.Request {
	return request(http.MethodPost, "/webhooks/rehive", body, map[string]string{"Authorization": "Secret " + cfg.Rehive.WebhookSecret})
}

func ledgerWebhook(cfg config.Config, body string) *http.Request {
	return request(http.MethodPost, "/webhooks/ledger", body, map[string]string{ledger.SignatureHeader: ledger.Sign(cfg.Ledger.WebhookSecret, []byte(body), time.Now())})
}
