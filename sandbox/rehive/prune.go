package rehive

import (
	"slices"
	"time"
)

// pruneLocked removes collections whose transactions are still Initiating
// past InitiatingTTL, as Rehive does: they vanish (404) without a webhook,
// and a held debit's funds are released. It scans at most every tenth of the
// TTL.
func (s *Sandbox) pruneLocked(now time.Time) {
	ttl := s.cfg.InitiatingTTL
	if now.Sub(s.st.lastPrune) < ttl/10 {
		return
	}
	s.st.lastPrune = now
	cutoff := now.Add(-ttl).UnixMilli()
	gone := map[*collection]bool{}
	for _, t := range s.st.txOrder {
		if t.status == initiating && t.created <= cutoff {
			gone[t.col] = true
		}
	}
	if len(gone) == 0 {
		return
	}
	for col := range gone {
		for _, t := range col.txs {
			if t.txType == debit && !isFinal(t.status) {
				t.account.balance(t.currency).held -= t.amount
			}
			for _, tr := range t.transitions {
				delete(s.st.transitions, tr.id)
			}
			delete(s.st.txs, t.id)
			s.log.Debug("rehive sandbox: initiating transaction pruned", "id", t.id)
		}
		delete(s.st.collections, col.id)
	}
	s.st.txOrder = slices.DeleteFunc(s.st.txOrder, func(t *transaction) bool { return gone[t.col] })
}
