package ledger

import (
	"maps"
	"net/http"
	"time"
)

// createTransaction is POST /v1/transactions. The id makes it idempotent: a
// repeat returns the stored transaction with 200 instead of 201.
func (s *Sandbox) createTransaction(w http.ResponseWriter, r *http.Request) {
	var b createBody
	if !decode(w, r, &b, false) {
		return
	}
	if fe := b.validate(); fe != nil {
		writeError(w, http.StatusUnprocessableEntity, fe.code, fe.message)
		return
	}
	now := time.Now().UTC()
	s.mu.Lock()
	if existing, ok := s.txs[b.ID]; ok {
		tx := existing.tx
		s.mu.Unlock()
		// The id names one transaction: the same id with other money-moving
		// fields is a bug in the caller, refused rather than merged.
		if tx.Type != b.Type || tx.Account != b.Account || tx.Amount != b.Amount || tx.Currency != b.Currency || tx.Destination != b.Destination {
			writeError(w, http.StatusConflict, "id_conflict", "a different transaction already uses this id")
			return
		}
		writeJSON(w, http.StatusOK, tx)
		return
	}
	rec := &record{auto: true, tx: transaction{
		ID: b.ID, Type: b.Type, Account: b.Account, Amount: b.Amount, Currency: b.Currency,
		Status: statusPending, Destination: b.Destination, Metadata: b.Metadata,
		Created: now, Updated: now,
	}}
	if b.Type == typeWithdrawal {
		rec.tx.RequiredConfirmations = s.cfg.WithdrawalConfirmations
	}
	s.addLocked(rec)
	if b.Status != statusPending {
		// The caller sees the result in this response, so no webhook.
		s.releaseLocked(rec, now)
	}
	tx := rec.tx
	s.mu.Unlock()
	s.log.Info("ledger sandbox transaction created", "id", tx.ID, "type", tx.Type, "status", tx.Status)
	writeJSON(w, http.StatusCreated, tx)
}

func (s *Sandbox) getTransaction(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	rec, ok := s.txs[r.PathValue("id")]
	var tx transaction
	if ok {
		tx = rec.tx
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "transaction not found")
		return
	}
	writeJSON(w, http.StatusOK, tx)
}

// completeTransaction releases a held (pending) transaction. Completing a
// complete or already released one returns it unchanged.
func (s *Sandbox) completeTransaction(w http.ResponseWriter, r *http.Request) {
	s.transition(w, r, func(rec *record, now time.Time) (bool, string) {
		switch {
		case rec.tx.Status == statusFailed || rec.tx.Status == statusCancelled:
			return false, "cannot complete a " + rec.tx.Status + " transaction"
		case rec.tx.Status == statusComplete || rec.released:
			return false, ""
		}
		return s.releaseLocked(rec, now), ""
	})
}

// cancelTransaction cancels a pending transaction; cancelling a cancelled
// one returns it unchanged.
func (s *Sandbox) cancelTransaction(w http.ResponseWriter, r *http.Request) {
	s.transition(w, r, func(rec *record, now time.Time) (bool, string) {
		switch rec.tx.Status {
		case statusCancelled:
			return false, ""
		case statusPending:
			s.cancelLocked(rec, now)
			return true, ""
		}
		return false, "cannot cancel a " + rec.tx.Status + " transaction"
	})
}

// transition applies change to the transaction named in the path under the
// lock. change reports whether the status changed (→ webhook) or why the
// change is not allowed (→ 409).
func (s *Sandbox) transition(w http.ResponseWriter, r *http.Request, change func(*record, time.Time) (bool, string)) {
	s.mu.Lock()
	rec, ok := s.txs[r.PathValue("id")]
	if !ok {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "not_found", "transaction not found")
		return
	}
	changed, conflict := change(rec, time.Now().UTC())
	tx := rec.tx
	var body []byte
	if changed {
		body = s.newEvent(eventUpdated, tx)
	}
	s.mu.Unlock()
	if conflict != "" {
		writeError(w, http.StatusConflict, "invalid_state", conflict)
		return
	}
	if changed {
		s.log.Info("ledger sandbox transaction updated", "id", tx.ID, "status", tx.Status)
		s.send(body)
	}
	writeJSON(w, http.StatusOK, tx)
}

type accountBody struct {
	ID       string           `json:"id"`
	Balances map[string]int64 `json:"balances"`
}

// getAccount answers for any id: ledger accounts exist on first use.
func (s *Sandbox) getAccount(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if fe := validateAccount(id); fe != nil {
		writeError(w, http.StatusUnprocessableEntity, fe.code, fe.message)
		return
	}
	s.mu.Lock()
	balances := maps.Clone(s.accountLocked(id))
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, accountBody{ID: id, Balances: balances})
}
