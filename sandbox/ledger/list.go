package ledger

import (
	"net/http"
	"strconv"
	"time"
)

// maxListLimit is the largest page GET /v1/transactions answers.
const maxListLimit = 100

// listTransactions is GET /v1/transactions: transactions in creation order,
// oldest first, filtered by type, status and created_after (RFC 3339,
// exclusive), a page of limit (default 50) after the id starting_after, as
// {"data": [...], "has_more": bool}. The reconciliation lists deposits with
// it: an incoming credit whose only webhook was lost is known from here.
func (s *Sandbox) listTransactions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListLimit {
			writeError(w, http.StatusUnprocessableEntity, "limit_invalid", "limit must be between 1 and 100")
			return
		}
		limit = n
	}
	var after time.Time
	if v := q.Get("created_after"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			writeError(w, http.StatusUnprocessableEntity, "created_after_invalid", "created_after must be an RFC 3339 time")
			return
		}
		after = t
	}
	typ, status, cursor := q.Get("type"), q.Get("status"), q.Get("starting_after")
	switch typ {
	case "", typeWithdrawal, typeDeposit:
	default:
		writeError(w, http.StatusUnprocessableEntity, "type_invalid", "type must be withdrawal or deposit")
		return
	}
	s.mu.Lock()
	start := 0
	if cursor != "" {
		if _, ok := s.txs[cursor]; !ok {
			s.mu.Unlock()
			writeError(w, http.StatusUnprocessableEntity, "starting_after_invalid", "starting_after names no transaction")
			return
		}
		for i, id := range s.order {
			if id == cursor {
				start = i + 1
				break
			}
		}
	}
	page, more := []transaction{}, false
	for _, id := range s.order[start:] {
		tx := s.txs[id].tx
		if (typ != "" && tx.Type != typ) || (status != "" && tx.Status != status) || (!after.IsZero() && !tx.Created.After(after)) {
			continue
		}
		if len(page) == limit {
			more = true
			break
		}
		page = append(page, tx)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"data": page, "has_more": more})
}
