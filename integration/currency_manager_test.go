package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/payflow/payflow/providers/ledger"
	"github.com/payflow/payflow/testenv"
	"github.com/payflow/payflow/workflows"
)

// The currency manager (PRODUCT.md flows 2 and 3) against the Rehive and
// ledger sandboxes over HTTP: every transaction is created the way a user or
// the ledger would, and reaches payflow only through signed webhooks.

const (
	xlm       = "XLM"
	xlmAmount = 25_000_000 // 2.5 XLM (divisibility 7)
	// cmWait bounds a flow that involves no timer (the stack is shared by
	// parallel tests); cmStallWait one that waits for the 15 s stall timeout.
	cmWait      = 45 * time.Second
	cmStallWait = 60 * time.Second
)

// sandboxRehiveTx is the Rehive sandbox's control view of a transaction.
type sandboxRehiveTx struct {
	ID       string         `json:"id"`
	TxType   string         `json:"tx_type"`
	Status   string         `json:"status"`
	Amount   int64          `json:"amount"`
	Metadata map[string]any `json:"metadata"`
	Messages []struct {
		Message string `json:"message"`
		Level   string `json:"level"`
		Section string `json:"section"`
	} `json:"messages"`
	Transitions []struct {
		ID         string `json:"id"`
		Status     string `json:"status"`
		FromStatus string `json:"from_status"`
		ToStatus   string `json:"to_status"`
	} `json:"transitions"`
}

// userMessages are the messages shown to the customer.
func (tx sandboxRehiveTx) userMessages() []string {
	var out []string
	for _, m := range tx.Messages {
		if m.Section == "user" {
			out = append(out, m.Message)
		}
	}
	return out
}

// transitionStatuses lists "from->to status" per transition, in order.
func (tx sandboxRehiveTx) transitionStatuses() []string {
	var out []string
	for _, tr := range tx.Transitions {
		out = append(out, tr.FromStatus+"->"+tr.ToStatus+" "+tr.Status)
	}
	return out
}

// userTx creates a transaction as the user would (POST .../_control/transactions).
func userTx(t *testing.T, body map[string]any) sandboxRehiveTx {
	t.Helper()
	r := env.SandboxCall(t, http.MethodPost, "/sandbox/rehive/_control/transactions", body)
	if r.Status != http.StatusCreated {
		t.Fatalf("create rehive transaction: %d %s", r.Status, r.Body)
	}
	var tx sandboxRehiveTx
	r.JSON(t, &tx)
	return tx
}

func getRehiveTx(t *testing.T, id string) (sandboxRehiveTx, bool) {
	t.Helper()
	r := env.SandboxCall(t, http.MethodGet, "/sandbox/rehive/_control/transactions/"+id, nil)
	if r.Status == http.StatusNotFound {
		return sandboxRehiveTx{}, false
	}
	if r.Status != http.StatusOK {
		t.Fatalf("get rehive transaction %s: %d %s", id, r.Status, r.Body)
	}
	var tx sandboxRehiveTx
	r.JSON(t, &tx)
	return tx, true
}

// waitRehiveTx waits for the Rehive transaction to reach status.
func waitRehiveTx(t *testing.T, id, status string, timeout time.Duration) sandboxRehiveTx {
	t.Helper()
	var tx sandboxRehiveTx
	testenv.Eventually(t, timeout, "Rehive transaction "+id+" "+status, func() bool {
		tx, _ = getRehiveTx(t, id)
		return tx.Status == status
	})
	return tx
}

type sandboxLedgerTx struct {
	ID                    string            `json:"id"`
	Type                  string            `json:"type"`
	Account               string            `json:"account"`
	Amount                int64             `json:"amount"`
	Currency              string            `json:"currency"`
	Status                string            `json:"status"`
	Destination           string            `json:"destination"`
	Metadata              map[string]string `json:"metadata"`
	Confirmations         int               `json:"confirmations"`
	RequiredConfirmations int               `json:"required_confirmations"`
}

