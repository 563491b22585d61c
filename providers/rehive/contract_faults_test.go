package rehive_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/payflow/payflow/providers/httpx"
	"github.com/payflow/payflow/providers/rehive"
)

// Idempotent calls (GETs, keyed POST/PATCH, creations with client ids)
// survive a failure that the next attempt does not repeat.
func TestContractRetriedFaults(t *testing.T) {
	t.Parallel()
	for _, status := range []int{500, 429, 503} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			ada := e.user("ada@example.com", map[string]int64{"USD": 1000})
			merchantEmail, _ := e.merchant()
			tx := e.controlTx(map[string]any{"user": ada.Email, "tx_type": "credit", "currency": "USD", "amount": 1})

			e.faults(map[string]any{"fail_next": 1, "status": status})
			if _, err := e.client.GetTransaction(ctx(t), string(tx.ID)); err != nil {
				t.Fatalf("GET: %v", err)
			}
			e.faults(map[string]any{"fail_next": 1, "status": status})
			if _, err := e.client.Transfer(ctx(t), ada.Token, rehive.TransferRequest{Amount: 10, Currency: "USD", Recipient: merchantEmail}, "pay-1"); err != nil {
				t.Fatalf("keyed transfer: %v", err)
			}
			e.faults(map[string]any{"fail_next": 1, "status": status})
			req := rehive.CollectionRequest{ID: rehive.DeriveID("c"), Status: rehive.StatusComplete,
				Transactions: []rehive.CollectionTx{{TxType: rehive.Credit, Amount: 5, Currency: "USD", User: ada.Email}}}
			if _, err := e.client.CreateCollection(ctx(t), req, ""); err != nil {
				t.Fatalf("collection with client id: %v", err)
			}
			s := e.state()
			if s.Stats.FailedCalls != 3 || s.Counts.Collections != 3 {
				t.Fatalf("state = %+v", s)
			}
		})
	}
}

// More failures than attempts: a retryable error carrying Retry-After.
func TestContractRetriesExhausted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.faults(map[string]any{"fail_next": 5, "status": 503})
	_, err := e.client.GetTransaction(ctx(t), rehive.DeriveID("x"))
	var he *httpx.Error
	if !errors.As(err, &he) || he.Class != httpx.Retryable || he.Status != 503 || he.RetryAfter != time.Second {
		t.Fatalf("err = %#v", err)
	}
	if s := e.state(); s.Stats.FailedCalls != 3 {
		t.Fatalf("attempts = %d, want 3", s.Stats.FailedCalls)
	}
}

// A call that is not idempotent is tried once: a retry could pay twice.
func TestContractNotIdempotentNotRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ada := e.user("ada@example.com", map[string]int64{"USD": 1000})
	merchantEmail, _ := e.merchant()
	e.faults(map[string]any{"fail_next": 1, "status": 503})
	_, err := e.client.Transfer(ctx(t), ada.Token, rehive.TransferRequest{Amount: 10, Currency: "USD", Recipient: merchantEmail}, "")
	if httpx.ClassOf(err) != httpx.Retryable {
		t.Fatalf("err = %v", err)
	}
	e.faults(map[string]any{"fail_next": 1, "status": 500})
	if _, err := e.client.Login(ctx(t), ada.Email, company, password); httpx.ClassOf(err) != httpx.Retryable {
		t.Fatalf("login err = %v", err)
	}
	if s := e.state(); s.Stats.FailedCalls != 2 || s.Counts.Collections != 0 {
		t.Fatalf("state = %+v", s)
	}
}

// An answer slower than the client's timeout is a retryable failure whose
// message carries no credentials.
func TestContractLatencyBeyondTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ada := e.user("ada@example.com", nil)
	e.faults(map[string]any{"latency_ms": 300})
	slow := e.newClient(adminToken, 50*time.Millisecond)
	_, err := slow.Login(ctx(t), ada.Email, company, password)
	var he *httpx.Error
	if !errors.As(err, &he) || he.Class != httpx.Retryable || he.Status != 0 {
		t.Fatalf("err = %#v", err)
	}
	_, err = slow.Accounts(ctx(t), ada.Token)
	if httpx.ClassOf(err) != httpx.Retryable {
		t.Fatalf("accounts err = %v", err)
	}
	for _, secret := range []string{password, ada.Token, adminToken} {
		if strings.Contains(err.Error(), secret) || strings.Contains(he.Error(), secret) {
			t.Fatalf("error leaks a credential: %v", err)
		}
	}
}

// Rehive retries a webhook until it gets a 2xx, with the same event id.
func TestContractWebhookRetriedUntil2xx(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.hooks.setFail(func(n int) bool { return n <= 2 })
	ada := e.user("ada@example.com", nil)
	tx := e.controlTx(map[string]any{"user": ada.Email, "tx_type": "credit", "currency": "USD", "amount": 100})
	e.hooks.wait(t, txEvent(rehive.EventTransactionCreate, string(tx.ID), rehive.StatusPending))
	e.hooks.wait(t, txEvent(rehive.EventTransactionUpdate, string(tx.ID), rehive.StatusComplete))
	e.sb.Flush()
	e.hooks.mu.Lock()
	defer e.hooks.mu.Unlock()
	if len(e.hooks.count) != 2 {
		t.Fatalf("event ids = %v", e.hooks.count)
	}
	for id, n := range e.hooks.count {
		if n != 3 {
			t.Fatalf("event %s delivered %d times, want 3", id, n)
		}
	}
}

func TestContractWebhookFaults(t *testing.T) {
	t.Parallel()
	t.Run("drop", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		ada := e.user("ada@example.com", nil)
		e.faults(map[string]any{"drop_webhooks": true})
		e.controlTx(map[string]any{"user": ada.Email, "tx_type": "credit", "currency": "USD", "amount": 100})
		e.sb.Flush()
		if got := e.hooks.snapshot(); len(got) != 0 {
			t.Fatalf("received %d webhooks", len(got))
		}
		if s := e.state(); s.Stats.WebhooksDropped != 2 {
			t.Fatalf("dropped = %d", s.Stats.WebhooksDropped)
		}
	})
	t.Run("duplicate", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		ada := e.user("ada@example.com", nil)
		e.faults(map[string]any{"duplicate_webhooks": true})
		e.controlTx(map[string]any{"user": ada.Email, "tx_type": "credit", "currency": "USD", "amount": 100})
		e.sb.Flush()
		seen := map[string]int{}
		for _, ev := range e.hooks.snapshot() {
			seen[ev.ID]++
		}
		if len(seen) != 2 {
			t.Fatalf("ids = %v", seen)
		}
		for id, n := range seen {
			if n != 3 {
				t.Fatalf("event %s received %d times", id, n)
			}
		}
	})
	t.Run("reorder", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		bob := e.user("bob@example.com", map[string]int64{"XLM": 10})
		e.faults(map[string]any{"reorder_webhooks": true})
		// transaction.create is held back and sent after transition.create.
		e.controlTx(map[string]any{"user": bob.Email, "tx_type": "debit", "currency": "XLM", "amount": 5})
		e.sb.Flush()
		got := e.hooks.snapshot()
		if len(got) != 2 || got[0].Event != rehive.EventTransactionTransitionCreate || got[1].Event != rehive.EventTransactionCreate {
			t.Fatalf("order = %v", names(got))
		}
		first, _ := strconv.Atoi(got[0].ID)
		second, _ := strconv.Atoi(got[1].ID)
		if first <= second {
			t.Fatalf("ids %d, %d: not reordered", first, second)
		}
	})
}

func names(evs []*rehive.WebhookEvent) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.ID+":"+ev.Event)
	}
	return out
}
