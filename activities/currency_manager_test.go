package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/payflow/payflow/providers/ledger"
	"github.com/payflow/payflow/providers/rehive"
	sbledger "github.com/payflow/payflow/sandbox/ledger"
	sbrehive "github.com/payflow/payflow/sandbox/rehive"
	"github.com/payflow/payflow/store"
	"github.com/payflow/payflow/store/storetest"
	"github.com/payflow/payflow/workflows"
)

// The currency manager's activities against the Rehive and ledger sandboxes:
// the contracts the workflows rely on (workflows/currency_types.go,
// rehive_transaction_types.go, deposit_types.go).

const cmHotWallet = "hot-wallet"

type cmRig struct {
	t   *testing.T
	a   *CurrencyManager
	url string
}

// newCMRig serves both sandboxes (no webhooks) and an activity struct wired
// to them; withStore adds a store on a throwaway schema (skipped without
// PostgreSQL).
func newCMRig(t *testing.T, withStore bool) *cmRig {
	t.Helper()
	rs := sbrehive.New(sbrehive.Config{AdminToken: "admin-token", ManagedCurrencies: []string{"XLM"}})
	ls := sbledger.New(sbledger.Config{APIKey: "ledger-key", ConfirmDelay: 10 * time.Millisecond})
	mux := http.NewServeMux()
	mux.Handle("/sandbox/rehive/", rs.Handler())
	mux.Handle("/sandbox/ledger/", ls.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		rs.Close()
		ls.Close()
	})
	a := &CurrencyManager{
		Rehive:            rehive.New(rehive.Config{BaseURL: srv.URL + "/sandbox/rehive/3", AdminToken: "admin-token"}),
		Ledger:            ledger.New(ledger.Config{BaseURL: srv.URL + "/sandbox/ledger", APIKey: "ledger-key"}),
		Managed:           func(code string) bool { return code == "XLM" },
		WithdrawalAccount: cmHotWallet,
	}
	if withStore {
		a.Store = cmTestStore(t)
	}
	return &cmRig{t: t, a: a, url: srv.URL}
}

// control calls a sandbox control endpoint and decodes its answer.
func (r *cmRig) control(method, path string, body, out any) {
	r.t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		r.t.Fatal(err)
	}
	req, err := http.NewRequest(method, r.url+path, bytes.NewReader(raw))
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		r.t.Fatalf("%s %s: %d", method, path, resp.StatusCode)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			r.t.Fatal(err)
		}
	}
}

type cmUser struct {
	Email   string `json:"email"`
	Account string `json:"account"`
}

func (r *cmRig) user() cmUser {
	var u cmUser
	r.control(http.MethodPost, "/sandbox/rehive/_control/users", map[string]any{
		"email": fmt.Sprintf("u%d@example.com", time.Now().UnixNano()), "password": "pw", "balances": map[string]int64{"XLM": 1_000_000_000, "USD": 100_000},
	}, &u)
	return u
}

type cmSandboxTx struct {
	ID          string `json:"id"`
	Collection  string `json:"collection"`
	Status      string `json:"status"`
	Transitions []struct {
		ID string `json:"id"`
	} `json:"transitions"`
}

// userTx creates a transaction as a user would; in XLM it waits for a
// transition.
func (r *cmRig) userTx(u cmUser, txType, currency string, meta map[string]any) cmSandboxTx {
	var tx cmSandboxTx
	r.control(http.MethodPost, "/sandbox/rehive/_control/transactions", map[string]any{
		"user": u.Email, "tx_type": txType, "currency": currency, "amount": 5_000, "metadata": meta,
	}, &tx)
	r.control(http.MethodGet, "/sandbox/rehive/_control/transactions/"+tx.ID, nil, &tx)
	return tx
}

func errType(err error) workflows.ErrType {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return workflows.ErrType(ae.Type())
	}
	return ""
}