func getLedgerTx(t *testing.T, id string) (sandboxLedgerTx, bool) {
	t.Helper()
	r := env.SandboxCall(t, http.MethodGet, "/sandbox/ledger/_control/transactions/"+id, nil)
	if r.Status == http.StatusNotFound {
		return sandboxLedgerTx{}, false
	}
	if r.Status != http.StatusOK {
		t.Fatalf("get ledger transaction %s: %d %s", id, r.Status, r.Body)
	}
	var tx sandboxLedgerTx
	r.JSON(t, &tx)
	return tx, true
}

// ledgerTxsFor lists every ledger transaction payflow made for a Rehive
// transaction, whatever its id.
func ledgerTxsFor(t *testing.T, rehiveTxID string) []sandboxLedgerTx {
	t.Helper()
	var st struct {
		Transactions []sandboxLedgerTx `json:"transactions"`
	}
	env.SandboxCall(t, http.MethodGet, "/sandbox/ledger/_control/state", nil).JSON(t, &st)
	var out []sandboxLedgerTx
	for _, tx := range st.Transactions {
		if tx.Metadata["rehive_tx_id"] == rehiveTxID || strings.Contains(tx.ID, rehiveTxID) {
			out = append(out, tx)
		}
	}
	return out
}

func cmTxState(t *testing.T, id string) (workflows.RehiveTxState, int) {
	t.Helper()
	var st workflows.RehiveTxState
	r := env.API(t, http.MethodGet, "/v1/rehive/transactions/"+id, nil)
	if r.Status == http.StatusOK {
		r.JSON(t, &st)
	}
	return st, r.Status
}

// waitCMTx waits for payflow's view of the transaction to reach status.
func waitCMTx(t *testing.T, id string, status workflows.TxStatus, timeout time.Duration) workflows.RehiveTxState {
	t.Helper()
	var st workflows.RehiveTxState
	testenv.Eventually(t, timeout, "payflow transaction "+id+" "+string(status), func() bool {
		st, _ = cmTxState(t, id)
		return st.Status == status
	})
	return st
}

// getDeposit is GET /v1/deposits/{id}; the zero state while payflow has not
// heard of it.
func getDeposit(t *testing.T, ledgerTxID string) workflows.DepositState {
	t.Helper()
	var st workflows.DepositState
	if r := env.API(t, http.MethodGet, "/v1/deposits/"+ledgerTxID, nil); r.Status == http.StatusOK {
		r.JSON(t, &st)
	}
	return st
}

func waitDeposit(t *testing.T, ledgerTxID, status string, timeout time.Duration) workflows.DepositState {
	t.Helper()
	var st workflows.DepositState
	testenv.Eventually(t, timeout, "deposit "+ledgerTxID+" "+status, func() bool {
		st = getDeposit(t, ledgerTxID)
		return st.Status == status
	})
	return st
}

func linkAccount(t *testing.T, rehiveAccount, ledgerAccount string) {
	t.Helper()
	r := env.API(t, http.MethodPut, "/v1/account-links/"+rehiveAccount, map[string]string{"ledger_account": ledgerAccount, "currency": xlm})
	if r.Status != http.StatusOK {
		t.Fatalf("link account: %d %s", r.Status, r.Body)
	}
}

func steps(tl []workflows.TimelineEntry) []string {
	out := make([]string, 0, len(tl))
	for _, e := range tl {
		out = append(out, e.Step)
	}
	return out
}

func hasStepDetail(tl []workflows.TimelineEntry, step, detail string) bool {
	for _, e := range tl {
		if e.Step == step && strings.Contains(e.Detail, detail) {
			return true
		}
	}
	return false
}

func containsAll(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || strings.Contains(g, w)
		}
		if !found {
			t.Fatalf("%s: want %q in %q", what, w, got)
		}
	}
}

