package ledger

import "time"

// The functions in this file change transaction state. Those named *Locked
// run under s.mu; any webhook body they produce is sent after unlocking.

// addLocked stores a new transaction and opens its account on first use.
func (s *Sandbox) addLocked(r *record) {
	s.txs[r.tx.ID] = r
	s.order = append(s.order, r.tx.ID)
	s.accountLocked(r.tx.Account)
}

func (s *Sandbox) accountLocked(id string) map[string]int64 {
	acct, ok := s.accounts[id]
	if !ok {
		acct = map[string]int64{}
		s.accounts[id] = acct
	}
	return acct
}

// releaseLocked starts processing a transaction: deposits that need no
// confirmations complete at once; everything else waits for the timer,
// except stall- names, which never move. It reports whether the status
// changed now.
func (s *Sandbox) releaseLocked(r *record, now time.Time) bool {
	r.released = true
	switch outcomeOf(r.tx) {
	case stall:
		return false
	case reject:
		s.scheduleLocked(r.tx.ID)
		return false
	}
	if r.tx.Type == typeDeposit && r.tx.Confirmations >= r.tx.RequiredConfirmations {
		s.completeLocked(r, now)
		return true
	}
	if r.auto {
		s.scheduleLocked(r.tx.ID)
	}
	return false
}

// completeLocked marks a transaction complete and moves the balance.
func (s *Sandbox) completeLocked(r *record, now time.Time) {
	r.tx.Status = statusComplete
	r.tx.Updated = now
	amount := r.tx.Amount
	if r.tx.Type == typeWithdrawal {
		amount = -amount
	}
	s.accountLocked(r.tx.Account)[r.tx.Currency] += amount
}

// confirmLocked adds confirmations, completing a pending transaction that
// reaches its requirement.
func (s *Sandbox) confirmLocked(r *record, count int, now time.Time) {
	r.tx.Confirmations += count
	r.tx.Updated = now
	if r.tx.Status == statusPending && r.tx.Confirmations >= r.tx.RequiredConfirmations {
		s.completeLocked(r, now)
	}
}

func (s *Sandbox) cancelLocked(r *record, now time.Time) {
	r.tx.Status = statusCancelled
	r.tx.Updated = now
	s.stopTimerLocked(r.tx.ID)
}

// scheduleLocked arranges the next automatic step of a transaction.
func (s *Sandbox) scheduleLocked(id string) {
	if s.closed {
		return
	}
	s.stopTimerLocked(id)
	s.steps.Add(1)
	s.timers[id] = time.AfterFunc(s.cfg.ConfirmDelay, func() {
		defer s.steps.Done()
		s.step(id)
	})
}

func (s *Sandbox) stopTimerLocked(id string) {
	if t, ok := s.timers[id]; ok {
		if t.Stop() {
			s.steps.Done()
		}
		delete(s.timers, id)
	}
}

// step is one automatic move: a rejected transaction fails, any other gains a
// confirmation (and completes once it has enough). Every move is a webhook.
func (s *Sandbox) step(id string) {
	s.mu.Lock()
	delete(s.timers, id)
	r := s.txs[id]
	if s.closed || r == nil || r.tx.Status != statusPending {
		s.mu.Unlock()
		return
	}
	now := time.Now().UTC()
	if outcomeOf(r.tx) == reject {
		r.tx.Status = statusFailed
		r.tx.FailureReason = "rejected by the ledger"
		r.tx.Updated = now
	} else {
		s.confirmLocked(r, 1, now)
	}
	if r.tx.Status == statusPending {
		s.scheduleLocked(id)
	}
	tx := r.tx
	body := s.newEvent(eventUpdated, tx)
	s.mu.Unlock()
	s.log.Info("ledger sandbox transaction updated", "id", tx.ID, "status", tx.Status, "confirmations", tx.Confirmations)
	s.send(body)
}