func TestDepositIDsAreDerived(t *testing.T) {
	// Reference values: Python's uuid.uuid5(uuid.NAMESPACE_URL, name). They
	// name credits already made: they must never change.
	if got := depositTxID("ltx_1"); got != "0559b2e6-492f-5213-9521-1784f3628308" {
		t.Fatalf("deposit tx id %s", got)
	}
	if got := depositCollectionID("ltx_1"); got != "4ddfd3b4-b37a-57b2-ae11-42cfd163afa3" {
		t.Fatalf("deposit collection id %s", got)
	}
	if depositTxID("ltx_1") == depositTxID("ltx_2") {
		t.Fatal("ids of different deposits collide")
	}
}

func TestIsOwnDeposit(t *testing.T) {
	own := &rehive.Transaction{ID: rehive.ID(depositTxID("ltx_1")), TxType: rehive.Credit, Metadata: map[string]any{workflows.DepositMetadataKey: "ltx_1"}}
	cases := map[string]struct {
		tx   *rehive.Transaction
		want bool
	}{
		"ours":                {own, true},
		"forged marker":       {&rehive.Transaction{ID: "0b6f1d2e-5c1a-4e7b-9d43-0a1b2c3d4e5f", TxType: rehive.Credit, Metadata: own.Metadata}, false},
		"other ledger tx":     {&rehive.Transaction{ID: own.ID, TxType: rehive.Credit, Metadata: map[string]any{workflows.DepositMetadataKey: "ltx_2"}}, false},
		"a debit":             {&rehive.Transaction{ID: own.ID, TxType: rehive.Debit, Metadata: own.Metadata}, false},
		"no marker":           {&rehive.Transaction{ID: own.ID, TxType: rehive.Credit}, false},
		"marker not a string": {&rehive.Transaction{ID: own.ID, TxType: rehive.Credit, Metadata: map[string]any{workflows.DepositMetadataKey: 1.0}}, false},
	}
	for name, c := range cases {
		if got := isOwnDeposit(c.tx); got != c.want {
			t.Errorf("%s: got %v", name, got)
		}
	}
}