// A withdrawal to a linked ledger account: paid once from the withdrawal
// account, and approved on Rehive only after the ledger confirmed it.
func TestCurrencyManagerWithdrawalToLinkedAccount(t *testing.T) {
	t.Parallel()
	u := rehiveCustomer(t, map[string]int64{xlm: 10 * xlmAmount})
	dest := uid("ledger-acct")
	linkAccount(t, u.Account, dest)
	if r := env.API(t, http.MethodGet, "/v1/account-links/"+u.Account, nil); r.Status != http.StatusOK || r.Map(t)["ledger_account"] != dest {
		t.Fatalf("get link: %d %s", r.Status, r.Body)
	}

	tx := userTx(t, map[string]any{"user": u.Email, "tx_type": "debit", "currency": xlm, "amount": xlmAmount,
		"metadata": map[string]any{workflows.MetaLedgerAccount: dest}})
	done := waitRehiveTx(t, tx.ID, string(workflows.RehiveTxComplete), cmWait)

	containsAll(t, "transitions", done.transitionStatuses(), "Pending->Complete approved")
	ltxs := ledgerTxsFor(t, tx.ID)
	if len(ltxs) != 1 {
		t.Fatalf("want one ledger withdrawal, got %+v", ltxs)
	}
	ltx := ltxs[0]
	if ltx.ID != workflows.LedgerTxIDFor(tx.ID) || ltx.Type != "withdrawal" || ltx.Status != workflows.LedgerComplete ||
		ltx.Account != env.Config.Ledger.WithdrawalAccount || ltx.Destination != dest || ltx.Amount != xlmAmount || ltx.Currency != xlm {
		t.Fatalf("ledger withdrawal: %+v", ltx)
	}
	st := waitCMTx(t, tx.ID, workflows.TxStatusComplete, cmWait)
	if st.Flow != workflows.FlowWithdrawal || st.RehiveStatus != workflows.RehiveTxComplete || st.LedgerTxID != ltx.ID ||
		st.Destination != dest || st.FailureReason != "" {
		t.Fatalf("payflow state: %+v", st)
	}
	// Approved after the ledger confirmed, never before.
	got := steps(st.Timeline)
	cmRequireOrder(t, got, "ledger_linked", string(workflows.TxStatusAwaitingLedger), "ledger_complete", "approved", string(workflows.TxStatusComplete))
	if len(done.userMessages()) != 0 {
		t.Fatalf("no message expected: %v", done.userMessages())
	}
}

// cmRequireOrder checks that want appears in got in this order.
func cmRequireOrder(t *testing.T, got []string, want ...string) {
	t.Helper()
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	if i != len(want) {
		t.Fatalf("want %v in order within %v", want, got)
	}
}

// Instructions that cannot be used fail the withdrawal at once, with a
// message to the user, and nothing reaches the ledger.
func TestCurrencyManagerWithdrawalUnusableMetadata(t *testing.T) {
	t.Parallel()
	u := rehiveCustomer(t, map[string]int64{xlm: 10 * xlmAmount})
	cases := map[string]map[string]any{
		"no instructions":  {"note": "to my wallet"},
		"unlinked account": {workflows.MetaLedgerAccount: uid("nobody-links-this")},
		"both":             {workflows.MetaDestination: uid("dest"), workflows.MetaLedgerAccount: uid("acct")},
	}
	for name, meta := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tx := userTx(t, map[string]any{"user": u.Email, "tx_type": "debit", "currency": xlm, "amount": xlmAmount, "metadata": meta})
			// payflow's status is final after the message is posted.
			st := waitCMTx(t, tx.ID, workflows.TxStatusFailed, cmWait)
			if st.Flow != workflows.FlowWithdrawal || st.FailureReason != "unusable_metadata" || st.LedgerTxID != "" {
				t.Fatalf("payflow state: %+v", st)
			}
			failed := waitRehiveTx(t, tx.ID, string(workflows.RehiveTxFailed), cmWait)
			containsAll(t, "user messages", failed.userMessages(), "Withdrawal failed")
			containsAll(t, "transitions", failed.transitionStatuses(), "Pending->Complete declined")
			if ltxs := ledgerTxsFor(t, tx.ID); len(ltxs) != 0 {
				t.Fatalf("nothing may reach the ledger: %+v", ltxs)
			}
		})
	}
}

