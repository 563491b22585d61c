package rehive

import (
	"encoding/json"
	"net/http"
	"time"
)

const (
	initiating = "Initiating"
	quoted     = "Quoted" // a quote awaiting acceptance; moves on to Pending
	pending    = "Pending"
	complete   = "Complete"
	failed     = "Failed"

	credit = "credit"
	debit  = "debit"
)

func isFinal(status string) bool { return status == complete || status == failed }

// transaction is one side of a collection. amount is positive; views show
// debits negative, as Rehive does.
type transaction struct {
	id          string
	col         *collection
	partner     *transaction // the other side of a transfer
	txType      string
	subtype     string
	status      string
	amount      int64
	currency    string
	account     *account
	metadata    map[string]any // replaced, never mutated: views share it
	reference   string
	note        string
	created     int64
	updated     int64
	executed    int64
	messages    []message
	transitions []*transition
}

// txSpec is a transaction to create.
type txSpec struct {
	id        string // client-chosen uuid, or "" for a new one
	txType    string
	amount    int64
	currency  string
	account   *account
	subtype   string
	reference string
	metadata  map[string]any
	status    string
}

// applyCreate puts a new transaction's effect on its balance: a live debit
// holds funds, a complete one takes them, a complete credit adds them.
func (t *transaction) applyCreate() {
	b := t.account.balance(t.currency)
	switch {
	case t.txType == debit && t.status == complete:
		b.total -= t.amount
	case t.txType == debit && !isFinal(t.status):
		b.held += t.amount
	case t.txType == credit && t.status == complete:
		b.total += t.amount
	}
}

// applyMove settles a live transaction moving to status: a final debit
// releases its hold, and Complete moves the money.
func (t *transaction) applyMove(status string) {
	b := t.account.balance(t.currency)
	if t.txType == debit && isFinal(status) {
		b.held -= t.amount
	}
	if status == complete {
		if t.txType == debit {
			b.total -= t.amount
		} else {
			b.total += t.amount
		}
	}
}

type txView struct {
	ID          string         `json:"id"`
	Collection  string         `json:"collection"`
	Partner     *partnerView   `json:"partner"`
	TxType      string         `json:"tx_type"`
	Subtype     string         `json:"subtype"`
	Status      string         `json:"status"`
	Amount      int64          `json:"amount"`
	Fee         int64          `json:"fee"`
	TotalAmount int64          `json:"total_amount"`
	Account     string         `json:"account"`
	Currency    currency       `json:"currency"`
	User        userView       `json:"user"`
	Metadata    map[string]any `json:"metadata"`
	Reference   string         `json:"reference"`
	Note        string         `json:"note"`
	Created     int64          `json:"created"`
	Updated     int64          `json:"updated"`
	Executed    *int64         `json:"executed"`
}

type partnerView struct {
	ID      string   `json:"id"`
	Account string   `json:"account"`
	User    userView `json:"user"`
}

// txView is the admin transaction object, as webhooks carry it.
func (st *state) txView(t *transaction) txView {
	amount := t.amount
	if t.txType == debit {
		amount = -amount
	}
	v := txView{
		ID: t.id, Collection: t.col.id, TxType: t.txType, Subtype: t.subtype, Status: t.status,
		Amount: amount, TotalAmount: amount, Account: t.account.ref, Currency: st.currencies[t.currency],
		User: t.account.owner.view(), Metadata: t.metadata, Reference: t.reference, Note: t.note,
		Created: t.created, Updated: t.updated,
	}
	if t.partner != nil {
		v.Partner = &partnerView{ID: t.partner.id, Account: t.partner.account.ref, User: t.partner.account.owner.view()}
	}
	if t.executed != 0 {
		executed := t.executed
		v.Executed = &executed
	}
	return v
}

// createLocked checks funds and creates a collection, queueing
// transaction.create for each transaction. Callers take their answer and then
// call startLocked: Rehive answers with the state at creation and processes
// afterwards.
func (s *Sandbox) createLocked(spec collectionSpec, ob *outbox) (*collection, error) {
	type key struct {
		a    *account
		code string
	}
	need := map[key]int64{}
	for _, ts := range spec.txs {
		if ts.txType == debit && ts.status != failed {
			need[key{ts.account, ts.currency}] += ts.amount
		}
	}
	for k, n := range need {
		var avail int64
		if b := k.a.balances[k.code]; b != nil {
			avail = b.available()
		}
		if avail < n {
			return nil, fieldError("amount", "Insufficient balance.")
		}
	}
	now := nowMS()
	col := &collection{id: spec.id, lifecycle: spec.lifecycle, fingerprint: spec.fingerprint, created: now}
	if col.id == "" {
		col.id = newUUID()
	}
	for _, ts := range spec.txs {
		t := &transaction{
			id: ts.id, col: col, txType: ts.txType, subtype: ts.subtype, status: ts.status,
			amount: ts.amount, currency: ts.currency, account: ts.account, metadata: ts.metadata,
			reference: ts.reference, created: now, updated: now,
		}
		if t.id == "" {
			t.id = newUUID()
		}
		if t.metadata == nil {
			t.metadata = map[string]any{}
		}
		if isFinal(t.status) {
			t.executed = now
		}
		t.applyCreate()
		s.st.txs[t.id] = t
		s.st.txOrder = append(s.st.txOrder, t)
		col.txs = append(col.txs, t)
	}
	if spec.transfer {
		col.txs[0].partner, col.txs[1].partner = col.txs[1], col.txs[0]
	}
	col.driver = col.txs[0]
	for _, t := range col.txs {
		if t.txType == debit {
			col.driver = t
			break
		}
	}
	col.managed = spec.lifecycle && s.st.managed[col.driver.currency]
	s.st.collections[col.id] = col
	for _, t := range col.txs {
		s.log.Debug("rehive sandbox: transaction created", "id", t.id, "status", t.status)
		s.queueLocked(ob, eventTransactionCreate, s.st.txView(t))
	}
	return col, nil
}

