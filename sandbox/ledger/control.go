package ledger

import (
	"net/http"
	"time"
)

type incomingBody struct {
	Account               string            `json:"account"`
	Amount                int64             `json:"amount"`
	Currency              string            `json:"currency"`
	RequiredConfirmations int               `json:"required_confirmations"`
	Metadata              map[string]string `json:"metadata"`
}

// controlIncoming simulates a credit arriving on a ledger account: a deposit
// that is complete at once when it needs no confirmations, and otherwise
// waits for _control/confirm. It answers with the transaction (id included).
func (s *Sandbox) controlIncoming(w http.ResponseWriter, r *http.Request) {
	var b incomingBody
	if !decode(w, r, &b, false) {
		return
	}
	fe := validateAccount(b.Account)
	if fe == nil {
		fe = validateMoney(b.Amount, b.Currency)
	}
	if fe == nil && (b.RequiredConfirmations < 0 || b.RequiredConfirmations > 1000) {
		fe = &fieldError{"required_confirmations_invalid", "required_confirmations must be between 0 and 1000"}
	}
	if fe != nil {
		writeError(w, http.StatusUnprocessableEntity, fe.code, fe.message)
		return
	}
	now := time.Now().UTC()
	rec := &record{released: true, tx: transaction{
		ID: newID("ltx_"), Type: typeDeposit, Account: b.Account, Amount: b.Amount, Currency: b.Currency,
		Status: statusPending, Metadata: b.Metadata, RequiredConfirmations: b.RequiredConfirmations,
		Created: now, Updated: now,
	}}
	s.mu.Lock()
	s.addLocked(rec)
	if rec.tx.RequiredConfirmations == 0 {
		s.completeLocked(rec, now)
	}
	tx := rec.tx
	body := s.newEvent(eventIncoming, tx)
	s.mu.Unlock()
	s.log.Info("ledger sandbox incoming deposit", "id", tx.ID, "status", tx.Status)
	s.send(body)
	writeJSON(w, http.StatusCreated, tx)
}

// controlConfirm adds confirmations ({"count": n}, default 1) to a released
// pending or complete transaction, as new blocks would.
func (s *Sandbox) controlConfirm(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Count int `json:"count"`
	}
	if !decode(w, r, &b, true) {
		return
	}
	if b.Count == 0 {
		b.Count = 1
	}
	if b.Count < 0 || b.Count > 1000 {
		writeError(w, http.StatusUnprocessableEntity, "count_invalid", "count must be between 1 and 1000")
		return
	}
	s.transition(w, r, func(rec *record, now time.Time) (bool, string) {
		switch {
		case rec.tx.Status == statusFailed || rec.tx.Status == statusCancelled:
			return false, "cannot confirm a " + rec.tx.Status + " transaction"
		case !rec.released:
			return false, "transaction is held until it is completed"
		}
		s.confirmLocked(rec, b.Count, now)
		return true, ""
	})
}

// controlState is GET _control/state: fault settings, delivery counters,
// transaction counts by status and every transaction in creation order.
func (s *Sandbox) controlState(w http.ResponseWriter, _ *http.Request) {
	cfg, stats := s.faults.Snapshot()
	s.mu.Lock()
	counts := map[string]int{}
	txs := make([]transaction, 0, len(s.order))
	for _, id := range s.order {
		tx := s.txs[id].tx
		counts[tx.Status]++
		txs = append(txs, tx)
	}
	accounts := len(s.accounts)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"faults": cfg, "stats": stats,
		"counts": counts, "accounts": accounts, "transactions": txs,
	})
}

// controlTransactions handles GET /_control/transactions: every
// transaction in creation order, with amounts, statuses and metadata.
func (s *Sandbox) controlTransactions(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	txs := make([]transaction, 0, len(s.order))
	for _, id := range s.order {
		txs = append(txs, s.txs[id].tx)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"transactions": txs})
}