// The ledger rejects the withdrawal: the transition is declined, the user is
// told, and Rehive releases the funds.
func TestCurrencyManagerWithdrawalRejectedByLedger(t *testing.T) {
	t.Parallel()
	u := rehiveCustomer(t, map[string]int64{xlm: 10 * xlmAmount})
	tx := userTx(t, map[string]any{"user": u.Email, "tx_type": "debit", "currency": xlm, "amount": xlmAmount,
		"metadata": map[string]any{workflows.MetaDestination: uid("reject-dest")}})
	st := waitCMTx(t, tx.ID, workflows.TxStatusFailed, cmWait)
	if st.Flow != workflows.FlowWithdrawal || st.FailureReason != "ledger_failed" || st.RehiveStatus != workflows.RehiveTxFailed {
		t.Fatalf("payflow state: %+v", st)
	}
	failed := waitRehiveTx(t, tx.ID, string(workflows.RehiveTxFailed), cmWait)
	containsAll(t, "transitions", failed.transitionStatuses(), "Pending->Complete declined")
	containsAll(t, "user messages", failed.userMessages(), "Withdrawal failed", "rejected by the ledger")
	ltx, ok := getLedgerTx(t, workflows.LedgerTxIDFor(tx.ID))
	if !ok || ltx.Status != workflows.LedgerFailed {
		t.Fatalf("ledger transaction: %+v (found %v)", ltx, ok)
	}
}

// A transfer between two Rehive users completes without the ledger.
func TestCurrencyManagerTransferCompletes(t *testing.T) {
	t.Parallel()
	from, to := rehiveCustomer(t, map[string]int64{xlm: 10 * xlmAmount}), rehiveCustomer(t, nil)
	tx := userTx(t, map[string]any{"user": from.Email, "partner": to.Email, "tx_type": "debit", "currency": xlm, "amount": xlmAmount})
	done := waitRehiveTx(t, tx.ID, string(workflows.RehiveTxComplete), cmWait)
	containsAll(t, "transitions", done.transitionStatuses(), "Pending->Complete approved")
	st := waitCMTx(t, tx.ID, workflows.TxStatusComplete, cmWait)
	if st.Flow != workflows.FlowTransfer || st.LedgerTxID != "" {
		t.Fatalf("payflow state: %+v", st)
	}
	if ltxs := ledgerTxsFor(t, tx.ID); len(ltxs) != 0 {
		t.Fatalf("a transfer must not reach the ledger: %+v", ltxs)
	}
}

// A credit payflow did not create is failed at once.
func TestCurrencyManagerForeignCreditFailed(t *testing.T) {
	t.Parallel()
	u := rehiveCustomer(t, nil)
	tx := userTx(t, map[string]any{"user": u.Email, "tx_type": "credit", "currency": xlm, "amount": xlmAmount,
		"metadata": map[string]any{workflows.DepositMetadataKey: uid("ltx_forged")}})
	st := waitCMTx(t, tx.ID, workflows.TxStatusFailed, cmWait)
	if st.Flow != workflows.FlowUnsupported || st.FailureReason != "unsupported" {
		t.Fatalf("payflow state: %+v", st)
	}
	failed := waitRehiveTx(t, tx.ID, string(workflows.RehiveTxFailed), cmWait)
	if len(failed.userMessages()) != 1 {
		t.Fatalf("want one user message, got %v", failed.userMessages())
	}
}

// A currency payflow does not manage is left alone: Rehive completes it by
// itself and payflow neither fails it nor runs a workflow for it.
func TestCurrencyManagerUnmanagedCurrencyIgnored(t *testing.T) {
	t.Parallel()
	u := rehiveCustomer(t, map[string]int64{"USD": 100_000})
	tx := userTx(t, map[string]any{"user": u.Email, "tx_type": "debit", "currency": "USD", "amount": 5_000,
		"metadata": map[string]any{workflows.MetaDestination: uid("dest")}})
	done := waitRehiveTx(t, tx.ID, string(workflows.RehiveTxComplete), cmWait)
	if len(done.Messages) != 0 || len(done.Transitions) != 0 {
		t.Fatalf("payflow touched an unmanaged transaction: %+v", done)
	}
	waitFor(t, "the webhooks of "+tx.ID+" recorded as ignored", func() bool {
		events := rehiveInboxFor(t, tx.ID)
		for _, it := range events {
			if it.Status != "ignored" {
				t.Fatalf("unmanaged event not ignored: %+v", it)
			}
		}
		return len(events) >= 2 // transaction.create and transaction.update
	})
	if _, status := cmTxState(t, tx.ID); status != http.StatusNotFound {
		t.Fatalf("want 404 for an unmanaged transaction, got %d", status)
	}
	if ltxs := ledgerTxsFor(t, tx.ID); len(ltxs) != 0 {
		t.Fatalf("nothing may reach the ledger: %+v", ltxs)
	}
}