// startLocked begins the lifecycle of a user-created collection.
func (s *Sandbox) startLocked(col *collection, ob *outbox) {
	if col.lifecycle {
		s.advanceLocked(col, ob)
	}
}

// checkMove reports whether a transaction may be set to status by an admin.
func checkMove(t *transaction, status string) error {
	if status != pending && status != complete && status != failed {
		return fieldError("status", "Status must be Pending, Complete or Failed.")
	}
	if isFinal(t.status) {
		return fieldError("status", "A "+t.status+" transaction cannot change status.")
	}
	return nil
}

// moveLocked moves the live transactions of a collection to status (the
// collection moves as a whole), resolves their pending transitions and lets
// the lifecycle continue.
func (s *Sandbox) moveLocked(col *collection, status string, ob *outbox) {
	now := nowMS()
	for _, t := range col.txs {
		if isFinal(t.status) || t.status == status {
			continue
		}
		t.applyMove(status)
		t.status, t.updated = status, now
		if isFinal(status) {
			t.executed = now
		}
		s.log.Debug("rehive sandbox: transaction moved", "id", t.id, "status", status)
		s.queueLocked(ob, eventTransactionUpdate, s.st.txView(t))
	}
	for _, t := range col.txs {
		for _, tr := range t.transitions {
			if tr.waiting() {
				s.resolveLocked(tr, status != failed, now, ob)
			}
		}
	}
	if col.lifecycle {
		s.advanceLocked(col, ob)
	}
}

func (s *Sandbox) getTransaction(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.pruneLocked(time.Now())
	t := s.st.txs[r.PathValue("id")]
	var v txView
	if t != nil {
		v = s.st.txView(t)
	}
	s.mu.Unlock()
	if t == nil {
		writeError(w, notFound())
		return
	}
	writeData(w, http.StatusOK, v)
}

// patchTransaction handles PATCH /3/admin/transactions/{id}/
// {status?, metadata?, note?}; metadata is a JSON Merge Patch (RFC 7396) of
// the stored object: keys set to null are removed, objects merge, anything
// else replaces.
func (s *Sandbox) patchTransaction(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Status   string          `json:"status"`
		Metadata json.RawMessage `json:"metadata"`
		Note     *string         `json:"note"`
	}
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, err)
		return
	}
	var patch map[string]any
	if req.Metadata != nil && string(req.Metadata) != "null" {
		if err := json.Unmarshal(req.Metadata, &patch); err != nil || patch == nil {
			writeError(w, fieldError("metadata", "Metadata must be an object."))
			return
		}
	}
	var v txView
	err := s.write(func(ob *outbox) error {
		t := s.st.txs[r.PathValue("id")]
		if t == nil {
			return notFound()
		}
		if req.Status != "" {
			if err := checkMove(t, req.Status); err != nil {
				return err
			}
		}
		changed := false
		switch {
		case string(req.Metadata) == "null":
			t.metadata, changed = map[string]any{}, true
		case patch != nil:
			t.metadata, changed = mergePatch(t.metadata, patch), true
		}
		if req.Note != nil && *req.Note != t.note {
			t.note, changed = *req.Note, true
		}
		if req.Status != "" && req.Status != t.status {
			s.moveLocked(t.col, req.Status, ob) // queues the update, with the new metadata
		} else if changed {
			t.updated = nowMS()
			s.queueLocked(ob, eventTransactionUpdate, s.st.txView(t))
		}
		v = s.st.txView(t)
		return nil
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeData(w, http.StatusOK, v)
}

// mergePatch applies a JSON Merge Patch to target and returns the result as
// a new map: stored metadata is shared by views and never mutated.
func mergePatch(target, patch map[string]any) map[string]any {
	out := make(map[string]any, len(target)+len(patch))
	for k, v := range target {
		out[k] = v
	}
	for k, v := range patch {
		switch pv := v.(type) {
		case nil:
			delete(out, k)
		case map[string]any:
			tv, _ := out[k].(map[string]any)
			out[k] = mergePatch(tv, pv)
		default:
			out[k] = v
		}
	}
	return out
}
