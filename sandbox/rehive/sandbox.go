// Package rehive is an in-memory stand-in for the Rehive platform API v3:
// users and accounts, transfers, transactions and collections, managed
// currencies with transitions the manager approves or declines, and webhooks
// authenticated with "Secret <secret>". It serves full paths under
// /sandbox/rehive/ (the API under /sandbox/rehive/3/) with fault injection.
package rehive

import (
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/payflow/payflow/sandbox/faults"
)

const prefix = "/sandbox/rehive"

// Config configures the sandbox.
type Config struct {
	Company       string // company identifier users log in to; default "payflow"
	AdminToken    string // the manager's service token; empty rejects every admin call
	WebhookSecret string // sent as "Authorization: Secret <secret>"
	// ManagedCurrencies wait for the manager to approve or decline the
	// transitions of user-created transactions (e.g. XLM).
	ManagedCurrencies []string
	// MerchantEmail is the merchant user, created at start with a zero-balance
	// primary account; default "merchant@payflow.test".
	MerchantEmail string
	// Currencies adds currencies (code → divisibility) to the built-in USD 2,
	// EUR 2 and XLM 7.
	Currencies map[string]int

	// RateLimits are the per-IP request limits (zero: Rehive's own).
	RateLimits RateLimits
	// InitiatingTTL is the age at which Rehive prunes a transaction still
	// Initiating; 0 means 15 minutes.
	InitiatingTTL time.Duration

	WebhookURL     string          // where webhooks go; empty = not sent
	BaseURL        string          // external base, e.g. http://127.0.0.1:8090/sandbox/rehive; shown in _control/state
	Logger         *slog.Logger    // may be nil
	WebhookBackoff []time.Duration // waits between delivery attempts
}

// defaultBackoff compresses Rehive's retries (up to 7, at most 1 h apart).
var defaultBackoff = []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond,
	800 * time.Millisecond, 1600 * time.Millisecond, 3200 * time.Millisecond, 5 * time.Second}

// Sandbox is one in-memory Rehive company.
type Sandbox struct {
	cfg     Config
	log     *slog.Logger
	faults  *faults.Injector
	sender  *faults.Sender
	hookURL atomic.Value // string
	closed  atomic.Bool
	timers  sync.WaitGroup // work scheduled with after
	idem    idempotency
	handler http.Handler

	mu sync.Mutex // guards everything below
	st state
}