type inboxRecord struct {
	EventID   string          `json:"event_id"`
	EventType string          `json:"event_type"`
	Status    string          `json:"status"`
	Payload   json.RawMessage `json:"payload"`
}

func inboxFor(t *testing.T, provider string, match func(inboxRecord) bool) []inboxRecord {
	t.Helper()
	var out struct{ Items []inboxRecord }
	env.API(t, http.MethodGet, "/v1/webhooks/inbox?limit=500&include_payload=true&provider="+provider, nil).JSON(t, &out)
	var found []inboxRecord
	for _, it := range out.Items {
		if match(it) {
			found = append(found, it)
		}
	}
	return found
}

// rehiveInboxFor lists the recorded Rehive events about transaction id.
func rehiveInboxFor(t *testing.T, id string) []inboxRecord {
	t.Helper()
	return inboxFor(t, "rehive", func(it inboxRecord) bool { return bytes.Contains(it.Payload, []byte(`"`+id+`"`)) })
}

// Initiating->Pending holds the amount on the ledger; Pending->Complete
// completes that same ledger transaction.
func TestCurrencyManagerInitiatingPendingComplete(t *testing.T) {
	t.Parallel()
	u := rehiveCustomer(t, map[string]int64{xlm: 10 * xlmAmount})
	dest := uid("dest")
	tx := userTx(t, map[string]any{"user": u.Email, "tx_type": "debit", "currency": xlm, "amount": xlmAmount, "status": "Initiating",
		"metadata": map[string]any{workflows.MetaDestination: dest}})
	done := waitRehiveTx(t, tx.ID, string(workflows.RehiveTxComplete), cmWait)
	containsAll(t, "transitions", done.transitionStatuses(), "Initiating->Pending approved", "Pending->Complete approved")

	st := waitCMTx(t, tx.ID, workflows.TxStatusComplete, cmWait)
	ltxs := ledgerTxsFor(t, tx.ID)
	if len(ltxs) != 1 || ltxs[0].ID != workflows.LedgerTxIDFor(tx.ID) || ltxs[0].Status != workflows.LedgerComplete || ltxs[0].Destination != dest {
		t.Fatalf("want the one held ledger transaction, completed: %+v", ltxs)
	}
	if st.Flow != workflows.FlowPendingToComplete || st.LedgerTxID != ltxs[0].ID || st.RehiveStatus != workflows.RehiveTxComplete {
		t.Fatalf("payflow state: %+v", st)
	}
	// Created held and linked on Initiating->Pending and approved; on
	// Pending->Complete approved while still held, and released only once
	// Rehive had it Complete.
	if !hasStepDetail(st.Timeline, "ledger_linked", workflows.LedgerKindPending+" to "+dest) {
		t.Fatalf("no pending ledger link in %+v", st.Timeline)
	}
	cmRequireOrder(t, steps(st.Timeline), "ledger_linked", "ledger_pending", "approved", string(workflows.TxStatusAwaitingTransition),
		"approved", string(workflows.TxStatusAwaitingLedger), "ledger_complete", string(workflows.TxStatusComplete))
	if !hasStepDetail(st.Timeline, "approved", "Initiating->Pending") || !hasStepDetail(st.Timeline, "approved", "Pending->Complete") {
		t.Fatalf("approvals missing in %+v", st.Timeline)
	}
}