func TestCreateRehiveCreditIsIdempotent(t *testing.T) {
	r := newCMRig(t, false)
	ctx := context.Background()
	u := r.user()
	in := workflows.RehiveCreditInput{LedgerTxID: "ltx_abc", Account: u.Account, Amount: 7_000, Currency: "XLM", Status: workflows.RehiveTxPending, Reference: "ltx_abc"}
	first, err := r.a.CreateRehiveCredit(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if first.TxID != depositTxID("ltx_abc") || first.CollectionID != depositCollectionID("ltx_abc") || first.Status != workflows.RehiveTxPending {
		t.Fatalf("first: %+v", first)
	}
	again, err := r.a.CreateRehiveCredit(ctx, in)
	if err != nil || again != first {
		t.Fatalf("repeat: %+v %v", again, err)
	}
	// A repeat that asks for another status (a reset workflow) finds the credit.
	in.Status = workflows.RehiveTxComplete
	other, err := r.a.CreateRehiveCredit(ctx, in)
	if err != nil || other != first {
		t.Fatalf("repeat with another status: %+v %v", other, err)
	}
	col, err := r.a.Rehive.GetCollection(ctx, first.CollectionID)
	if err != nil || len(col.Transactions) != 1 {
		t.Fatalf("want one credit: %+v %v", col, err)
	}
	tx := col.Transactions[0]
	if !isOwnDeposit(&tx) || tx.Reference != "ltx_abc" || tx.Account != u.Account || tx.AbsAmount() != 7_000 {
		t.Fatalf("credit: %+v", tx)
	}

	in = workflows.RehiveCreditInput{LedgerTxID: "ltx_nobody", Account: "NO-SUCH-ACCOUNT", Amount: 1, Currency: "XLM", Status: workflows.RehiveTxPending}
	if _, err := r.a.CreateRehiveCredit(ctx, in); errType(err) != workflows.ErrTypeRehiveRejected {
		t.Fatalf("unknown account: want %s, got %v", workflows.ErrTypeRehiveRejected, err)
	}
}

func TestTransitionVerdictOnResolvedTransition(t *testing.T) {
	r := newCMRig(t, false)
	ctx := context.Background()
	tx := r.userTx(r.user(), "debit", "XLM", nil)
	in := workflows.TransitionInput{TxID: tx.ID, TransitionID: tx.Transitions[0].ID}
	res, err := r.a.ApproveTransition(ctx, in)
	if err != nil || res.Status != workflows.TransitionApproved {
		t.Fatalf("approve: %+v %v", res, err)
	}
	// Once approved, a decline is answered with the verdict that stands.
	res, err = r.a.DeclineTransition(ctx, in)
	if err != nil || res.Status != workflows.TransitionApproved {
		t.Fatalf("decline after approve: %+v %v", res, err)
	}
	res, err = r.a.ApproveTransition(ctx, in)
	if err != nil || res.Status != workflows.TransitionApproved {
		t.Fatalf("approve again: %+v %v", res, err)
	}
	if _, err := r.a.ApproveTransition(ctx, workflows.TransitionInput{TxID: tx.ID, TransitionID: "no-such-transition"}); errType(err) != workflows.ErrTypeNotFound {
		t.Fatalf("unknown transition: %v", err)
	}
}

func TestSetRehiveTxStatus(t *testing.T) {
	r := newCMRig(t, false)
	ctx := context.Background()
	u := r.user()
	credit, err := r.a.CreateRehiveCredit(ctx, workflows.RehiveCreditInput{LedgerTxID: "ltx_s", Account: u.Account, Amount: 10, Currency: "XLM", Status: workflows.RehiveTxPending})
	if err != nil {
		t.Fatal(err)
	}
	set := func(status workflows.RehiveStatus, note string) error {
		return r.a.SetRehiveTxStatus(ctx, workflows.RehiveStatusInput{TxID: credit.TxID, Status: status, Note: note})
	}
	if err := set(workflows.RehiveTxComplete, "confirmed"); err != nil {
		t.Fatal(err)
	}
	// Already there, even with another note: success.
	if err := set(workflows.RehiveTxComplete, "confirmed at the stall check"); err != nil {
		t.Fatalf("repeat: %v", err)
	}
	if err := set(workflows.RehiveTxFailed, "stalled"); errType(err) != workflows.ErrTypeRehiveRejected {
		t.Fatalf("fail a complete transaction: want %s, got %v", workflows.ErrTypeRehiveRejected, err)
	}
	if err := r.a.SetRehiveTxStatus(ctx, workflows.RehiveStatusInput{TxID: "5f0e8d1a-7c2b-5d3e-9f4a-1b2c3d4e5f60", Status: workflows.RehiveTxFailed}); errType(err) != workflows.ErrTypeNotFound {
		t.Fatalf("unknown transaction: %v", err)
	}
}

func TestLedgerCompleteAndCancelReturnWhereTheTransactionIs(t *testing.T) {
	r := newCMRig(t, false)
	ctx := context.Background()
	create := func(id string, status ledger.Status) {
		if _, err := r.a.Ledger.CreateTransaction(ctx, ledger.CreateRequest{ID: id, Type: ledger.Withdrawal, Account: cmHotWallet, Amount: 10, Currency: "XLM", Status: status, Destination: "GDEST"}); err != nil {
			t.Fatal(err)
		}
	}
	create("rehive-held", ledger.StatusPending)
	res, err := r.a.CancelLedgerTx(ctx, workflows.LedgerTxRequest{LedgerTxID: "rehive-held"})
	if err != nil || res.Status != workflows.LedgerCancelled {
		t.Fatalf("cancel: %+v %v", res, err)
	}
	res, err = r.a.CompleteLedgerTx(ctx, workflows.LedgerTxRequest{LedgerTxID: "rehive-held"})
	if err != nil || res.Status != workflows.LedgerCancelled {
		t.Fatalf("complete a cancelled transaction: %+v %v", res, err)
	}

	create("rehive-paid", ledger.StatusComplete)
	deadline := time.Now().Add(5 * time.Second)
	for res.Status != workflows.LedgerComplete && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		if res, err = r.a.GetLedgerTx(ctx, workflows.LedgerTxRequest{LedgerTxID: "rehive-paid"}); err != nil {
			t.Fatal(err)
		}
	}
	res, err = r.a.CancelLedgerTx(ctx, workflows.LedgerTxRequest{LedgerTxID: "rehive-paid"})
	if err != nil || res.Status != workflows.LedgerComplete {
		t.Fatalf("cancel a complete transaction: %+v %v", res, err)
	}
	if _, err := r.a.GetLedgerTx(ctx, workflows.LedgerTxRequest{LedgerTxID: "rehive-none"}); errType(err) != workflows.ErrTypeNotFound {
		t.Fatalf("unknown ledger transaction: %v", err)
	}
}

