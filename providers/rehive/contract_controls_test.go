package rehive_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/payflow/payflow/providers/httpx"
	"github.com/payflow/payflow/providers/rehive"
	sandbox "github.com/payflow/payflow/sandbox/rehive"
)

func TestContractListTransactions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ada := e.user("ada@example.com", map[string]int64{"USD": 100_000})
	merchantEmail, merchantAccount := e.merchant()
	var ids []rehive.ID
	for i := range 5 {
		tx := e.controlTx(map[string]any{"user": ada.Email, "tx_type": "debit", "currency": "USD", "amount": 100 + i,
			"partner": merchantEmail, "metadata": map[string]any{"order_id": "ord_" + strconv.Itoa(i)}})
		ids = append(ids, tx.ID)
	}
	e.controlTx(map[string]any{"user": ada.Email, "tx_type": "credit", "currency": "USD", "amount": 7})

	// The merchant's credits, three to a page: all five, newest first.
	got, err := e.client.ListTransactions(ctx(t), rehive.TransactionFilter{Account: merchantAccount, TxType: rehive.Credit, PageSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("merchant credits = %d, want 5", len(got))
	}
	for i, tx := range got {
		want := "ord_" + strconv.Itoa(4-i)
		if tx.Metadata["order_id"] != want || tx.Account != merchantAccount || tx.TxType != rehive.Credit || tx.Partner == nil {
			t.Errorf("credit %d = %+v, want order %s", i, tx, want)
		}
	}
	// Ada's debits by user; a CreatedAfter in the future finds nothing.
	debits, err := e.client.ListTransactions(ctx(t), rehive.TransactionFilter{User: ada.Email, TxType: rehive.Debit})
	if err != nil || len(debits) != 5 || debits[0].Partner == nil || debits[4].Partner.ID == "" {
		t.Fatalf("ada's debits = %d %v", len(debits), err)
	}
	if debits[4].ID != ids[0] {
		t.Errorf("oldest debit = %s, want %s", debits[4].ID, ids[0])
	}
	later, err := e.client.ListTransactions(ctx(t), rehive.TransactionFilter{User: ada.ID, CreatedAfter: time.Now().Add(time.Hour)})
	if err != nil || len(later) != 0 {
		t.Errorf("created after an hour from now = %d %v", len(later), err)
	}
	all, err := e.client.ListTransactions(ctx(t), rehive.TransactionFilter{User: ada.ID, CreatedAfter: time.Now().Add(-time.Hour)})
	if err != nil || len(all) != 6 {
		t.Errorf("ada's transactions = %d %v", len(all), err)
	}
	// Only admins list.
	if _, err := e.newClient("wrong", time.Second).ListTransactions(ctx(t), rehive.TransactionFilter{}); httpx.ClassOf(err) != httpx.Auth {
		t.Errorf("wrong token: %v", err)
	}
	// The control list has everything, with transitions and messages.
	var list struct {
		Transactions []struct {
			ID          rehive.ID      `json:"id"`
			Status      string         `json:"status"`
			Amount      int64          `json:"amount"`
			Metadata    map[string]any `json:"metadata"`
			Transitions []any          `json:"transitions"`
		} `json:"transactions"`
	}
	e.control(http.MethodGet, "transactions", nil, &list)
	if len(list.Transactions) != 11 || list.Transactions[0].ID != ids[0] || list.Transactions[0].Amount != -100 {
		t.Errorf("control list = %+v", list.Transactions)
	}
}

// approvalFlow raises a managed debit and returns it with its transition.
func approvalFlow(t *testing.T, e *env, email string) (rehive.Transaction, string) {
	t.Helper()
	tx := e.controlTx(map[string]any{"user": email, "tx_type": "debit", "currency": "XLM", "amount": 1_0000000})
	ev := e.hooks.wait(t, transitionEvent(rehive.EventTransactionTransitionCreate, string(tx.ID)))
	trID, err := ev.TransitionID()
	if err != nil {
		t.Fatal(err)
	}
	return tx, trID
}