// The ledger never confirms: after the stall timeout the Rehive transaction
// is failed and the ledger transaction cancelled.
func TestCurrencyManagerStalledWithdrawal(t *testing.T) {
	t.Parallel()
	u := rehiveCustomer(t, map[string]int64{xlm: 10 * xlmAmount})
	began := time.Now()
	tx := userTx(t, map[string]any{"user": u.Email, "tx_type": "debit", "currency": xlm, "amount": xlmAmount,
		"metadata": map[string]any{workflows.MetaDestination: uid("stall-dest")}})
	waiting := waitCMTx(t, tx.ID, workflows.TxStatusAwaitingLedger, cmWait)
	if ltx, ok := getLedgerTx(t, waiting.LedgerTxID); !ok || ltx.Status != workflows.LedgerPending {
		t.Fatalf("want the withdrawal pending on the ledger: %+v", ltx)
	}
	waitRehiveTx(t, tx.ID, string(workflows.RehiveTxFailed), cmStallWait)
	took := time.Since(began)
	if took < env.Config.StallTimeout {
		t.Fatalf("failed after %s, before the stall timeout %s", took, env.Config.StallTimeout)
	}
	t.Logf("stalled withdrawal failed after %s (stall timeout %s)", took.Round(time.Millisecond), env.Config.StallTimeout)
	if ltx, _ := getLedgerTx(t, workflows.LedgerTxIDFor(tx.ID)); ltx.Status != workflows.LedgerCancelled {
		t.Fatalf("want the ledger transaction cancelled: %+v", ltx)
	}
	st := waitCMTx(t, tx.ID, workflows.TxStatusFailed, cmWait)
	if st.FailureReason != "stalled" || st.Flow != workflows.FlowWithdrawal {
		t.Fatalf("payflow state: %+v", st)
	}
	failed, _ := getRehiveTx(t, tx.ID)
	containsAll(t, "user messages", failed.userMessages(), "did not complete in time")
}

// ledgerIncoming simulates a credit on a ledger account.
func ledgerIncoming(t *testing.T, account string, amount int64, confirmations int) string {
	t.Helper()
	r := env.SandboxCall(t, http.MethodPost, "/sandbox/ledger/_control/incoming",
		map[string]any{"account": account, "amount": amount, "currency": xlm, "required_confirmations": confirmations})
	if r.Status != http.StatusCreated {
		t.Fatalf("incoming: %d %s", r.Status, r.Body)
	}
	return r.Map(t)["id"].(string)
}

func ledgerConfirm(t *testing.T, id string) {
	t.Helper()
	if r := env.SandboxCall(t, http.MethodPost, "/sandbox/ledger/_control/confirm/"+id, map[string]int{"count": 1}); r.Status != http.StatusOK {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
}

// postLedgerWebhook delivers a ledger event to payflow, signed as the ledger
// signs it.
func postLedgerWebhook(t *testing.T, body []byte) testenv.Response {
	t.Helper()
	return testenv.Call(t, http.MethodPost, env.APIURL+"/webhooks/ledger", body,
		map[string]string{ledger.SignatureHeader: ledger.Sign(env.Config.Ledger.WebhookSecret, body, time.Now())})
}

// xlmBalance is the balance of the user's primary account, read as the user.
func xlmBalance(t *testing.T, u rehiveUser) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	accounts, err := env.App.Rehive.Accounts(ctx, u.Token)
	if err != nil {
		t.Fatalf("accounts: %v", err)
	}
	for _, a := range accounts {
		if a.Reference == u.Account {
			if c := a.Currency(xlm); c != nil {
				return c.Balance
			}
			return 0
		}
	}
	t.Fatalf("account %s not listed", u.Account)
	return 0
}

