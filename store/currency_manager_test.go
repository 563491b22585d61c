package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/payflow/payflow/store/storetest"
)

// cmTestStore opens a store on a throwaway schema of the PostgreSQL at
// DATABASE_URL (default: the dev database), migrated from scratch. The test
// is skipped when PostgreSQL is not reachable.
func cmTestStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(storetest.MigratedURL(t), 4, 2)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s
}

func TestRehiveTxLookupAndReadModel(t *testing.T) {
	s := cmTestStore(t)
	ctx := context.Background()
	_, err := s.GetRehiveTx(ctx, "tx-1")
	cmWantErr(t, err, ErrNotFound)

	cmMust(t, s.SaveRehiveLookup(ctx,
		RehiveTx{ID: "tx-1", CollectionID: "col-1", TxType: "debit", Currency: "XLM", Amount: 500, Account: "ACC", RehiveStatus: "Pending", Raw: json.RawMessage(`{"id":"tx-1"}`)},
		RehiveCollection{ID: "col-1", Status: "Pending", Raw: json.RawMessage(`{"id":"col-1"}`)}))
	cmMust(t, s.SaveRehiveTxState(ctx, RehiveTx{ID: "tx-1", Flow: "withdrawal", Status: "awaiting_ledger", LedgerTxID: "rehive-tx-1", State: json.RawMessage(`{"tx_id":"tx-1"}`)}))
	// A later save that knows less keeps what is known.
	cmMust(t, s.SaveRehiveTxState(ctx, RehiveTx{ID: "tx-1", Status: "complete", RehiveStatus: "Complete", State: json.RawMessage(`{"tx_id":"tx-1","status":"complete"}`)}))

	got, err := s.GetRehiveTx(ctx, "tx-1")
	cmMust(t, err)
	if got.Flow != "withdrawal" || got.LedgerTxID != "rehive-tx-1" || got.Status != "complete" || got.RehiveStatus != "Complete" ||
		got.Amount != 500 || got.Currency != "XLM" || got.CollectionID != "col-1" || string(got.Raw) != `{"id": "tx-1"}` {
		t.Fatalf("row = %+v", got)
	}
	col, err := s.GetRehiveCollection(ctx, "col-1")
	cmMust(t, err)
	if col.Status != "Pending" {
		t.Fatalf("collection = %+v", col)
	}
	// The read model may be written before any lookup.
	cmMust(t, s.SaveRehiveTxState(ctx, RehiveTx{ID: "tx-2", Flow: "ignored", Status: "ignored"}))
}

func TestLedgerLinks(t *testing.T) {
	s := cmTestStore(t)
	ctx := context.Background()
	l := LedgerLink{RehiveTxID: "tx-1", LedgerTxID: "rehive-tx-1", Kind: "pending"}
	_, err := s.PutLedgerLink(ctx, l)
	cmMust(t, err)
	got, err := s.PutLedgerLink(ctx, l) // a retried activity
	cmMust(t, err)
	if got.LedgerTxID != "rehive-tx-1" || got.Kind != "pending" {
		t.Fatalf("link = %+v", got)
	}
	_, err = s.PutLedgerLink(ctx, LedgerLink{RehiveTxID: "tx-1", LedgerTxID: "other", Kind: "pending"})
	cmWantErr(t, err, ErrConflict)
	_, err = s.PutLedgerLink(ctx, LedgerLink{RehiveTxID: "tx-2", LedgerTxID: "rehive-tx-1", Kind: "pending"})
	cmWantErr(t, err, ErrConflict)
	_, err = s.GetLedgerLink(ctx, "tx-3")
	cmWantErr(t, err, ErrNotFound)
}

func TestAccountLinks(t *testing.T) {
	s := cmTestStore(t)
	ctx := context.Background()
	_, err := s.PutAccountLink(ctx, AccountLink{RehiveAccount: "ACC-1", LedgerAccount: "L-1", Currency: "XLM"})
	cmMust(t, err)
	// Replacing a Rehive account's link is allowed.
	got, err := s.PutAccountLink(ctx, AccountLink{RehiveAccount: "ACC-1", LedgerAccount: "L-2", Currency: "XLM"})
	cmMust(t, err)
	if got.LedgerAccount != "L-2" {
		t.Fatalf("link = %+v", got)
	}
	// Linking the same ledger account and currency to another account is not.
	_, err = s.PutAccountLink(ctx, AccountLink{RehiveAccount: "ACC-2", LedgerAccount: "L-2", Currency: "XLM"})
	cmWantErr(t, err, ErrConflict)
	_, err = s.PutAccountLink(ctx, AccountLink{RehiveAccount: "ACC-2", LedgerAccount: "L-2", Currency: "BTC"})
	cmMust(t, err)

	found, err := s.FindAccountLinkByLedger(ctx, "L-2", "XLM")
	cmMust(t, err)
	if found.RehiveAccount != "ACC-1" {
		t.Fatalf("found = %+v", found)
	}
	_, err = s.FindAccountLinkByLedger(ctx, "L-1", "XLM")
	cmWantErr(t, err, ErrNotFound)
	_, err = s.GetAccountLink(ctx, "ACC-9")
	cmWantErr(t, err, ErrNotFound)
}

func TestDeposits(t *testing.T) {
	s := cmTestStore(t)
	ctx := context.Background()
	cmMust(t, s.SaveDeposit(ctx, Deposit{LedgerTxID: "ltx-1", Status: "unlinked", FailureReason: "unlinked_account"}))
	cmMust(t, s.SaveDeposit(ctx, Deposit{LedgerTxID: "ltx-1", RehiveTxID: "r-1", Account: "ACC", Amount: 7, Currency: "XLM", Status: "pending", State: json.RawMessage(`{"status":"pending"}`)}))
	d, err := s.GetDeposit(ctx, "ltx-1")
	cmMust(t, err)
	if d.Status != "pending" || d.RehiveTxID != "r-1" || d.Amount != 7 || d.FailureReason != "" {
		t.Fatalf("deposit = %+v", d)
	}
	_, err = s.GetDeposit(ctx, "ltx-2")
	cmWantErr(t, err, ErrNotFound)
}

func cmMust(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func cmWantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
}

func TestManagedCurrenciesSync(t *testing.T) {
	s := cmTestStore(t)
	ctx := context.Background()
	cmMust(t, s.SyncManagedCurrencies(ctx, []string{"XLM", "BTC"}))
	cmMust(t, s.SyncManagedCurrencies(ctx, []string{"XLM", "USDC"}))
	codes, err := s.ManagedCurrencies(ctx)
	cmMust(t, err)
	if fmt.Sprint(codes) != "[USDC XLM]" {
		t.Fatalf("managed = %v, want [USDC XLM]", codes)
	}
}
