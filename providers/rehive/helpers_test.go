package rehive_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/payflow/payflow/providers/rehive"
	sandbox "github.com/payflow/payflow/sandbox/rehive"
)

const (
	adminToken    = "test-admin-token"
	webhookSecret = "test-webhook-secret"
	company       = "payflow"
	password      = "correct horse"
)

// env is a sandbox on an httptest server, a client pointed at it and a
// webhook receiver that verifies every delivery.
type env struct {
	t      *testing.T
	sb     *sandbox.Sandbox
	base   string // .../sandbox/rehive
	client *rehive.Client
	hooks  *receiver
}

func newEnv(t *testing.T, opts ...func(*sandbox.Config)) *env {
	t.Helper()
	hooks := newReceiver(t)
	cfg := sandbox.Config{
		AdminToken:        adminToken,
		WebhookSecret:     webhookSecret,
		ManagedCurrencies: []string{"XLM"},
		WebhookURL:        hooks.url,
		WebhookBackoff:    []time.Duration{5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond},
	}
	for _, o := range opts {
		o(&cfg)
	}
	sb := sandbox.New(cfg)
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(func() { sb.Close(); sb.Flush() })
	e := &env{t: t, sb: sb, base: srv.URL + "/sandbox/rehive", hooks: hooks}
	e.client = e.newClient(adminToken, 5*time.Second)
	return e
}

func (e *env) newClient(token string, timeout time.Duration) *rehive.Client {
	return rehive.New(rehive.Config{BaseURL: e.base + "/3", AdminToken: token, Timeout: timeout})
}

// control calls a control endpoint and decodes the answer into out.
func (e *env) control(method, path string, body, out any) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.base+"/_control/"+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if resp.StatusCode/100 != 2 {
		e.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

type customer struct {
	ID      string `json:"id"`
	Email   string `json:"email"`
	Account string `json:"account"`
	Token   string `json:"token"`
}

func (e *env) user(email string, balances map[string]int64) customer {
	var c customer
	e.control(http.MethodPost, "users", map[string]any{"email": email, "password": password, "balances": balances}, &c)
	return c
}

func (e *env) merchant() (email, account string) {
	var m struct{ Email, Account string }
	e.control(http.MethodGet, "merchant", nil, &m)
	return m.Email, m.Account
}

// controlTx creates a transaction as the user would and returns it.
func (e *env) controlTx(body map[string]any) rehive.Transaction {
	var tx rehive.Transaction
	e.control(http.MethodPost, "transactions", body, &tx)
	return tx
}

func (e *env) faults(cfg map[string]any) { e.control(http.MethodPost, "faults", cfg, nil) }

type sandboxState struct {
	Stats struct {
		FailedCalls      int `json:"failed_calls"`
		AnswersLost      int `json:"answers_lost"`
		WebhooksSent     int `json:"webhooks_sent"`
		WebhookAttempts  int `json:"webhook_attempts"`
		WebhooksDropped  int `json:"webhooks_dropped"`
		WebhooksReplayed int `json:"webhooks_replayed"`
	} `json:"stats"`
	Counts struct {
		Collections        int            `json:"collections"`
		Transactions       map[string]int `json:"transactions"`
		PendingTransitions int            `json:"pending_transitions"`
	} `json:"counts"`
}

func (e *env) state() sandboxState {
	var s sandboxState
	e.control(http.MethodGet, "state", nil, &s)
	return s
}

func (e *env) balance(token, code string) (balance, available int64) {
	e.t.Helper()
	accounts, err := e.client.Accounts(ctx(e.t), token)
	if err != nil {
		e.t.Fatal(err)
	}
	if len(accounts) != 1 {
		e.t.Fatalf("accounts: %+v", accounts)
	}
	c := accounts[0].Currency(code)
	if c == nil {
		return 0, 0
	}
	return c.Balance, c.AvailableBalance
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// receiver is payflow's webhook endpoint as far as these tests go: it
// verifies and parses every delivery and records the good ones in order.
type receiver struct {
	url string

	mu       sync.Mutex
	events   []*rehive.WebhookEvent
	rejected int
	// fail says whether to answer 500 to the n-th delivery (1-based) of an
	// event id.
	fail  func(n int) bool
	count map[string]int
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{count: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := rehive.VerifyWebhook(req.Header.Get("Authorization"), webhookSecret); err != nil {
		r.rejected++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	ev, err := rehive.ParseWebhook(body)
	if err != nil {
		r.rejected++
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.count[ev.ID]++
	if r.fail != nil && r.fail(r.count[ev.ID]) {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	r.events = append(r.events, ev)
	w.WriteHeader(http.StatusOK)
}

func (r *receiver) setFail(f func(n int) bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = f
}

func (r *receiver) snapshot() []*rehive.WebhookEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*rehive.WebhookEvent(nil), r.events...)
}

// txEvent matches a transaction event by name, transaction id and status.
func txEvent(name, txID, status string) func(*rehive.WebhookEvent) bool {
	return func(ev *rehive.WebhookEvent) bool {
		if ev.Event != name || ev.IsTransition() {
			return false
		}
		tx, err := ev.Transaction()
		return err == nil && string(tx.ID) == txID && (status == "" || tx.Status == status)
	}
}

// transitionEvent matches a transition event about a transaction.
func transitionEvent(name, txID string) func(*rehive.WebhookEvent) bool {
	return func(ev *rehive.WebhookEvent) bool {
		if ev.Event != name {
			return false
		}
		tx, err := ev.Transaction()
		return err == nil && string(tx.ID) == txID
	}
}

// wait polls until an accepted event matches and returns it.
func (r *receiver) wait(t *testing.T, match func(*rehive.WebhookEvent) bool) *rehive.WebhookEvent {
	t.Helper()
	var found *rehive.WebhookEvent
	eventually(t, func() bool {
		for _, ev := range r.snapshot() {
			if match(ev) {
				found = ev
				return true
			}
		}
		return false
	})
	return found
}

// eventually polls cond until it holds or 5 s pass.
func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
