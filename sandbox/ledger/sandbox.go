// Package ledger is an in-memory stand-in for the third-party ledger: the
// /v1 transaction and account API, automatic confirmation of withdrawals,
// signed webhooks, and control endpoints for tests and demos.
package ledger

import (
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/payflow/payflow/sandbox/faults"
)

// Prefix is the path every route of this sandbox starts with.
const Prefix = "/sandbox/ledger"

// Config configures a Sandbox.
type Config struct {
	// APIKey is the bearer key the /v1 API accepts; empty rejects every call.
	APIKey string
	// WebhookSecret signs the Ledger-Signature header.
	WebhookSecret string
	// WebhookURL is where payflow listens; empty means webhooks are not sent.
	WebhookURL string
	// BaseURL is the sandbox's own external base URL (informational here).
	BaseURL string
	Logger  *slog.Logger
	// WebhookBackoff lists the waits between delivery attempts.
	WebhookBackoff []time.Duration
	// ConfirmDelay is the time between automatic confirmations.
	ConfirmDelay time.Duration
	// WithdrawalConfirmations is how many confirmations a withdrawal needs.
	WithdrawalConfirmations int
}

// Sandbox is one running ledger stand-in.
type Sandbox struct {
	cfg     Config
	log     *slog.Logger
	faults  *faults.Injector
	sender  *faults.Sender
	handler http.Handler

	hookMu     sync.Mutex
	webhookURL string

	mu       sync.Mutex
	txs      map[string]*record
	order    []string // transaction ids in creation order, for the state listing
	accounts map[string]map[string]int64
	timers   map[string]*time.Timer
	closed   bool
	steps    sync.WaitGroup // scheduled or running confirmation steps
}

// New returns a sandbox with defaults filled in.
func New(cfg Config) *Sandbox {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if len(cfg.WebhookBackoff) == 0 {
		cfg.WebhookBackoff = []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond,
			800 * time.Millisecond, 1600 * time.Millisecond, 3200 * time.Millisecond, 5 * time.Second}
	}
	if cfg.ConfirmDelay <= 0 {
		cfg.ConfirmDelay = 300 * time.Millisecond
	}
	if cfg.WithdrawalConfirmations <= 0 {
		cfg.WithdrawalConfirmations = 1
	}
	if cfg.APIKey == "" {
		cfg.Logger.Warn("ledger sandbox has no API key configured; every API call will be rejected")
	}
	s := &Sandbox{
		cfg:        cfg,
		log:        cfg.Logger,
		faults:     &faults.Injector{},
		webhookURL: cfg.WebhookURL,
		txs:        map[string]*record{},
		accounts:   map[string]map[string]int64{},
		timers:     map[string]*time.Timer{},
	}
	s.sender = &faults.Sender{
		Injector: s.faults,
		URL:      s.currentWebhookURL,
		Sign:     s.signHeader,
		Backoff:  cfg.WebhookBackoff,
		Client:   &http.Client{Timeout: 5 * time.Second},
		Logger:   cfg.Logger,
	}
	s.handler = s.routes()
	return s
}

// Handler serves full paths beginning with /sandbox/ledger/.
func (s *Sandbox) Handler() http.Handler { return s.handler }

// SetWebhookURL changes where webhooks go (tests start payflow after the sandbox).
func (s *Sandbox) SetWebhookURL(url string) {
	s.hookMu.Lock()
	defer s.hookMu.Unlock()
	s.webhookURL = url
}

func (s *Sandbox) currentWebhookURL() string {
	s.hookMu.Lock()
	defer s.hookMu.Unlock()
	return s.webhookURL
}

// Flush sends held-back webhooks and waits for deliveries in flight.
func (s *Sandbox) Flush() { s.sender.Flush() }

// Close stops automatic confirmations and waits for a running one to finish.
// Deliveries already handed to the sender finish on their own schedule.
func (s *Sandbox) Close() {
	s.mu.Lock()
	s.closed = true
	for id, t := range s.timers {
		if t.Stop() {
			s.steps.Done()
		}
		delete(s.timers, id)
	}
	s.mu.Unlock()
	s.steps.Wait()
}

func (s *Sandbox) routes() http.Handler {
	api := http.NewServeMux()
	// lose_answers_next applies to the calls that move money.
	lossy := func(h http.HandlerFunc) http.Handler { return s.faults.Lossy(h) }
	api.Handle("POST "+Prefix+"/v1/transactions", lossy(s.createTransaction))
	api.HandleFunc("GET "+Prefix+"/v1/transactions", s.listTransactions)
	api.HandleFunc("GET "+Prefix+"/v1/transactions/{id}", s.getTransaction)
	api.Handle("POST "+Prefix+"/v1/transactions/{id}/complete", lossy(s.completeTransaction))
	api.Handle("POST "+Prefix+"/v1/transactions/{id}/cancel", lossy(s.cancelTransaction))
	api.HandleFunc("GET "+Prefix+"/v1/accounts/{id}", s.getAccount)
	api.HandleFunc(Prefix+"/", notFound)

	mux := http.NewServeMux()
	mux.Handle(Prefix+"/v1/", s.faults.Middleware(s.requireKey(api)))
	mux.HandleFunc(Prefix+"/_control/faults", s.faults.ServeControl)
	mux.HandleFunc("GET "+Prefix+"/_control/state", s.controlState)
	mux.HandleFunc("POST "+Prefix+"/_control/incoming", s.controlIncoming)
	mux.HandleFunc("POST "+Prefix+"/_control/confirm/{id}", s.controlConfirm)
	mux.HandleFunc("GET "+Prefix+"/_control/transactions", s.controlTransactions)
	mux.HandleFunc("GET "+Prefix+"/_control/transactions/{id}", s.getTransaction)
	mux.HandleFunc("/", notFound)
	return mux
}