// New creates the sandbox with its merchant user.
func New(cfg Config) *Sandbox {
	if cfg.Company == "" {
		cfg.Company = "payflow"
	}
	if cfg.MerchantEmail == "" {
		cfg.MerchantEmail = "merchant@payflow.test"
	}
	if cfg.InitiatingTTL <= 0 {
		cfg.InitiatingTTL = 15 * time.Minute
	}
	if cfg.WebhookBackoff == nil {
		cfg.WebhookBackoff = defaultBackoff
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Sandbox{cfg: cfg, log: log, faults: &faults.Injector{}, st: newState(cfg)}
	s.hookURL.Store(cfg.WebhookURL)
	// Rehive counts an answer after 5 s as a failure.
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	s.sender = &faults.Sender{
		Injector: s.faults,
		URL: func() string {
			if s.closed.Load() {
				return ""
			}
			return s.hookURL.Load().(string)
		},
		Sign:    func(h http.Header, _ []byte) { h.Set("Authorization", "Secret "+cfg.WebhookSecret) },
		Backoff: cfg.WebhookBackoff,
		Client:  client,
		Logger:  log,
	}
	s.handler = s.faults.Middleware(s.routes())
	return s
}

func (s *Sandbox) routes() http.Handler {
	api := http.NewServeMux()
	api.HandleFunc("POST "+prefix+"/3/auth/login/{$}", s.login)
	api.HandleFunc("GET "+prefix+"/3/accounts/{$}", s.asUser(s.listAccounts))
	api.HandleFunc("POST "+prefix+"/3/transactions/transfer/{$}", s.asUser(s.transfer))
	api.HandleFunc("GET "+prefix+"/3/admin/transactions/{$}", s.asAdmin(s.listTransactions))
	api.HandleFunc("GET "+prefix+"/3/admin/transactions/{id}/{$}", s.asAdmin(s.getTransaction))
	api.HandleFunc("PATCH "+prefix+"/3/admin/transactions/{id}/{$}", s.asAdmin(s.patchTransaction))
	api.HandleFunc("GET "+prefix+"/3/admin/transactions/{id}/messages/{$}", s.asAdmin(s.listMessages))
	api.HandleFunc("POST "+prefix+"/3/admin/transactions/{id}/messages/{$}", s.asAdmin(s.addMessage))
	api.HandleFunc("POST "+prefix+"/3/admin/transaction-collections/{$}", s.asAdmin(s.createCollection))
	api.HandleFunc("GET "+prefix+"/3/admin/transaction-collections/{id}/{$}", s.asAdmin(s.getCollection))
	api.HandleFunc("PATCH "+prefix+"/3/admin/transaction-collections/{id}/{$}", s.asAdmin(s.patchCollection))
	api.HandleFunc("GET "+prefix+"/3/admin/transaction-transitions/{$}", s.asAdmin(s.listTransitions))
	api.HandleFunc("GET "+prefix+"/3/admin/transaction-transitions/{id}/{$}", s.asAdmin(s.getTransition))
	api.HandleFunc("PATCH "+prefix+"/3/admin/transaction-transitions/{id}/{$}", s.asAdmin(s.patchTransition))
	api.HandleFunc(prefix+"/3/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, &apiError{status: http.StatusNotFound, message: "Not found."})
	})

	mux := http.NewServeMux()
	limits := &limiter{limits: s.cfg.RateLimits.withDefaults()}
	mux.Handle(prefix+"/3/", limits.middleware(s.idem.middleware(api, s.faults)))
	mux.HandleFunc("POST "+prefix+"/_control/users", s.controlCreateUser)
	mux.HandleFunc("GET "+prefix+"/_control/merchant", s.controlMerchant)
	mux.HandleFunc("POST "+prefix+"/_control/transactions", s.controlCreateTransaction)
	mux.HandleFunc("GET "+prefix+"/_control/transactions", s.controlListTransactions)
	mux.HandleFunc("GET "+prefix+"/_control/transactions/{id}", s.controlGetTransaction)
	mux.HandleFunc("POST "+prefix+"/_control/transactions/{id}/status", s.controlSetStatus)
	mux.HandleFunc("GET "+prefix+"/_control/state", s.controlState)
	mux.HandleFunc(prefix+"/_control/faults", s.faults.ServeControl)
	return mux
}

// Handler serves full paths beginning with /sandbox/rehive/.
func (s *Sandbox) Handler() http.Handler { return s.handler }

// SetWebhookURL points webhooks at url (empty stops sending).
func (s *Sandbox) SetWebhookURL(url string) { s.hookURL.Store(url) }

// Flush sends held-back webhooks and waits for deliveries in flight,
// retries included.
func (s *Sandbox) Flush() { s.sender.Flush() }

// Close stops sending new webhooks (deliveries under way finish their
// retries), lets scheduled work run out (it does nothing once closed) and
// releases idle connections.
func (s *Sandbox) Close() {
	s.closed.Store(true)
	s.timers.Wait()
	if t, ok := s.sender.Client.Transport.(*http.Transport); ok {
		t.CloseIdleConnections()
	}
}

// write runs fn under the state lock, then sends the webhooks it queued:
// sending never happens while the lock is held.
func (s *Sandbox) write(fn func(ob *outbox) error) error {
	ob := &outbox{}
	s.mu.Lock()
	s.pruneLocked(time.Now())
	err := fn(ob)
	s.mu.Unlock()
	s.send(ob)
	return err
}

// after runs f once d has passed, unless the sandbox is closed by then.
func (s *Sandbox) after(d time.Duration, f func()) {
	if s.closed.Load() {
		return
	}
	s.timers.Add(1)
	time.AfterFunc(d, func() {
		defer s.timers.Done()
		if !s.closed.Load() {
			f()
		}
	})
}

func nowMS() int64 { return time.Now().UnixMilli() }
