package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/payflow/payflow/store"
)

// holdSignals makes every signal of e's Temporal hang, past any deadline,
// until release (called at the latest when the test ends); held counts the
// signals waiting.
func holdSignals(t *testing.T, e *edgeApp) (held *atomic.Int64, release func()) {
	held = &atomic.Int64{}
	gate := make(chan struct{})
	release = sync.OnceFunc(func() { close(gate) })
	e.temporal.Signal = func(context.Context) error {
		held.Add(1)
		<-gate
		return nil
	}
	t.Cleanup(release) // before the app's shutdown, which waits for them
	return held, release
}

// postEvent posts a signed Checkout.com event and checks the answer is the
// acknowledgement of a new event.
func (e *edgeApp) postEvent(t *testing.T, id string) {
	t.Helper()
	r := e.do(t, checkoutcomWebhook(e.cfg, ckoEvent(id, time.Now().UTC().Format(time.RFC3339), "")))
	var ack map[string]any
	if r.Status != http.StatusOK || json.Unmarshal(r.Body, &ack) != nil ||
		fmt.Sprint(ack) != fmt.Sprintf("map[duplicate:false event_id:%s received:true]", id) {
		t.Fatalf("webhook %s: %d %s", id, r.Status, r.Body)
	}
}

// webhookCount reads payflow_webhooks_total for Checkout.com and outcome.
func (e *edgeApp) webhookCount(t *testing.T, outcome string) string {
	t.Helper()
	prefix := fmt.Sprintf(`payflow_webhooks_total{outcome=%q,provider="checkoutcom"} `, outcome)
	for _, line := range strings.Split(string(e.do(t, request(http.MethodGet, "/metrics", "", nil)).Body), "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			return v
		}
	}
	return "0"
}

func (e *edgeApp) waitStatus(t *testing.T, eventID, want string) {
	t.Helper()
	eventually(t, 5*time.Second, eventID+" "+want, func() bool { return e.inboxStatus(t, "checkoutcom", eventID) == want })
}

// A webhook is acknowledged once recorded, while the signal to its workflow
// hangs: it is pending then, and delivered (and counted) once Temporal
// answers.
func TestWebhookAckDoesNotWaitForDelivery(t *testing.T) {
	e := newEdgeApp(t, "", nil)
	held, release := holdSignals(t, e)
	e.postEvent(t, "evt_held") // answered with the signal still to come
	eventually(t, 5*time.Second, "the delivery under way", func() bool { return held.Load() == 1 })
	if st := e.inboxStatus(t, "checkoutcom", "evt_held"); st != store.InboxPending {
		t.Fatalf("status %q while the signal hangs, want pending", st)
	}
	if n := e.webhookCount(t, "delivered"); n != "0" {
		t.Fatalf("%s delivered counted before the delivery ended", n)
	}
	release()
	e.waitStatus(t, "evt_held", store.InboxDelivered)
	eventually(t, 5*time.Second, "the delivery counted", func() bool { return e.webhookCount(t, "delivered") == "1" })
}

// With every delivery slot taken, a webhook is still acknowledged at once and
// left pending, untried, for the relay, which delivers it.
func TestWebhookLeftToRelayWhenDeliveriesFull(t *testing.T) {
	e := newEdgeApp(t, "", nil)
	held, release := holdSignals(t, e)
	for i := range maxDeliveries {
		e.postEvent(t, fmt.Sprintf("evt_busy%d", i))
	}
	eventually(t, 10*time.Second, "every slot held", func() bool { return held.Load() == maxDeliveries })
	e.postEvent(t, "evt_overflow")
	if n := e.webhookCount(t, "queued"); n != "1" {
		t.Fatalf("queued %s, want the overflow counted at once", n)
	}
	release()
	for i := range maxDeliveries {
		e.waitStatus(t, fmt.Sprintf("evt_busy%d", i), store.InboxDelivered)
	}
	var status string
	var attempts int
	if err := e.store.DB().QueryRow(`SELECT status, attempts FROM webhook_inbox WHERE event_id = 'evt_overflow'`).Scan(&status, &attempts); err != nil {
		t.Fatal(err)
	}
	if status != store.InboxPending || attempts != 0 || held.Load() != maxDeliveries {
		t.Fatalf("overflow %s after %d attempts, %d signals: want pending and never tried", status, attempts, held.Load())
	}
	e.deliverer.RelayOnce(context.Background(), 0)
	e.waitStatus(t, "evt_overflow", store.InboxDelivered)
}

// The API's shutdown waits for a delivery in flight, which is then recorded.
func TestShutdownWaitsForDeliveries(t *testing.T) {
	e := newEdgeApp(t, "", nil)
	held, release := holdSignals(t, e)
	e.postEvent(t, "evt_inflight")
	eventually(t, 5*time.Second, "the delivery under way", func() bool { return held.Load() == 1 })
	done := make(chan struct{})
	go func() { _ = e.app.Shutdown(); close(done) }() // never listened: only its error differs
	select {
	case <-done:
		t.Fatal("shutdown did not wait for the delivery in flight")
	case <-time.After(200 * time.Millisecond):
	}
	release()
	select {
	case <-done:
	case <-time.After(deliveriesGrace):
		t.Fatal("shutdown still waiting after the delivery ended")
	}
	if st := e.inboxStatus(t, "checkoutcom", "evt_inflight"); st != store.InboxDelivered {
		t.Fatalf("status %q after shutdown, want delivered", st)
	}
}

// deliveries runs at most its slots at once and refuses the rest; close
// waits for what runs, cancels it when the grace runs out, and refuses more.
func TestDeliveriesBoundedAndClosed(t *testing.T) {
	d := newDeliveries(2)
	gate, ended := make(chan struct{}), make(chan error, 2)
	hold := func(ctx context.Context) {
		select {
		case <-gate:
		case <-ctx.Done():
		}
		ended <- ctx.Err()
	}
	if !d.try(hold) || !d.try(hold) {
		t.Fatal("refused with free slots")
	}
	if d.try(hold) {
		t.Fatal("ran a third with two slots")
	}
	gate <- struct{}{}
	if err := <-ended; err != nil {
		t.Fatalf("released delivery saw %v", err)
	}
	eventually(t, time.Second, "the slot freed", func() bool { return d.try(hold) })
	began := time.Now()
	if d.close(50 * time.Millisecond) {
		t.Fatal("close reported held deliveries finished")
	}
	if took := time.Since(began); took > time.Second {
		t.Fatalf("close took %s with a 50 ms grace", took)
	}
	for range 2 {
		if err := <-ended; err == nil {
			t.Fatal("a delivery past the grace was not cancelled")
		}
	}
	if d.try(hold) {
		t.Fatal("ran a delivery after close")
	}
}
