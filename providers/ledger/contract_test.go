package ledger_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/payflow/payflow/providers/httpx"
	"github.com/payflow/payflow/providers/ledger"
	sandbox "github.com/payflow/payflow/sandbox/ledger"
)

func withdrawal(id, destination string) ledger.CreateRequest {
	return ledger.CreateRequest{
		ID: id, Type: ledger.Withdrawal, Account: "omnibus", Amount: 1250, Currency: "USD",
		Status: ledger.StatusComplete, Destination: destination, Metadata: map[string]string{"rehive_tx": id},
	}
}

func mustClass(t *testing.T, err error, want httpx.Class) *httpx.Error {
	t.Helper()
	var pe *httpx.Error
	if !errors.As(err, &pe) || pe.Class != want {
		t.Fatalf("error %v: want class %s", err, want)
	}
	return pe
}

func TestWithdrawalConfirmsWithSignedWebhooks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *sandbox.Config) { c.WithdrawalConfirmations = 2 })
	ctx := context.Background()

	tx, err := e.client.CreateTransaction(ctx, withdrawal("wd-1", "addr-1"))
	if err != nil {
		t.Fatal(err)
	}
	if tx.Status != ledger.StatusPending || tx.Confirmations != 0 || tx.RequiredConfirmations != 2 ||
		tx.Amount != 1250 || tx.Metadata["rehive_tx"] != "wd-1" || tx.Created.IsZero() {
		t.Fatalf("created: %+v", tx)
	}

	// Deliveries are concurrent, so wait for both rather than for the last.
	evs := e.hooks.waitFor(t, "wd-1", "both confirmations", func(evs []*ledger.WebhookEvent) bool {
		return len(evs) >= 2 && reaches(ledger.StatusComplete)(evs)
	})
	seen := map[string]bool{}
	confirmations := map[int]ledger.Status{}
	for _, ev := range evs {
		if ev.Type != ledger.EventTransactionUpdated || seen[ev.ID] || ev.Created.IsZero() {
			t.Fatalf("event %+v (duplicate id: %v)", ev, seen[ev.ID])
		}
		seen[ev.ID] = true
		confirmations[ev.Data.Confirmations] = ev.Data.Status
	}
	if len(evs) != 2 || confirmations[1] != ledger.StatusPending || confirmations[2] != ledger.StatusComplete {
		t.Fatalf("want confirmation 1 pending and 2 complete, got %v", confirmations)
	}
	for _, d := range e.hooks.deliveries() {
		if d.err != nil {
			t.Fatalf("delivery failed verification: %v", d.err)
		}
	}

	got, err := e.client.GetTransaction(ctx, "wd-1")
	if err != nil || got.Status != ledger.StatusComplete || got.Confirmations != 2 {
		t.Fatalf("get: %+v %v", got, err)
	}
	acct, err := e.client.GetAccount(ctx, "omnibus")
	if err != nil || acct.Balances["USD"] != -1250 {
		t.Fatalf("account: %+v %v", acct, err)
	}
	// Completing a complete transaction is a no-op.
	again, err := e.client.CompleteTransaction(ctx, "wd-1")
	if err != nil || again.Status != ledger.StatusComplete || !again.Updated.Equal(got.Updated) {
		t.Fatalf("complete again: %+v %v", again, err)
	}
}

func TestCreateIsIdempotentByID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	req := withdrawal("wd-same", "stall-addr") // stalled, so both answers are pending
	first, err := e.client.CreateTransaction(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.client.CreateTransaction(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if first.ID != second.ID || !first.Created.Equal(second.Created) {
		t.Fatalf("second create made a new transaction: %+v vs %+v", first, second)
	}
	if n := len(e.state(t).Transactions); n != 1 {
		t.Fatalf("sandbox holds %d transactions, want 1", n)
	}
	// Reusing the id for a different transaction is a bug the ledger refuses.
	for name, edit := range map[string]func(r *ledger.CreateRequest){
		"amount":      func(r *ledger.CreateRequest) { r.Amount++ },
		"destination": func(r *ledger.CreateRequest) { r.Destination = "GOTHER" },
		"account":     func(r *ledger.CreateRequest) { r.Account = "acct-other" },
	} {
		other := req
		edit(&other)
		_, err = e.client.CreateTransaction(ctx, other)
		if pe := mustClass(t, err, httpx.Conflict); pe.Status != http.StatusConflict || pe.Codes[0] != "id_conflict" || pe.Message == "" {
			t.Errorf("%s: %+v", name, pe)
		}
	}
}

func TestRejectedWithdrawalFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for _, req := range []ledger.CreateRequest{
		withdrawal("wd-reject-dest", "reject-addr"),
		{ID: "wd-reject-acct", Type: ledger.Withdrawal, Account: "reject-acct", Amount: 5, Currency: "XLM"},
	} {
		if _, err := e.client.CreateTransaction(ctx, req); err != nil {
			t.Fatal(err)
		}
		evs := e.hooks.waitFor(t, req.ID, "failed", reaches(ledger.StatusFailed))
		if len(evs) != 1 || evs[0].Data.FailureReason == "" || evs[0].Data.Confirmations != 0 {
			t.Fatalf("events: %+v", evs)
		}
		_, err := e.client.CompleteTransaction(ctx, req.ID)
		mustClass(t, err, httpx.Conflict)
		_, err = e.client.CancelTransaction(ctx, req.ID)
		mustClass(t, err, httpx.Conflict)
	}
}

