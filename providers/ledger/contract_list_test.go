package ledger_test

import (
	"context"
	"testing"
	"time"

	"github.com/payflow/payflow/providers/httpx"
	"github.com/payflow/payflow/providers/ledger"
)

// The list finds every deposit by type and time, across pages, oldest
// first: the reconciliation relies on it for deposits whose webhooks were
// lost.
func TestListTransactionsPagesByTypeAndTime(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	early := e.incoming(t, "acct-early", 100, 0)
	since := time.Now()
	time.Sleep(5 * time.Millisecond)
	var want []string
	for range 5 {
		want = append(want, e.incoming(t, "acct-list", 100, 2))
	}
	if _, err := e.client.CreateTransaction(ctx, withdrawal("wd-list", "addr-list")); err != nil {
		t.Fatal(err)
	}
	got, err := e.client.ListTransactions(ctx, ledger.ListFilter{Type: ledger.Deposit, CreatedAfter: since, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("want %d deposits, got %+v", len(want), got)
	}
	for i, tx := range got {
		if tx.ID != want[i] || tx.Type != ledger.Deposit || tx.Account != "acct-list" || tx.RequiredConfirmations != 2 {
			t.Fatalf("deposit %d: %+v, want %s", i, tx, want[i])
		}
	}
	all, err := e.client.ListTransactions(ctx, ledger.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 7 || all[0].ID != early || all[6].ID != "wd-list" {
		t.Fatalf("unfiltered list: %+v", all)
	}
	complete, err := e.client.ListTransactions(ctx, ledger.ListFilter{Type: ledger.Deposit, Status: ledger.StatusComplete})
	if err != nil {
		t.Fatal(err)
	}
	if len(complete) != 1 || complete[0].ID != early {
		t.Fatalf("complete deposits: %+v", complete)
	}
	if _, err := e.client.ListTransactions(ctx, ledger.ListFilter{Type: "transfer"}); httpx.ClassOf(err) != httpx.Invalid {
		t.Fatalf("an unknown type: want Invalid, got %v", err)
	}
}
