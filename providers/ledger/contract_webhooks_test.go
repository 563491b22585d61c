package ledger_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/payflow/payflow/providers/ledger"
	"github.com/payflow/payflow/sandbox/faults"
	sandbox "github.com/payflow/payflow/sandbox/ledger"
)

// TestVerifyRealDelivery checks the verifier against a webhook the sandbox
// actually sent, and against forgeries made from it.
func TestVerifyRealDelivery(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.incoming(t, "acct", 10, 0)
	e.hooks.waitFor(t, id, "incoming", func(evs []*ledger.WebhookEvent) bool { return len(evs) == 1 })
	d := e.hooks.deliveries()[0]
	sent := time.Now()

	tampered := bytes.Replace(d.body, []byte(`"amount":10`), []byte(`"amount":10000`), 1)
	if bytes.Equal(tampered, d.body) {
		t.Fatal("tampering did not change the body")
	}
	cases := []struct {
		name   string
		header string
		body   []byte
		secret string
		now    time.Time
		want   error
	}{
		{"good", d.header, d.body, testSecret, sent, nil},
		{"wrong secret", d.header, d.body, "other-secret", sent, ledger.ErrBadSignature},
		{"tampered body", d.header, tampered, testSecret, sent, ledger.ErrBadSignature},
		{"replayed 6 min later", d.header, d.body, testSecret, sent.Add(6 * time.Minute), ledger.ErrStaleTimestamp},
		{"timestamp 6 min in the future", d.header, d.body, testSecret, sent.Add(-6 * time.Minute), ledger.ErrStaleTimestamp},
		{"signature from another event", ledger.Sign(testSecret, []byte(`{}`), sent), d.body, testSecret, sent, ledger.ErrBadSignature},
		{"no header", "", d.body, testSecret, sent, ledger.ErrMalformedSignature},
	}
	for _, c := range cases {
		if err := ledger.VerifyWebhook(c.header, c.body, c.secret, c.now, 0); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}

// TestWrongSecretIsRefusedAndRetried: a receiver with another secret answers
// 401 to every attempt, and the sandbox gives up after its backoff schedule.
func TestWrongSecretIsRefusedAndRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *sandbox.Config) { c.WebhookSecret = "not-the-receivers-secret" })
	e.incoming(t, "acct", 10, 0)
	e.sb.Flush()
	got := e.hooks.deliveries()
	if len(got) != 3 { // one attempt plus two retries
		t.Fatalf("%d attempts, want 3", len(got))
	}
	for _, d := range got {
		if !errors.Is(d.err, ledger.ErrBadSignature) {
			t.Fatalf("delivery: %v", d.err)
		}
	}
	if st := e.state(t).Stats; st.WebhooksFailed != 1 || st.WebhooksSent != 0 {
		t.Fatalf("stats: %+v", st)
	}
}

func TestWebhookFaults(t *testing.T) {
	t.Parallel()
	t.Run("drop", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.setFaults(t, faults.Config{DropWebhooks: true})
		e.incoming(t, "acct", 10, 0)
		e.sb.Flush()
		if n := len(e.hooks.deliveries()); n != 0 {
			t.Fatalf("%d deliveries of a dropped webhook", n)
		}
		if st := e.state(t).Stats; st.WebhooksDropped != 1 {
			t.Fatalf("stats: %+v", st)
		}
	})
	t.Run("duplicate", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.setFaults(t, faults.Config{DuplicateWebhooks: true})
		id := e.incoming(t, "acct", 10, 0)
		e.sb.Flush()
		got := e.hooks.deliveries()
		if len(got) != 3 {
			t.Fatalf("%d deliveries, want 3", len(got))
		}
		for _, d := range got {
			if d.err != nil || d.event.ID != got[0].event.ID || d.event.Data.ID != id || !bytes.Equal(d.body, got[0].body) {
				t.Fatalf("duplicate differs: %+v", d)
			}
		}
	})
	t.Run("reorder", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.setFaults(t, faults.Config{ReorderWebhooks: true})
		first := e.incoming(t, "acct", 10, 0)
		second := e.incoming(t, "acct", 20, 0)
		e.sb.Flush()
		got := e.hooks.deliveries()
		if len(got) != 2 || got[0].event.Data.ID != second || got[1].event.Data.ID != first {
			t.Fatalf("want %s then %s, got %d deliveries", second, first, len(got))
		}
	})
}
