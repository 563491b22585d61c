package rehive

import (
	"net/http"
	"time"
)

const (
	transitionQueued   = "queued" // approved, not yet applied (faults "approvals")
	transitionPending  = "pending"
	transitionApproved = "approved"
	transitionDeclined = "declined"
)

// transition is a status change of a managed-currency transaction that waits
// for the manager's approval.
type transition struct {
	id     string
	tx     *transaction
	status string
	// approved: approved under faults approvals "pending", which answers
	// still pending until the approval applies.
	approved bool
	from     string
	to       string
	created  int64
	updated  int64
}

type transitionView struct {
	ID          string `json:"id"`
	Transaction txView `json:"transaction"`
	Status      string `json:"status"`
	FromStatus  string `json:"from_status"`
	ToStatus    string `json:"to_status"`
	Created     int64  `json:"created"`
	Updated     int64  `json:"updated"`
}

func (st *state) transitionView(tr *transition) transitionView {
	return transitionView{ID: tr.id, Transaction: st.txView(tr.tx), Status: tr.status,
		FromStatus: tr.from, ToStatus: tr.to, Created: tr.created, Updated: tr.updated}
}

// nextStatus is where a live transaction goes next; "" when final.
func nextStatus(status string) string {
	switch status {
	case initiating, quoted:
		return pending
	case pending:
		return complete
	}
	return ""
}

// advanceLocked takes a user-created collection one step on: in a managed
// currency it raises a transition for the manager (unless one is waiting);
// otherwise the step is approved at once, until the collection is Complete.
func (s *Sandbox) advanceLocked(col *collection, ob *outbox) {
	d := col.driver
	next := nextStatus(d.status)
	if next == "" {
		return
	}
	if !col.managed {
		s.moveLocked(col, next, ob)
		return
	}
	for _, tr := range d.transitions {
		if tr.waiting() {
			return
		}
	}
	now := nowMS()
	tr := &transition{id: newUUID(), tx: d, status: transitionPending, from: d.status, to: next, created: now, updated: now}
	s.st.transitions[tr.id] = tr
	d.transitions = append(d.transitions, tr)
	s.log.Debug("rehive sandbox: transition raised", "id", tr.id, "transaction", d.id, "to", next)
	s.queueLocked(ob, eventTransitionCreate, s.st.transitionView(tr))
}

// waiting reports whether the transition has not yet been applied.
func (tr *transition) waiting() bool {
	return tr.status == transitionPending || tr.status == transitionQueued
}

// resolveLocked records the outcome of a pending transition.
func (s *Sandbox) resolveLocked(tr *transition, approved bool, now int64, ob *outbox) {
	tr.status, tr.updated = transitionDeclined, now
	if approved {
		tr.status = transitionApproved
	}
	s.queueLocked(ob, eventTransitionUpdate, s.st.transitionView(tr))
}

// listTransitions handles GET /3/admin/transaction-transitions/
// [?transaction=<id>]: newest first, each with the transaction as a bare id,
// as Rehive's list form gives it.
func (s *Sandbox) listTransitions(w http.ResponseWriter, r *http.Request) {
	txID := r.URL.Query().Get("transaction")
	type listed struct {
		ID          string `json:"id"`
		Transaction string `json:"transaction"`
		Status      string `json:"status"`
		FromStatus  string `json:"from_status"`
		ToStatus    string `json:"to_status"`
		Created     int64  `json:"created"`
		Updated     int64  `json:"updated"`
	}
	s.mu.Lock()
	var out []listed
	for i := len(s.st.txOrder) - 1; i >= 0; i-- {
		t := s.st.txOrder[i]
		if txID != "" && t.id != txID {
			continue
		}
		for j := len(t.transitions) - 1; j >= 0; j-- {
			tr := t.transitions[j]
			out = append(out, listed{ID: tr.id, Transaction: t.id, Status: tr.status, FromStatus: tr.from, ToStatus: tr.to, Created: tr.created, Updated: tr.updated})
		}
	}
	s.mu.Unlock()
	writeList(w, out)
}

func (s *Sandbox) getTransition(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	tr := s.st.transitions[r.PathValue("id")]
	var v transitionView
	if tr != nil {
		v = s.st.transitionView(tr)
	}
	s.mu.Unlock()
	if tr == nil {
		writeError(w, notFound())
		return
	}
	writeData(w, http.StatusOK, v)
}

// patchTransition handles PATCH /3/admin/transaction-transitions/{id}/
// {"status": "approved"|"declined"}: approved moves the transaction (and its
// collection) to the transition's target, declined fails it.
func (s *Sandbox) patchTransition(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Status string `json:"status"`
	}
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, err)
		return
	}
	if req.Status != transitionApproved && req.Status != transitionDeclined {
		writeError(w, fieldError("status", "Status must be approved or declined."))
		return
	}
	var v transitionView
	err := s.write(func(ob *outbox) error {
		tr := s.st.transitions[r.PathValue("id")]
		if tr == nil {
			return notFound()
		}
		if tr.status != transitionPending {
			return fieldError("status", "The transition is "+tr.status+", not pending.")
		}
		if tr.approved {
			// Already approved, not yet applied: a repeat approval answers
			// still pending; a decline can no longer overturn it.
			if req.Status != transitionApproved {
				return fieldError("status", "The transition is already approved.")
			}
			v = s.st.transitionView(tr)
			return nil
		}
		target := failed
		if req.Status == transitionApproved {
			target = tr.to
			if mode := s.faults.Approvals(); mode == "pending" {
				// Accepted, but the answer still says pending: the
				// transaction has not moved yet.
				tr.approved, tr.updated = true, nowMS()
				v = s.st.transitionView(tr)
				s.after(queuedDelay, func() { s.applyQueued(tr.id) })
				return nil
			} else if mode != "immediate" {
				// Rehive accepted the approval but has not moved the
				// transaction yet: the answer says queued.
				tr.status, tr.updated = transitionQueued, nowMS()
				s.queueLocked(ob, eventTransitionUpdate, s.st.transitionView(tr))
				v = s.st.transitionView(tr)
				if mode == "queued" {
					s.after(queuedDelay, func() { s.applyQueued(tr.id) })
				}
				return nil
			}
		}
		s.moveLocked(tr.tx.col, target, ob) // resolves tr as well
		v = s.st.transitionView(tr)
		return nil
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeData(w, http.StatusOK, v)
}

// queuedDelay is how long a queued (or still-pending) approval takes to apply.
const queuedDelay = 500 * time.Millisecond

// applyQueued carries out a queued approval, unless the transaction has
// moved meanwhile (the status control, an admin PATCH).
func (s *Sandbox) applyQueued(id string) {
	_ = s.write(func(ob *outbox) error {
		tr := s.st.transitions[id]
		if tr != nil && (tr.status == transitionQueued || tr.approved && tr.status == transitionPending) && !isFinal(tr.tx.status) {
			s.moveLocked(tr.tx.col, tr.to, ob)
		}
		return nil
	})
}
