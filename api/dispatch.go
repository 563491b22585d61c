package api

import (
	"context"
	"sync"
	"time"
)

// Background webhook delivery. A webhook is acknowledged once it is recorded
// in the inbox; the signal to its workflow follows here, off the request, so
// the provider's answer does not wait on Temporal. The inbox row is the
// guarantee: an event whose delivery is refused, fails or is cut off stays
// pending and the relay (inbox.Deliverer.Relay) delivers it.
//
// The relay may deliver an event a background delivery is still on (it takes
// pending events older than a few seconds). That second signal is harmless:
// rehive-tx and ledger-deposit drop an event id they have applied, a checkout
// keeps the final outcome of each Rehive transaction by id, and a repeated
// Checkout.com event finds its payment's state already changed and changes
// nothing (the timeline counts the repeat) — as an operator's replay does.
const (
	// maxDeliveries bounds the deliveries in flight per API process. Each is
	// a goroutine waiting on one Temporal call, so 64 carry ~400 signals/s
	// at a saturated server's ~150 ms signal p99; when Temporal stalls, the
	// events past them wait for the relay instead of piling up goroutines.
	maxDeliveries = 64
	// deliverTimeout bounds one delivery's signal, as the relay bounds its own.
	deliverTimeout = 2 * time.Second
	// deliveriesGrace is how long shutdown waits for deliveries in flight
	// (a signal's deliverTimeout and its inbox mark) before cutting them off.
	deliveriesGrace = 5 * time.Second
)

// deliveries runs background deliveries, at most a fixed number at a time.
type deliveries struct {
	slots  chan struct{}
	ctx    context.Context // cancelled when shutdown's grace runs out
	cancel context.CancelFunc

	mu     sync.Mutex // orders try's wg.Add before close's wg.Wait
	closed bool
	wg     sync.WaitGroup
}

func newDeliveries(n int) *deliveries {
	ctx, cancel := context.WithCancel(context.Background())
	return &deliveries{slots: make(chan struct{}, n), ctx: ctx, cancel: cancel}
}

// try runs fn in the background and reports true; it reports false at once,
// running nothing, when every slot is taken or shutdown has begun.
func (d *deliveries) try(fn func(ctx context.Context)) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return false
	}
	select {
	case d.slots <- struct{}{}:
	default:
		return false
	}
	d.wg.Add(1)
	go func() {
		defer func() { <-d.slots; d.wg.Done() }()
		fn(d.ctx)
	}()
	return true
}

// close refuses new deliveries and waits up to grace for those in flight,
// then cancels what is left. It reports whether all had finished.
func (d *deliveries) close(grace time.Duration) bool {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		d.cancel()
		return false
	}
}
