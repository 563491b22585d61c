// Package sandbox serves faithful stand-ins of Checkout.com, Rehive and the
// ledger on one address, each under its own base path, wired to send their
// signed webhooks to payflow. `payflow dev` and `payflow sandbox` serve it;
// tests start it in-process.
package sandbox

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/payflow/payflow/config"
	"github.com/payflow/payflow/sandbox/checkoutcom"
	"github.com/payflow/payflow/sandbox/ledger"
	"github.com/payflow/payflow/sandbox/rehive"
)

// Server holds the three sandboxes.
type Server struct {
	CheckoutCom *checkoutcom.Sandbox
	Rehive      *rehive.Sandbox
	Ledger      *ledger.Sandbox
	mux         *http.ServeMux
}

// Options tune the sandboxes beyond what payflow's configuration says.
type Options struct {
	// LedgerConfirmDelay is the time between automatic ledger confirmations.
	LedgerConfirmDelay time.Duration
	// RehiveRateLimits are the Rehive sandbox's per-IP limits (zero fields:
	// Rehive's own; negative: off, for load tests from one address).
	RehiveRateLimits rehive.RateLimits
	// WebhookRetryScale compresses Checkout.com's webhook retry schedule
	// (1: the real 5 m … 12 h; 0: checkoutcom.DefaultWebhookRetryScale).
	WebhookRetryScale float64
	Logger            *slog.Logger
}

// New builds the sandboxes with the keys and secrets of cfg, so payflow's
// clients and webhook verifiers accept them. sandboxBase is the external
// base URL of the sandbox server (http://host:port); webhooks go to
// cfg.PublicURL + /webhooks/<provider>.
func New(cfg config.Config, sandboxBase string, opts Options) *Server {
	sandboxBase = strings.TrimRight(sandboxBase, "/")
	hook := func(p string) string { return cfg.PublicURL + "/webhooks/" + p }
	s := &Server{
		CheckoutCom: checkoutcom.New(checkoutcom.Config{
			SecretKey:           cfg.CheckoutCom.SecretKey,
			WebhookAuthKey:      cfg.CheckoutCom.WebhookAuthKey,
			WebhookSignatureKey: cfg.CheckoutCom.WebhookSignatureKey,
			WebhookURL:          hook("checkoutcom"),
			BaseURL:             sandboxBase + "/sandbox/checkoutcom",
			WebhookRetryScale:   opts.WebhookRetryScale,
			Logger:              opts.Logger,
		}),
		Rehive: rehive.New(rehive.Config{
			Company:           cfg.Rehive.Company,
			AdminToken:        cfg.Rehive.AdminToken,
			WebhookSecret:     cfg.Rehive.WebhookSecret,
			ManagedCurrencies: cfg.Managed,
			MerchantEmail:     cfg.Rehive.MerchantEmail,
			WebhookURL:        hook("rehive"),
			BaseURL:           sandboxBase + "/sandbox/rehive",
			RateLimits:        opts.RehiveRateLimits,
			Logger:            opts.Logger,
		}),
		Ledger: ledger.New(ledger.Config{
			APIKey:        cfg.Ledger.APIKey,
			WebhookSecret: cfg.Ledger.WebhookSecret,
			WebhookURL:    hook("ledger"),
			BaseURL:       sandboxBase + "/sandbox/ledger",
			Logger:        opts.Logger,
			ConfirmDelay:  opts.LedgerConfirmDelay,
		}),
		mux: http.NewServeMux(),
	}
	s.mux.Handle("/sandbox/checkoutcom/", s.CheckoutCom.Handler())
	s.mux.Handle("/sandbox/rehive/", s.Rehive.Handler())
	s.mux.Handle("/sandbox/ledger/", s.Ledger.Handler())
	return s
}

// Handler serves all three sandboxes.
func (s *Server) Handler() http.Handler { return s.mux }

// SetWebhookBase points every sandbox's webhooks at payflow on base.
func (s *Server) SetWebhookBase(base string) {
	base = strings.TrimRight(base, "/")
	s.CheckoutCom.SetWebhookURL(base + "/webhooks/checkoutcom")
	s.Rehive.SetWebhookURL(base + "/webhooks/rehive")
	s.Ledger.SetWebhookURL(base + "/webhooks/ledger")
}

// Flush delivers held webhooks and waits for those in flight.
func (s *Server) Flush() {
	s.CheckoutCom.Flush()
	s.Rehive.Flush()
	s.Ledger.Flush()
}

// Close stops the sandboxes' background work.
func (s *Server) Close() {
	s.CheckoutCom.Close()
	s.Rehive.Close()
	s.Ledger.Close()
}