// An incoming ledger credit on a linked account becomes a Pending Rehive
// credit, completed at the third confirmation; the same webhook delivered
// five times creates one credit. Not parallel: it duplicates every ledger
// webhook while it runs.
func TestLedgerDepositConfirmedOnceDespiteDuplicates(t *testing.T) {
	u := rehiveCustomer(t, nil)
	acct := uid("ledger-dep")
	linkAccount(t, u.Account, acct)
	setFaults(t, "ledger", map[string]any{"duplicate_webhooks": true})
	defer setFaults(t, "ledger", map[string]any{})

	id := ledgerIncoming(t, acct, xlmAmount, 3)
	pending := waitDeposit(t, id, workflows.DepositPending, cmWait)
	if pending.RehiveTxID == "" || pending.Account != u.Account || pending.Amount != xlmAmount || pending.Currency != xlm {
		t.Fatalf("pending deposit: %+v", pending)
	}
	credit := waitRehiveTx(t, pending.RehiveTxID, string(workflows.RehiveTxPending), cmWait)
	if credit.TxType != "credit" || credit.Amount != xlmAmount || credit.Metadata[workflows.DepositMetadataKey] != id {
		t.Fatalf("Rehive credit: %+v", credit)
	}

	// The sandbox sent the incoming event three times; deliver it twice more.
	var incoming []inboxRecord
	waitFor(t, "the incoming event in the inbox", func() bool {
		incoming = inboxFor(t, "ledger", func(it inboxRecord) bool {
			return it.EventType == string(ledger.EventTransactionIncoming) && bytes.Contains(it.Payload, []byte(`"`+id+`"`))
		})
		return len(incoming) > 0 && incoming[0].Status != "pending"
	})
	if len(incoming) != 1 || incoming[0].Status != "delivered" {
		t.Fatalf("want the incoming event recorded and delivered once: %+v", incoming)
	}
	for i := 0; i < 2; i++ {
		r := postLedgerWebhook(t, incoming[0].Payload)
		if r.Status != http.StatusOK || r.Map(t)["duplicate"] != true {
			t.Fatalf("redelivery %d: %d %s", i+1, r.Status, r.Body)
		}
	}

	ledgerConfirm(t, id)
	ledgerConfirm(t, id)
	var two workflows.DepositState
	testenv.Eventually(t, cmWait, "two confirmations", func() bool {
		two = getDeposit(t, id)
		return two.Confirmations == 2
	})
	if two.Status != workflows.DepositPending {
		t.Fatalf("want pending at two confirmations of three: %+v", two)
	}
	if credit, _ := getRehiveTx(t, pending.RehiveTxID); credit.Status != string(workflows.RehiveTxPending) {
		t.Fatalf("credit moved before the third confirmation: %+v", credit)
	}
	ledgerConfirm(t, id)
	done := waitDeposit(t, id, workflows.DepositComplete, cmWait)
	if done.RehiveTxID != pending.RehiveTxID || done.Confirmations != 3 {
		t.Fatalf("complete deposit: %+v", done)
	}
	waitRehiveTx(t, done.RehiveTxID, string(workflows.RehiveTxComplete), cmWait)

	// One credit: one transaction in its collection, and the balance moved once.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	col, err := env.App.Rehive.GetCollection(ctx, done.RehiveCollectionID)
	if err != nil {
		t.Fatalf("collection: %v", err)
	}
	if len(col.Transactions) != 1 {
		t.Fatalf("want one credit in the collection, got %+v", col.Transactions)
	}
	if got := xlmBalance(t, u); got != xlmAmount {
		t.Fatalf("balance %d, want %d (credited once)", got, xlmAmount)
	}
	var faults struct {
		Stats struct {
			WebhooksReplayed int `json:"webhooks_replayed"`
		} `json:"stats"`
	}
	env.SandboxCall(t, http.MethodGet, "/sandbox/ledger/_control/state", nil).JSON(t, &faults)
	if faults.Stats.WebhooksReplayed == 0 {
		t.Fatal("the sandbox replayed no webhook")
	}
}

// A credit on a ledger account nobody linked is recorded, and nothing is
// created on Rehive.
func TestLedgerDepositUnknownAccount(t *testing.T) {
	t.Parallel()
	id := ledgerIncoming(t, uid("ledger-unlinked"), xlmAmount, 0)
	st := waitDeposit(t, id, workflows.DepositUnlinked, cmWait)
	if st.RehiveTxID != "" || st.FailureReason != "unlinked_account" || st.Amount != xlmAmount {
		t.Fatalf("unlinked deposit: %+v", st)
	}
	for _, step := range steps(st.Timeline) {
		if step == "credited" {
			t.Fatalf("credited on Rehive: %+v", st.Timeline)
		}
	}
}

