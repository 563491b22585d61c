package ledger_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/payflow/payflow/providers/ledger"
	"github.com/payflow/payflow/sandbox/faults"
	sandbox "github.com/payflow/payflow/sandbox/ledger"
)

const (
	testKey    = "test-api-key-4b1e"
	testSecret = "test-webhook-secret-9c2d"
)

// env is a sandbox on an httptest server, a client pointed at it, and a
// webhook receiver verifying with testSecret.
type env struct {
	sb     *sandbox.Sandbox
	url    string // sandbox base URL, .../sandbox/ledger
	client *ledger.Client
	hooks  *receiver
}

func newEnv(t *testing.T, opts ...func(*sandbox.Config)) *env {
	t.Helper()
	hooks := newReceiver(t, testSecret)
	cfg := sandbox.Config{
		APIKey:         testKey,
		WebhookSecret:  testSecret,
		WebhookURL:     hooks.url,
		ConfirmDelay:   20 * time.Millisecond,
		WebhookBackoff: []time.Duration{10 * time.Millisecond, 20 * time.Millisecond},
	}
	for _, opt := range opts {
		opt(&cfg)
	}
	sb := sandbox.New(cfg)
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(func() {
		sb.Close()
		sb.Flush()
		srv.Close()
	})
	base := srv.URL + sandbox.Prefix
	return &env{sb: sb, url: base, hooks: hooks, client: newClient(base, testKey, 2*time.Second)}
}

func newClient(base, key string, timeout time.Duration) *ledger.Client {
	return ledger.New(ledger.Config{BaseURL: base, APIKey: key, Timeout: timeout})
}

// control calls a sandbox control endpoint and decodes the answer into out.
func (e *env) control(t *testing.T, method, path string, in, out any) int {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.url+"/_control"+path, body)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: decode: %v", method, path, err)
		}
	}
	return res.StatusCode
}

func (e *env) setFaults(t *testing.T, c faults.Config) {
	t.Helper()
	if st := e.control(t, http.MethodPost, "/faults", c, nil); st != http.StatusOK {
		t.Fatalf("set faults: %d", st)
	}
}

type state struct {
	Stats        faults.Stats         `json:"stats"`
	Counts       map[string]int       `json:"counts"`
	Transactions []ledger.Transaction `json:"transactions"`
}

func (e *env) state(t *testing.T) state {
	t.Helper()
	var s state
	if st := e.control(t, http.MethodGet, "/state", nil, &s); st != http.StatusOK {
		t.Fatalf("state: %d", st)
	}
	return s
}

// incoming simulates a credit and returns its transaction id.
func (e *env) incoming(t *testing.T, account string, amount int64, confirmations int) string {
	t.Helper()
	var out struct{ ID string }
	st := e.control(t, http.MethodPost, "/incoming", map[string]any{
		"account": account, "amount": amount, "currency": "USD", "required_confirmations": confirmations,
	}, &out)
	if st != http.StatusCreated || out.ID == "" {
		t.Fatalf("incoming: %d %q", st, out.ID)
	}
	return out.ID
}

// delivery is one webhook POST as the receiver saw it.
type delivery struct {
	header string
	body   []byte
	event  *ledger.WebhookEvent // nil when err is set
	err    error
}

// receiver is payflow's side of the webhooks: it verifies every delivery
// and answers 401 to those that fail.
type receiver struct {
	url    string
	secret string
	mu     sync.Mutex
	got    []delivery
}

func newReceiver(t *testing.T, secret string) *receiver {
	r := &receiver{secret: secret}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		d := delivery{header: req.Header.Get(ledger.SignatureHeader), body: body, err: err}
		if d.err == nil {
			d.err = ledger.VerifyWebhook(d.header, body, r.secret, time.Now(), 0)
		}
		if d.err == nil {
			d.event, d.err = ledger.ParseWebhook(body)
		}
		r.mu.Lock()
		r.got = append(r.got, d)
		r.mu.Unlock()
		if d.err != nil {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// eventsFor returns the verified events about one transaction, in arrival order.
func (r *receiver) eventsFor(txID string) []*ledger.WebhookEvent {
	var evs []*ledger.WebhookEvent
	for _, d := range r.deliveries() {
		if d.event != nil && d.event.Data.ID == txID {
			evs = append(evs, d.event)
		}
	}
	return evs
}

// waitFor polls until cond holds on txID's events, or fails after 5 s.
func (r *receiver) waitFor(t *testing.T, txID string, what string, cond func([]*ledger.WebhookEvent) bool) []*ledger.WebhookEvent {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		evs := r.eventsFor(txID)
		if cond(evs) {
			return evs
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s on %s; got %d events", what, txID, len(evs))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// reaches is a waitFor condition: some event shows the status.
func reaches(status ledger.Status) func([]*ledger.WebhookEvent) bool {
	return func(evs []*ledger.WebhookEvent) bool {
		return slices.ContainsFunc(evs, func(ev *ledger.WebhookEvent) bool { return ev.Data.Status == status })
	}
}
