package rehive

import (
	"errors"
	"net/http"
)

// writeControlError answers a control call with {"error": "..."}.
func writeControlError(w http.ResponseWriter, err error) {
	status := http.StatusBadRequest
	var ae *apiError
	if errors.As(err, &ae) {
		status = ae.status
	}
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

// controlCreateTransaction handles POST /_control/transactions: a
// transaction as if the user had made it, with the user-created lifecycle
// (managed currencies wait for the manager). With a partner it is a transfer
// and the answer is the user's side.
func (s *Sandbox) controlCreateTransaction(w http.ResponseWriter, r *http.Request) {
	var req struct {
		User     string         `json:"user"`
		TxType   string         `json:"tx_type"`
		Currency string         `json:"currency"`
		Amount   int64          `json:"amount"`
		Partner  string         `json:"partner"`
		Subtype  string         `json:"subtype"`
		Metadata map[string]any `json:"metadata"`
		Status   string         `json:"status"`
	}
	if err := decodeJSON(r, &req); err != nil {
		writeControlError(w, err)
		return
	}
	if req.Status == "" {
		req.Status = pending
	}
	if req.Status != pending && req.Status != initiating && req.Status != quoted {
		writeControlError(w, invalid("status must be Pending, Quoted or Initiating"))
		return
	}
	if req.TxType != credit && req.TxType != debit {
		writeControlError(w, invalid("tx_type must be credit or debit"))
		return
	}
	var v txView
	err := s.write(func(ob *outbox) error {
		u := s.st.findUser(req.User)
		if u == nil {
			return invalid("unknown user")
		}
		var spec collectionSpec
		if req.Partner != "" {
			p := s.st.findUser(req.Partner)
			if p == nil {
				return invalid("unknown partner")
			}
			from, to := u.primary, p.primary
			if req.TxType == credit {
				from, to = to, from
			}
			var err error
			if spec, err = s.transferSpecLocked(from, to, req.Amount, req.Currency, req.Status, req.Metadata, req.Metadata); err != nil {
				return err
			}
		} else {
			if err := s.checkAmountLocked(req.Amount, req.Currency); err != nil {
				return err
			}
			spec = collectionSpec{lifecycle: true, txs: []txSpec{{
				txType: req.TxType, subtype: req.Subtype, amount: req.Amount, currency: req.Currency,
				account: u.primary, metadata: req.Metadata, status: req.Status,
			}}}
		}
		col, err := s.createLocked(spec, ob)
		if err != nil {
			return err
		}
		for _, t := range col.txs {
			if t.account.owner == u {
				v = s.st.txView(t)
			}
		}
		s.startLocked(col, ob)
		return nil
	})
	if err != nil {
		writeControlError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, v)
}

type transitionSummary struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	FromStatus string `json:"from_status"`
	ToStatus   string `json:"to_status"`
}

// controlTx is a transaction as the control endpoints show it: the admin
// object with its messages and transitions.
type controlTx struct {
	txView
	Messages    []message           `json:"messages"`
	Transitions []transitionSummary `json:"transitions"`
}

func (s *Sandbox) controlViewLocked(t *transaction) controlTx {
	out := controlTx{txView: s.st.txView(t), Messages: append([]message{}, t.messages...), Transitions: []transitionSummary{}}
	for _, tr := range t.transitions {
		out.Transitions = append(out.Transitions, transitionSummary{ID: tr.id, Status: tr.status, FromStatus: tr.from, ToStatus: tr.to})
	}
	return out
}

// controlGetTransaction handles GET /_control/transactions/{id}: the
// transaction with its messages and transitions.
func (s *Sandbox) controlGetTransaction(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	t := s.st.txs[r.PathValue("id")]
	var out controlTx
	if t != nil {
		out = s.controlViewLocked(t)
	}
	s.mu.Unlock()
	if t == nil {
		writeControlError(w, notFound())
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// controlState handles GET /_control/state: faults, delivery stats and
// counts.
func (s *Sandbox) controlState(w http.ResponseWriter, _ *http.Request) {
	cfg, stats := s.faults.Snapshot()
	s.mu.Lock()
	byStatus := map[string]int{}
	for _, t := range s.st.txs {
		byStatus[t.status]++
	}
	waiting, queued := 0, 0
	for _, tr := range s.st.transitions {
		switch tr.status {
		case transitionPending:
			waiting++
		case transitionQueued:
			queued++
		}
	}
	counts := map[string]any{
		"users": len(s.st.users), "collections": len(s.st.collections), "transactions": byStatus,
		"transitions": len(s.st.transitions), "pending_transitions": waiting, "queued_transitions": queued,
	}
	s.mu.Unlock()
	out := map[string]any{"faults": cfg, "stats": stats, "counts": counts}
	if s.cfg.BaseURL != "" {
		out["api_base_url"] = s.cfg.BaseURL + "/3"
	}
	writeJSON(w, http.StatusOK, out)
}

// controlSetStatus handles POST /_control/transactions/{id}/status
// {"status": "Complete"|"Failed"}: Rehive (or an operator on its dashboard)
// moves the transaction and its collection, with webhooks; a waiting or
// queued transition resolves with it.
func (s *Sandbox) controlSetStatus(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Status string `json:"status"`
	}
	if err := decodeJSON(r, &req); err != nil {
		writeControlError(w, err)
		return
	}
	if req.Status != complete && req.Status != failed {
		writeControlError(w, invalid("status must be Complete or Failed"))
		return
	}
	var v controlTx
	err := s.write(func(ob *outbox) error {
		t := s.st.txs[r.PathValue("id")]
		if t == nil {
			return notFound()
		}
		if err := checkMove(t, req.Status); err != nil {
			return err
		}
		s.moveLocked(t.col, req.Status, ob)
		v = s.controlViewLocked(t)
		return nil
	})
	if err != nil {
		writeControlError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}