func TestCreateLedgerTx(t *testing.T) {
	r := newCMRig(t, true)
	ctx := context.Background()
	in := workflows.CreateLedgerTxInput{
		LedgerTxID: workflows.LedgerTxIDFor("tx-1"), RehiveTxID: "tx-1", Kind: workflows.LedgerKindWithdrawal, RehiveAccount: "ACC1",
		Amount: 5_000, Currency: "XLM", Destination: "GDEST", Status: workflows.LedgerComplete,
	}
	res, err := r.a.CreateLedgerTx(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if res.ID != in.LedgerTxID || res.Type != "withdrawal" || res.Account != cmHotWallet || res.Amount != 5_000 {
		t.Fatalf("created: %+v", res)
	}
	again, err := r.a.CreateLedgerTx(ctx, in)
	if err != nil || again.ID != res.ID {
		t.Fatalf("repeat: %+v %v", again, err)
	}
	tx, err := r.a.Ledger.GetTransaction(ctx, in.LedgerTxID)
	if err != nil || tx.Destination != "GDEST" || tx.Metadata["rehive_tx_id"] != "tx-1" {
		t.Fatalf("on the ledger: %+v %v", tx, err)
	}
	link, err := r.a.Store.GetLedgerLink(ctx, "tx-1")
	if err != nil || link.LedgerTxID != in.LedgerTxID || link.Kind != workflows.LedgerKindWithdrawal {
		t.Fatalf("link: %+v %v", link, err)
	}

	bad := in
	bad.LedgerTxID, bad.RehiveTxID, bad.Amount = workflows.LedgerTxIDFor("tx-2"), "tx-2", -1
	_, err = r.a.CreateLedgerTx(ctx, bad)
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || ae.Type() != string(workflows.ErrTypeLedgerRejected) || !ae.NonRetryable() || ae.Message() == "" {
		t.Fatalf("rejected: %v", err)
	}
	if _, err := r.a.Store.GetLedgerLink(ctx, "tx-2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a rejected withdrawal is not linked: %v", err)
	}
}