func TestContractApprovalsQueuedAndHeld(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bob := e.user("bob@example.com", map[string]int64{"XLM": 10_0000000})

	t.Run("queued applies shortly after", func(t *testing.T) {
		e.faults(map[string]any{"approvals": "queued"})
		tx, trID := approvalFlow(t, e, bob.Email)
		tr, err := e.client.ApproveTransition(ctx(t), trID, "approve-q/"+trID)
		if err != nil || tr.Status != rehive.TransitionQueued || tr.Transaction.Status != rehive.StatusPending {
			t.Fatalf("approve = %+v %v", tr, err)
		}
		e.hooks.wait(t, txEvent(rehive.EventTransactionUpdate, string(tx.ID), rehive.StatusComplete))
		if tr, err := e.client.GetTransition(ctx(t), trID); err != nil || tr.Status != rehive.TransitionApproved {
			t.Errorf("transition after = %+v %v", tr, err)
		}
	})
	t.Run("pending answers still pending and applies shortly after", func(t *testing.T) {
		e.faults(map[string]any{"approvals": "pending"})
		tx, trID := approvalFlow(t, e, bob.Email)
		tr, err := e.client.ApproveTransition(ctx(t), trID, "approve-p/"+trID)
		if err != nil || tr.Status != rehive.TransitionPending || tr.Transaction.Status != rehive.StatusPending {
			t.Fatalf("approve = %+v %v", tr, err)
		}
		// A retried approval (another key) still answers pending.
		if tr, err := e.client.ApproveTransition(ctx(t), trID, "approve-p2/"+trID); err != nil || tr.Status != rehive.TransitionPending {
			t.Fatalf("repeat approve = %+v %v", tr, err)
		}
		e.hooks.wait(t, txEvent(rehive.EventTransactionUpdate, string(tx.ID), rehive.StatusComplete))
		if tr, err := e.client.GetTransition(ctx(t), trID); err != nil || tr.Status != rehive.TransitionApproved {
			t.Errorf("transition after = %+v %v", tr, err)
		}
	})
	t.Run("held waits for the status control", func(t *testing.T) {
		e.faults(map[string]any{"approvals": "held"})
		tx, trID := approvalFlow(t, e, bob.Email)
		tr, err := e.client.ApproveTransition(ctx(t), trID, "approve-h/"+trID)
		if err != nil || tr.Status != rehive.TransitionQueued {
			t.Fatalf("approve = %+v %v", tr, err)
		}
		time.Sleep(700 * time.Millisecond) // longer than a queued approval takes
		if got, _ := e.client.GetTransaction(ctx(t), string(tx.ID)); got.Status != rehive.StatusPending {
			t.Fatalf("held approval applied by itself: %s", got.Status)
		}
		e.control(http.MethodPost, "transactions/"+string(tx.ID)+"/status", map[string]any{"status": "Failed"}, nil)
		e.hooks.wait(t, txEvent(rehive.EventTransactionUpdate, string(tx.ID), rehive.StatusFailed))
		if tr, err := e.client.GetTransition(ctx(t), trID); err != nil || tr.Status != rehive.TransitionDeclined {
			t.Errorf("transition after = %+v %v", tr, err)
		}
		if bal, avail := e.balance(bob.Token, "XLM"); bal != 8_0000000 || avail != 8_0000000 { // two approved debits of 1
			t.Errorf("balance after the failure = %d/%d", bal, avail)
		}
	})
	t.Run("status control completes", func(t *testing.T) {
		e.faults(map[string]any{})
		tx := e.controlTx(map[string]any{"user": bob.Email, "tx_type": "debit", "currency": "XLM", "amount": 1_0000000})
		e.control(http.MethodPost, "transactions/"+string(tx.ID)+"/status", map[string]any{"status": "Complete"}, nil)
		e.hooks.wait(t, txEvent(rehive.EventTransactionUpdate, string(tx.ID), rehive.StatusComplete))
	})
}

// TestContractLostAnswers: the call is carried out and its answer lost; a
// retry with the same key gets the answer Rehive kept, never a second effect.
func TestContractLostAnswers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ada := e.user("ada@example.com", map[string]int64{"USD": 100_000})
	merchantEmail, _ := e.merchant()
	for _, mode := range []string{"5xx", "reset", "hang"} {
		t.Run(mode, func(t *testing.T) {
			c := e.newClient(adminToken, 300*time.Millisecond)
			e.faults(map[string]any{"lose_answers_next": 1, "lose_mode": mode})
			before := e.state().Counts.Collections
			req := rehive.TransferRequest{Amount: 500, Currency: "USD", Recipient: merchantEmail}
			tx, err := c.Transfer(ctx(t), ada.Token, req, "pay/"+mode)
			for deadline := time.Now().Add(5 * time.Second); err != nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				if !httpx.ClassOf(err).Retryable() && httpx.ClassOf(err) != httpx.Conflict {
					t.Fatalf("transfer: %v", err)
				}
				tx, err = c.Transfer(ctx(t), ada.Token, req, "pay/"+mode)
			}
			if err != nil || tx.ID == "" {
				t.Fatalf("transfer = %+v %v", tx, err)
			}
			if n := e.state().Counts.Collections - before; n != 1 {
				t.Errorf("%d transfers made, want 1", n)
			}
		})
	}
	if n := e.state().Stats.AnswersLost; n != 3 {
		t.Errorf("answers_lost = %d", n)
	}
}

// TestEventIDsUniqueAcrossRestarts: a second sandbox (the process restarted)
// never reuses an event id of the first.
func TestEventIDsUniqueAcrossRestarts(t *testing.T) {
	seen := map[string]bool{}
	for run := range 2 {
		rx := newReceiver(t)
		sb := sandbox.New(sandbox.Config{AdminToken: adminToken, WebhookSecret: webhookSecret, WebhookURL: rx.url})
		srv := httptest.NewServer(sb.Handler())
		e := &env{t: t, sb: sb, base: srv.URL + "/sandbox/rehive", hooks: rx}
		e.client = e.newClient(adminToken, 5*time.Second)
		ada := e.user("ada@example.com", map[string]int64{"USD": 1000})
		tx := e.controlTx(map[string]any{"user": ada.Email, "tx_type": "credit", "currency": "USD", "amount": 5})
		e.hooks.wait(t, txEvent(rehive.EventTransactionUpdate, string(tx.ID), rehive.StatusComplete))
		sb.Close()
		sb.Flush()
		srv.Close()
		for _, ev := range rx.snapshot() {
			if seen[ev.ID] {
				t.Fatalf("run %d reused event id %s", run, ev.ID)
			}
			seen[ev.ID] = true
		}
	}
}
