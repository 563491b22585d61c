// Package checkoutcom is an in-memory stand-in for the Checkout.com API:
// card tokens, payments with the documented test-card outcomes, 3-D Secure,
// captures, voids, refunds, idempotency keys, and signed webhooks sent to
// payflow, with fault injection for tests and demos.
package checkoutcom

import (
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/payflow/payflow/sandbox/faults"
)

// Prefix is the path every route of the sandbox starts with.
const Prefix = "/sandbox/checkoutcom"

// eventDelay separates a payment's response from the webhooks and automatic
// capture that follow it, so events arrive in the order Checkout.com sends them.
const eventDelay = 30 * time.Millisecond

// Config configures a Sandbox.
type Config struct {
	SecretKey           string // API calls need "Authorization: Bearer <SecretKey>"
	WebhookAuthKey      string // sent verbatim as Authorization on webhooks
	WebhookSignatureKey string // HMAC-SHA256 key of Cko-Signature
	WebhookURL          string // empty = don't send webhooks
	BaseURL             string // external base, e.g. http://127.0.0.1:8090/sandbox/checkoutcom; empty = from the request's Host
	Logger              *slog.Logger
	// WebhookBackoff replaces the retry schedule outright (tests).
	WebhookBackoff []time.Duration
	// WebhookRetryScale multiplies Checkout.com's retry schedule: 1 is the
	// real one (5 m … 12 h); 0 means DefaultWebhookRetryScale.
	WebhookRetryScale float64
	// IdempotencyTTL is how long a Cko-Idempotency-Key is kept; 0 means
	// DefaultIdempotencyTTL.
	IdempotencyTTL time.Duration
	// Now is the sandbox's clock (token and key expiry); nil means time.Now.
	Now func() time.Time
}

// WebhookRetrySchedule is Checkout.com's wait before each retry of an
// unacknowledged webhook.
var WebhookRetrySchedule = []time.Duration{
	5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 4 * time.Hour, 12 * time.Hour, 12 * time.Hour,
}

// DefaultWebhookRetryScale compresses the schedule 3000-fold (5 m → 100 ms,
// 12 h → 14.4 s), so dev and tests see the real shape in seconds.
const DefaultWebhookRetryScale = 1.0 / 3000

// ScaledBackoff is the retry schedule multiplied by scale.
func ScaledBackoff(scale float64) []time.Duration {
	out := make([]time.Duration, len(WebhookRetrySchedule))
	for i, d := range WebhookRetrySchedule {
		out[i] = time.Duration(float64(d) * scale)
	}
	return out
}

// Sandbox is the fake Checkout.com. Create it with New.
type Sandbox struct {
	cfg        Config
	log        *slog.Logger
	faults     *faults.Injector
	sender     *faults.Sender
	webhookURL atomic.Value // string
	now        func() time.Time
	idemTTL    time.Duration

	mu        sync.Mutex
	idle      *sync.Cond // signalled when a scheduled task ends
	tokens    map[string]*token
	payments  map[string]*payment
	order     []string // payment ids in creation order
	idem      map[idemKey]*idemEntry
	timers    map[*time.Timer]struct{}
	scheduled int // tasks scheduled or running
	closed    bool
}

// New returns a sandbox; call Close when done with it.
func New(cfg Config) *Sandbox {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	backoff := cfg.WebhookBackoff
	if backoff == nil {
		scale := cfg.WebhookRetryScale
		if scale <= 0 {
			scale = DefaultWebhookRetryScale
		}
		backoff = ScaledBackoff(scale)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	ttl := cfg.IdempotencyTTL
	if ttl <= 0 {
		ttl = DefaultIdempotencyTTL
	}
	s := &Sandbox{
		cfg:      cfg,
		log:      log,
		faults:   &faults.Injector{},
		now:      now,
		idemTTL:  ttl,
		tokens:   map[string]*token{},
		payments: map[string]*payment{},
		idem:     map[idemKey]*idemEntry{},
		timers:   map[*time.Timer]struct{}{},
	}
	s.idle = sync.NewCond(&s.mu)
	s.webhookURL.Store(cfg.WebhookURL)
	s.sender = &faults.Sender{
		Injector: s.faults,
		URL:      func() string { return s.webhookURL.Load().(string) },
		Sign:     s.sign,
		Backoff:  backoff,
		Logger:   log,
	}
	return s
}

// SetWebhookURL changes where webhooks go (tests start payflow after the sandbox).
func (s *Sandbox) SetWebhookURL(url string) { s.webhookURL.Store(url) }

// Handler serves the full paths under Prefix.
func (s *Sandbox) Handler() http.Handler {
	mux := http.NewServeMux()
	api := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, s.authenticated(h)) }
	read := func(f apiFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			status, v := f(w, r)
			respond(w, status, v)
		}
	}
	mux.HandleFunc("POST "+Prefix+"/tokens", s.createToken)
	api("POST "+Prefix+"/payments", s.idempotent(s.requestPayment))
	api("GET "+Prefix+"/payments", read(s.listPayments))
	api("GET "+Prefix+"/payments/{id}", read(s.getPayment))
	api("GET "+Prefix+"/payments/{id}/actions", read(s.getActions))
	api("POST "+Prefix+"/payments/{id}/captures", s.idempotent(s.actionHandler(captureKind)))
	api("POST "+Prefix+"/payments/{id}/voids", s.idempotent(s.actionHandler(voidKind)))
	api("POST "+Prefix+"/payments/{id}/refunds", s.idempotent(s.actionHandler(refundKind)))
	mux.HandleFunc("GET "+Prefix+"/3ds/{id}", s.threeDSPage)
	mux.HandleFunc("GET "+Prefix+"/return/{outcome}", s.returnPage)
	mux.HandleFunc(Prefix+"/_control/faults", s.faults.ServeControl)
	mux.HandleFunc("GET "+Prefix+"/_control/state", s.state)
	mux.HandleFunc("GET "+Prefix+"/_control/payments", s.controlPayments)
	mux.HandleFunc("POST "+Prefix+"/_control/3ds/{id}", s.completeThreeDS)
	return withRequestID(s.faults.Middleware(mux))
}

// Flush waits for scheduled events (approvals, captures, webhooks) to run,
// then sends held-back webhooks and waits for deliveries in flight.
func (s *Sandbox) Flush() {
	s.mu.Lock()
	for s.scheduled > 0 {
		s.idle.Wait()
	}
	s.mu.Unlock()
	s.sender.Flush()
}

// Close cancels scheduled events and waits for running ones. Webhook
// deliveries already handed to the sender finish (or give up) on their own.
func (s *Sandbox) Close() {
	s.mu.Lock()
	s.closed = true
	for t := range s.timers {
		if t.Stop() {
			delete(s.timers, t)
			s.scheduled--
		}
	}
	for s.scheduled > 0 {
		s.idle.Wait()
	}
	s.mu.Unlock()
}

// schedule runs f after d unless the sandbox is closed first. s.mu must be held.
func (s *Sandbox) schedule(d time.Duration, f func()) {
	if s.closed {
		return
	}
	s.scheduled++
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		s.mu.Lock()
		delete(s.timers, t)
		closed := s.closed
		s.mu.Unlock()
		if !closed {
			f()
		}
		s.mu.Lock()
		s.scheduled--
		s.idle.Broadcast()
		s.mu.Unlock()
	})
	s.timers[t] = struct{}{}
}