// Every Rehive webhook is answered well within Rehive's 5 s, even while no
// worker runs; the transactions proceed once a worker is back. Not parallel:
// it stops the shared worker.
func TestRehiveWebhooksAnsweredFastWithoutWorker(t *testing.T) {
	env.StopWorker()
	restarted := false
	defer func() {
		if !restarted {
			if err := env.StartWorker(); err != nil {
				t.Errorf("restart worker: %v", err)
			}
		}
	}()

	from, to := rehiveCustomer(t, map[string]int64{xlm: 10 * xlmAmount}), rehiveCustomer(t, nil)
	tx := userTx(t, map[string]any{"user": from.Email, "partner": to.Email, "tx_type": "debit", "currency": xlm, "amount": xlmAmount})
	var transitionID string
	waitFor(t, "a transition of "+tx.ID, func() bool {
		cur, _ := getRehiveTx(t, tx.ID)
		if len(cur.Transitions) > 0 {
			transitionID = cur.Transitions[0].ID
		}
		return transitionID != ""
	})

	txData := func(id, currency, status string) map[string]any {
		return map[string]any{"id": id, "tx_type": "debit", "status": status, "amount": -xlmAmount,
			"currency": map[string]any{"code": currency, "divisibility": 7}, "metadata": map[string]any{}}
	}
	run := testenv.RandomID(4)
	events := []map[string]any{
		{"event": "transaction.transition.create", "data": map[string]any{"id": transitionID, "status": "pending",
			"from_status": "Pending", "to_status": "Complete", "transaction": txData(tx.ID, xlm, "Pending")}},
		{"event": "transaction.create", "data": txData(tx.ID, xlm, "Pending")},
		{"event": "transaction.update", "data": txData(tx.ID, xlm, "Pending")},
		{"event": "transaction.transition.create", "data": map[string]any{"id": uid("tr"), "status": "pending",
			"from_status": "Pending", "to_status": "Complete", "transaction": txData(uid("tx"), "USD", "Pending")}},
		{"event": "user.create", "data": map[string]any{"id": uid("user")}},
		{"event": "transaction.transition.update", "data": map[string]any{"id": transitionID, "status": "pending",
			"from_status": "Pending", "to_status": "Complete", "transaction": txData(tx.ID, xlm, "Pending")}},
	}
	var took []time.Duration
	for i, ev := range events {
		ev["id"] = fmt.Sprintf("cm-timing-%s-%d", run, i)
		ev["company"] = env.Config.Rehive.Company
		body, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		began := time.Now()
		r := testenv.Call(t, http.MethodPost, env.APIURL+"/webhooks/rehive", body,
			map[string]string{"Authorization": "Secret " + env.Config.Rehive.WebhookSecret})
		d := time.Since(began)
		took = append(took, d)
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", ev["event"], r.Status, r.Body)
		}
		if d >= time.Second {
			t.Fatalf("%s answered after %s", ev["event"], d)
		}
	}
	t.Logf("Rehive webhook answer times with the worker stopped: %v", took)
	// Each one recorded: the managed ones signalled to their workflow (right
	// after the answer), the others kept as ignored.
	for i, want := range []string{"delivered", "delivered", "delivered", "ignored", "ignored", "delivered"} {
		id := fmt.Sprintf("%s:cm-timing-%s-%d", env.Config.Rehive.Company, run, i)
		var it inboxItem
		testenv.Eventually(t, 10*time.Second, fmt.Sprintf("event %d (%s) %s", i, events[i]["event"], want), func() bool {
			it = inboxEvent(t, "rehive", id)
			return it.Status != "" && it.Status != "pending"
		})
		if it.Status != want {
			t.Fatalf("event %d (%s) in the inbox: %+v, want %s", i, events[i]["event"], it, want)
		}
	}
	if cur, _ := getRehiveTx(t, tx.ID); cur.Status != string(workflows.RehiveTxPending) {
		t.Fatalf("the transfer moved without a worker: %+v", cur)
	}

	if err := env.StartWorker(); err != nil {
		t.Fatal(err)
	}
	restarted = true
	waitRehiveTx(t, tx.ID, string(workflows.RehiveTxComplete), cmWait)
	st := waitCMTx(t, tx.ID, workflows.TxStatusComplete, cmWait)
	if st.Flow != workflows.FlowTransfer {
		t.Fatalf("payflow state: %+v", st)
	}
}

func TestManagedCurrenciesListed(t *testing.T) {
	t.Parallel()
	var out struct{ Currencies []string }
	r := env.API(t, http.MethodGet, "/v1/rehive/managed-currencies", nil)
	r.JSON(t, &out)
	if r.Status != http.StatusOK || len(out.Currencies) != 1 || out.Currencies[0] != "XLM" {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
}
