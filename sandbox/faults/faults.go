// Package faults is the fault injection and webhook delivery the provider
// sandboxes share: fail the next N calls, add latency, and drop, duplicate or
// reorder the webhooks they send.
package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Config is the body of POST /sandbox/<provider>/_control/faults.
type Config struct {
	FailNext          int  `json:"fail_next"`
	Status            int  `json:"status"`
	LatencyMS         int  `json:"latency_ms"`
	DropWebhooks      bool `json:"drop_webhooks"`
	DuplicateWebhooks bool `json:"duplicate_webhooks"`
	ReorderWebhooks   bool `json:"reorder_webhooks"`
	// LoseAnswersNext makes the next N money-moving calls carry out their
	// action and then lose the answer the way LoseMode says.
	LoseAnswersNext int      `json:"lose_answers_next"`
	LoseMode        LoseMode `json:"lose_mode"`
	// Approvals is how Rehive applies an approved transition: "immediate"
	// (default), "queued" (answers queued, applies shortly after), "pending"
	// (answers still pending, applies shortly after) or "held"
	// (answers queued, applies only when the status control moves it).
	Approvals string `json:"approvals"`
}

// Stats count what the injector and sender did, for GET .../_control/state.
type Stats struct {
	FailedCalls      int `json:"failed_calls"`
	AnswersLost      int `json:"answers_lost"`      // money-moving calls carried out whose answer was lost
	WebhooksSent     int `json:"webhooks_sent"`     // deliveries answered 2xx
	WebhookAttempts  int `json:"webhook_attempts"`  // every POST, retries included
	WebhooksDropped  int `json:"webhooks_dropped"`  // dropped on purpose
	WebhooksFailed   int `json:"webhooks_failed"`   // gave up after retries
	WebhooksReplayed int `json:"webhooks_replayed"` // extra copies sent by duplicate_webhooks
}

// Injector holds the current fault settings of one sandbox.
type Injector struct {
	mu    sync.Mutex
	cfg   Config
	stats Stats
}

// Set replaces the fault settings.
func (i *Injector) Set(c Config) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if c.FailNext > 0 && c.Status == 0 {
		c.Status = http.StatusServiceUnavailable
	}
	if c.LoseAnswersNext > 0 && c.LoseMode == "" {
		c.LoseMode = Lose5xx
	}
	i.cfg = c
}

// Snapshot returns the current settings and counters.
func (i *Injector) Snapshot() (Config, Stats) {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.cfg, i.stats
}

// Middleware applies latency and fail_next to every request except the
// sandbox's own control endpoints (paths containing "/_control/").
func (i *Injector) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/_control/") {
			next.ServeHTTP(w, r)
			return
		}
		i.mu.Lock()
		latency := time.Duration(i.cfg.LatencyMS) * time.Millisecond
		status := 0
		if i.cfg.FailNext > 0 {
			i.cfg.FailNext--
			status = i.cfg.Status
			i.stats.FailedCalls++
		}
		i.mu.Unlock()
		if latency > 0 {
			select {
			case <-time.After(latency):
			case <-r.Context().Done():
				return
			}
		}
		if status != 0 {
			if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
				w.Header().Set("Retry-After", "1")
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_ = json.NewEncoder(w).Encode(map[string]any{"status": "error", "message": "injected fault", "error_type": "injected_fault"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Sender posts webhooks the way a provider does: signed by Sign, retried with
// backoff on a non-2xx, and subject to the drop/duplicate/reorder faults.
type Sender struct {
	Injector *Injector
	// URL returns the current target; empty means webhooks are not configured.
	URL func() string
	// Sign sets the provider's authentication headers for a body.
	Sign func(h http.Header, body []byte)
	// Backoff lists the waits between attempts; its length+1 is the number of
	// attempts. Real providers wait minutes; sandboxes compress that.
	Backoff []time.Duration
	Client  *http.Client
	Logger  *slog.Logger

	mu   sync.Mutex
	held [][]byte // a webhook held back by reorder_webhooks
	wg   sync.WaitGroup
}

// Send delivers body asynchronously; it never blocks the caller.
func (s *Sender) Send(body []byte) {
	cfg, _ := s.Injector.Snapshot()
	if cfg.DropWebhooks {
		s.count(func(st *Stats) { st.WebhooksDropped++ })
		return
	}
	batch := [][]byte{body}
	if cfg.ReorderWebhooks {
		// Hold every other webhook and send it after the next one.
		s.mu.Lock()
		if len(s.held) == 0 {
			s.held = append(s.held, body)
			s.mu.Unlock()
			return
		}
		batch = append(batch, s.held...)
		s.held = nil
		s.mu.Unlock()
	}
	copies := 1
	if cfg.DuplicateWebhooks {
		copies = 3
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for _, b := range batch {
			for c := 0; c < copies; c++ {
				if c > 0 {
					s.count(func(st *Stats) { st.WebhooksReplayed++ })
				}
				s.deliver(b)
			}
		}
	}()
}

// Flush sends any held-back webhook and waits for deliveries in flight.
func (s *Sender) Flush() {
	s.mu.Lock()
	held := s.held
	s.held = nil
	s.mu.Unlock()
	for _, b := range held {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.deliver(b) }()
	}
	s.wg.Wait()
}

func (s *Sender) deliver(body []byte) {
	url := ""
	if s.URL != nil {
		url = s.URL()
	}
	if url == "" {
		return
	}
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	for attempt := 0; ; attempt++ {
		s.count(func(st *Stats) { st.WebhookAttempts++ })
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			cancel()
			s.count(func(st *Stats) { st.WebhooksFailed++ })
			if s.Logger != nil {
				s.Logger.Warn("sandbox webhook: bad target URL", "error", err)
			}
			return
		}
		req.Header.Set("Content-Type", "application/json")
		if s.Sign != nil {
			s.Sign(req.Header, body)
		}
		resp, err := client.Do(req)
		status := 0
		if err == nil {
			status = resp.StatusCode
			resp.Body.Close()
		}
		cancel()
		if status >= 200 && status < 300 {
			s.count(func(st *Stats) { st.WebhooksSent++ })
			return
		}
		if attempt >= len(s.Backoff) {
			s.count(func(st *Stats) { st.WebhooksFailed++ })
			if s.Logger != nil {
				s.Logger.Warn("sandbox webhook gave up", "url", url, "status", status, "error", err)
			}
			return
		}
		time.Sleep(s.Backoff[attempt])
	}
}

func (s *Sender) count(f func(*Stats)) {
	s.Injector.mu.Lock()
	f(&s.Injector.stats)
	s.Injector.mu.Unlock()
}

// ServeControl handles POST (set) and GET (read) of .../_control/faults; state
// is the provider-specific part of GET .../_control/state.
func (i *Injector) ServeControl(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		var c Config
		if err := json.NewDecoder(r.Body).Decode(&c); err != nil {
			http.Error(w, `{"error":"malformed fault config"}`, http.StatusBadRequest)
			return
		}
		if err := c.validate(); err != nil {
			http.Error(w, `{"error":"`+err.Error()+`"}`, http.StatusBadRequest)
			return
		}
		i.Set(c)
	}
	cfg, stats := i.Snapshot()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"faults": cfg, "stats": stats})
}