func TestStalledWithdrawalCanBeCancelled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.client.CreateTransaction(ctx, withdrawal("wd-stall", "stall-addr")); err != nil {
		t.Fatal(err)
	}
	// A negative check needs some waiting: ten confirmation intervals.
	time.Sleep(10 * 20 * time.Millisecond)
	tx, err := e.client.GetTransaction(ctx, "wd-stall")
	if err != nil || tx.Status != ledger.StatusPending || tx.Confirmations != 0 || len(e.hooks.eventsFor("wd-stall")) != 0 {
		t.Fatalf("stalled withdrawal moved: %+v %v", tx, err)
	}

	cancelled, err := e.client.CancelTransaction(ctx, "wd-stall")
	if err != nil || cancelled.Status != ledger.StatusCancelled {
		t.Fatalf("cancel: %+v %v", cancelled, err)
	}
	e.hooks.waitFor(t, "wd-stall", "cancelled", reaches(ledger.StatusCancelled))
	again, err := e.client.CancelTransaction(ctx, "wd-stall")
	if err != nil || again.Status != ledger.StatusCancelled || !again.Updated.Equal(cancelled.Updated) {
		t.Fatalf("cancel again: %+v %v", again, err)
	}
	_, err = e.client.CompleteTransaction(ctx, "wd-stall")
	mustClass(t, err, httpx.Conflict)
	e.sb.Flush()
	if n := len(e.hooks.eventsFor("wd-stall")); n != 1 {
		t.Fatalf("%d webhooks, want 1 (idempotent cancel sends none)", n)
	}
}

func TestPendingCreateWaitsForComplete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()

	req := withdrawal("wd-held", "addr-2")
	req.Status = ledger.StatusPending
	if _, err := e.client.CreateTransaction(ctx, req); err != nil {
		t.Fatal(err)
	}
	dep := ledger.CreateRequest{ID: "dep-held", Type: ledger.Deposit, Account: "user-acct", Amount: 700, Currency: "USD", Status: ledger.StatusPending}
	if _, err := e.client.CreateTransaction(ctx, dep); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * 20 * time.Millisecond) // held: no confirmation may happen
	if tx, err := e.client.GetTransaction(ctx, "wd-held"); err != nil || tx.Status != ledger.StatusPending || tx.Confirmations != 0 {
		t.Fatalf("held withdrawal moved: %+v %v", tx, err)
	}

	tx, err := e.client.CompleteTransaction(ctx, "wd-held")
	if err != nil || tx.Status != ledger.StatusPending {
		t.Fatalf("complete withdrawal: %+v %v (confirmations are still to come)", tx, err)
	}
	if _, err := e.client.CompleteTransaction(ctx, "wd-held"); err != nil { // released already: no-op
		t.Fatal(err)
	}
	e.hooks.waitFor(t, "wd-held", "complete", reaches(ledger.StatusComplete))

	tx, err = e.client.CompleteTransaction(ctx, "dep-held")
	if err != nil || tx.Status != ledger.StatusComplete {
		t.Fatalf("complete deposit: %+v %v", tx, err)
	}
	e.hooks.waitFor(t, "dep-held", "complete", reaches(ledger.StatusComplete))
	if acct, err := e.client.GetAccount(ctx, "user-acct"); err != nil || acct.Balances["USD"] != 700 {
		t.Fatalf("account: %+v %v", acct, err)
	}
	e.sb.Flush()
	if n := len(e.hooks.eventsFor("wd-held")); n != 1 {
		t.Fatalf("withdrawal sent %d webhooks, want 1", n)
	}
}

func TestIncomingDepositConfirms(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	id := e.incoming(t, "ext-acct", 4200, 3)
	evs := e.hooks.waitFor(t, id, "incoming", func(evs []*ledger.WebhookEvent) bool { return len(evs) == 1 })
	if ev := evs[0]; ev.Type != ledger.EventTransactionIncoming || ev.Data.Type != ledger.Deposit ||
		ev.Data.Status != ledger.StatusPending || ev.Data.RequiredConfirmations != 3 || ev.Data.Amount != 4200 {
		t.Fatalf("incoming event: %+v", ev)
	}
	for i := 1; i <= 3; i++ {
		var tx ledger.Transaction
		if st := e.control(t, http.MethodPost, "/confirm/"+id, map[string]int{"count": 1}, &tx); st != http.StatusOK || tx.Confirmations != i {
			t.Fatalf("confirm %d: %d %+v", i, st, tx)
		}
		evs = e.hooks.waitFor(t, id, "confirmation", func(evs []*ledger.WebhookEvent) bool { return len(evs) == i+1 })
	}
	for _, ev := range evs[1:] {
		want := ledger.StatusPending
		if ev.Data.Confirmations == 3 {
			want = ledger.StatusComplete
		}
		if ev.Type != ledger.EventTransactionUpdated || ev.Data.Status != want {
			t.Fatalf("update event: %+v", ev)
		}
	}
	var viaControl ledger.Transaction
	if st := e.control(t, http.MethodGet, "/transactions/"+id, nil, &viaControl); st != http.StatusOK || viaControl.Status != ledger.StatusComplete {
		t.Fatalf("control get: %d %+v", st, viaControl)
	}
	if acct, err := e.client.GetAccount(ctx, "ext-acct"); err != nil || acct.Balances["USD"] != 4200 {
		t.Fatalf("account: %+v %v", acct, err)
	}

	// No confirmations needed: complete on arrival.
	now := e.incoming(t, "ext-acct", 100, 0)
	evs = e.hooks.waitFor(t, now, "incoming", func(evs []*ledger.WebhookEvent) bool { return len(evs) == 1 })
	if evs[0].Type != ledger.EventTransactionIncoming || evs[0].Data.Status != ledger.StatusComplete {
		t.Fatalf("instant incoming: %+v", evs[0])
	}
	if counts := e.state(t).Counts; counts["complete"] != 2 {
		t.Fatalf("state counts: %v", counts)
	}
}