func TestLookupRehiveTx(t *testing.T) {
	r := newCMRig(t, true)
	ctx := context.Background()
	u := r.user()
	tx := r.userTx(u, "debit", "XLM", map[string]any{workflows.MetaDestination: "GDEST"})
	info, err := r.a.LookupRehiveTx(ctx, workflows.LookupRehiveTxInput{TxID: tx.ID, TransitionID: tx.Transitions[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	if !info.Managed || info.TxType != "debit" || info.Amount != 5_000 || info.Currency != "XLM" || info.Account != u.Account ||
		info.Status != workflows.RehiveTxPending || info.CollectionID != tx.Collection || info.Transfer || info.OwnDeposit ||
		info.Metadata[workflows.MetaDestination] != "GDEST" || info.LedgerTxID != "" {
		t.Fatalf("info: %+v", info)
	}
	if tr := info.Transition; tr == nil || tr.ID != tx.Transitions[0].ID || tr.Status != workflows.TransitionPending ||
		tr.FromStatus != workflows.RehiveTxPending || tr.ToStatus != workflows.RehiveTxComplete {
		t.Fatalf("transition: %+v", info.Transition)
	}
	row, err := r.a.Store.GetRehiveTx(ctx, tx.ID)
	if err != nil || row.CollectionID != tx.Collection || row.RehiveStatus != workflows.RehiveTxPending || len(row.Raw) < 10 {
		t.Fatalf("stored transaction: %+v %v", row, err)
	}
	if col, err := r.a.Store.GetRehiveCollection(ctx, tx.Collection); err != nil || col.Status != string(workflows.RehiveTxPending) {
		t.Fatalf("stored collection: %+v %v", col, err)
	}

	if _, err := r.a.Store.PutLedgerLink(ctx, store.LedgerLink{RehiveTxID: tx.ID, LedgerTxID: workflows.LedgerTxIDFor(tx.ID), Kind: workflows.LedgerKindPending}); err != nil {
		t.Fatal(err)
	}
	if info, err = r.a.LookupRehiveTx(ctx, workflows.LookupRehiveTxInput{TxID: tx.ID}); err != nil || info.LedgerTxID != workflows.LedgerTxIDFor(tx.ID) || info.Transition != nil {
		t.Fatalf("with a ledger link: %+v %v", info, err)
	}

	other := r.userTx(u, "debit", "XLM", nil)
	if _, err := r.a.LookupRehiveTx(ctx, workflows.LookupRehiveTxInput{TxID: tx.ID, TransitionID: other.Transitions[0].ID}); errType(err) != workflows.ErrTypeNotFound {
		t.Fatalf("another transaction's transition: %v", err)
	}
	if _, err := r.a.LookupRehiveTx(ctx, workflows.LookupRehiveTxInput{TxID: "5f0e8d1a-7c2b-5d3e-9f4a-1b2c3d4e5f60"}); errType(err) != workflows.ErrTypeNotFound {
		t.Fatalf("unknown transaction: %v", err)
	}

	usd := r.userTx(u, "debit", "USD", nil)
	if info, err = r.a.LookupRehiveTx(ctx, workflows.LookupRehiveTxInput{TxID: usd.ID}); err != nil || info.Managed {
		t.Fatalf("unmanaged: %+v %v", info, err)
	}
	if _, err := r.a.Store.GetRehiveTx(ctx, usd.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an unmanaged transaction is not stored: %v", err)
	}
}

func TestLookupAccountLinkAndReadModels(t *testing.T) {
	r := newCMRig(t, true)
	ctx := context.Background()
	if res, err := r.a.LookupAccountLink(ctx, workflows.AccountLinkQuery{LedgerAccount: "lacct", Currency: "XLM"}); err != nil || res.Found {
		t.Fatalf("no link: %+v %v", res, err)
	}
	if _, err := r.a.Store.PutAccountLink(ctx, store.AccountLink{RehiveAccount: "ACC1", LedgerAccount: "lacct", Currency: "XLM"}); err != nil {
		t.Fatal(err)
	}
	res, err := r.a.LookupAccountLink(ctx, workflows.AccountLinkQuery{LedgerAccount: "lacct", Currency: "XLM"})
	if err != nil || res != (workflows.AccountLinkResult{Found: true, RehiveAccount: "ACC1", LedgerAccount: "lacct", Currency: "XLM"}) {
		t.Fatalf("link: %+v %v", res, err)
	}

	st := workflows.RehiveTxState{TxID: "tx-9", Flow: workflows.FlowWithdrawal, Status: workflows.TxStatusComplete, LedgerTxID: "rehive-tx-9", Timeline: []workflows.TimelineEntry{}}
	if err := r.a.SaveRehiveTx(ctx, st); err != nil {
		t.Fatal(err)
	}
	if row, err := r.a.Store.GetRehiveTx(ctx, "tx-9"); err != nil || row.Flow != st.Flow || row.Status != st.Status || row.LedgerTxID != st.LedgerTxID {
		t.Fatalf("rehive read model: %+v %v", row, err)
	}
	dep := workflows.DepositState{LedgerTxID: "ltx_9", RehiveTxID: depositTxID("ltx_9"), Status: workflows.DepositPending, Amount: 5, Currency: "XLM", Timeline: []workflows.TimelineEntry{}}
	if err := r.a.SaveDeposit(ctx, dep); err != nil {
		t.Fatal(err)
	}
	if row, err := r.a.Store.GetDeposit(ctx, "ltx_9"); err != nil || row.RehiveTxID != dep.RehiveTxID || row.Status != dep.Status {
		t.Fatalf("deposit read model: %+v %v", row, err)
	}
}

// cmTestStore opens a store on a throwaway schema of the PostgreSQL at
// DATABASE_URL, migrated from scratch; the test is skipped when PostgreSQL is
// not reachable.
func cmTestStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(storetest.MigratedURL(t), 4, 2)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return st
}
