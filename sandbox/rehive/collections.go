package rehive

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
)

// collection groups transactions that move together. A user-created
// collection has a lifecycle: its driver (the debit of a transfer) raises
// transitions when the currency is managed, or completes by itself when not.
type collection struct {
	id          string
	txs         []*transaction
	driver      *transaction
	lifecycle   bool
	managed     bool   // lifecycle in a managed currency: waits for the manager
	fingerprint string // of the admin request that created it, for repeats
	created     int64
}

// collectionSpec is a collection to create.
type collectionSpec struct {
	id          string
	txs         []txSpec
	transfer    bool // two transactions that are each other's partner
	lifecycle   bool
	fingerprint string
}

// live returns the first transaction that is not final, else the first one.
func (c *collection) live() *transaction {
	for _, t := range c.txs {
		if !isFinal(t.status) {
			return t
		}
	}
	return c.txs[0]
}

// status is that of the live transactions: they move together.
func (c *collection) status() string { return c.live().status }

type collectionView struct {
	ID           string   `json:"id"`
	Status       string   `json:"status"`
	Transactions []txView `json:"transactions"`
	Created      int64    `json:"created"`
}

func (st *state) collectionView(c *collection) collectionView {
	v := collectionView{ID: c.id, Status: c.status(), Created: c.created}
	for _, t := range c.txs {
		v.Transactions = append(v.Transactions, st.txView(t))
	}
	return v
}

// collectionRequest is the body of POST /3/admin/transaction-collections/.
type collectionRequest struct {
	ID           string `json:"id"`
	Status       string `json:"status"`
	Transactions []struct {
		ID        string         `json:"id"`
		TxType    string         `json:"tx_type"`
		Amount    int64          `json:"amount"`
		Currency  string         `json:"currency"`
		Account   string         `json:"account"`
		User      string         `json:"user"`
		Subtype   string         `json:"subtype"`
		Reference string         `json:"reference"`
		Metadata  map[string]any `json:"metadata"`
		Status    string         `json:"status"`
	} `json:"transactions"`
}

// fingerprint identifies a request's content, so that a repeat with the same
// ids is recognised and a different body under an existing id refused.
func (req *collectionRequest) fingerprint() string {
	b, err := json.Marshal(req) // maps marshal with sorted keys
	if err != nil {
		return "" // unreachable: the request was decoded from JSON
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func validCreateStatus(s string) bool {
	return s == "" || s == initiating || s == quoted || s == pending || s == complete || s == failed
}

// specLocked validates an admin request against the state. A status given on
// the collection or a transaction is set directly; without one the
// transactions start Pending with the user-created lifecycle.
func (s *Sandbox) specLocked(req *collectionRequest, fingerprint string) (collectionSpec, error) {
	spec := collectionSpec{id: req.ID, fingerprint: fingerprint, lifecycle: req.Status == ""}
	if req.ID != "" && !isUUID(req.ID) {
		return spec, fieldError("id", "Must be a valid UUID.")
	}
	if !validCreateStatus(req.Status) {
		return spec, fieldError("status", "Invalid status.")
	}
	if len(req.Transactions) == 0 {
		return spec, fieldError("transactions", "At least one transaction is required.")
	}
	seen := map[string]bool{}
	for _, rt := range req.Transactions {
		switch {
		case rt.ID != "" && (!isUUID(rt.ID) || seen[rt.ID]):
			return spec, fieldError("id", "Transaction ids must be distinct valid UUIDs.")
		case rt.TxType != credit && rt.TxType != debit:
			return spec, fieldError("tx_type", "tx_type must be credit or debit.")
		case rt.Amount <= 0:
			return spec, fieldError("amount", "Ensure this value is greater than 0.")
		case !validCreateStatus(rt.Status):
			return spec, fieldError("status", "Invalid status.")
		}
		if rt.ID != "" {
			seen[rt.ID] = true
		}
		if _, ok := s.st.currencies[rt.Currency]; !ok {
			return spec, fieldError("currency", "Invalid currency.")
		}
		acct, err := s.resolveAccountLocked(rt.User, rt.Account)
		if err != nil {
			return spec, err
		}
		status := rt.Status
		if status != "" {
			spec.lifecycle = false
		} else if status = req.Status; status == "" {
			status = pending
		}
		spec.txs = append(spec.txs, txSpec{
			id: rt.ID, txType: rt.TxType, amount: rt.Amount, currency: rt.Currency, account: acct,
			subtype: rt.Subtype, reference: rt.Reference, metadata: rt.Metadata, status: status,
		})
	}
	return spec, nil
}

// resolveAccountLocked finds the account a transaction is for: the given
// reference (which must belong to the user, if one is named) or the user's
// primary account.
func (s *Sandbox) resolveAccountLocked(userRef, accountRef string) (*account, error) {
	var u *user
	if userRef != "" {
		if u = s.st.findUser(userRef); u == nil {
			return nil, fieldError("user", "User does not exist.")
		}
	}
	switch {
	case accountRef != "":
		a := s.st.accounts[accountRef]
		if a == nil || (u != nil && a.owner != u) {
			return nil, fieldError("account", "Account does not exist.")
		}
		return a, nil
	case u != nil:
		return u.primary, nil
	}
	return nil, fieldError("user", "A user or an account is required.")
}

// existingLocked finds the collection a request's ids already name. A repeat
// of the same request returns it; a different request is refused.
func (s *Sandbox) existingLocked(req *collectionRequest, fingerprint string) (*collection, error) {
	col := s.st.collections[req.ID]
	for _, rt := range req.Transactions {
		if t := s.st.txs[rt.ID]; col == nil && t != nil {
			col = t.col
		}
	}
	if col == nil {
		return nil, nil
	}
	if col.fingerprint == "" || col.fingerprint != fingerprint {
		return nil, fieldError("id", "A transaction or collection with this id already exists.")
	}
	return col, nil
}

// createCollection handles POST /3/admin/transaction-collections/.
func (s *Sandbox) createCollection(w http.ResponseWriter, r *http.Request) {
	var req collectionRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, err)
		return
	}
	fingerprint := req.fingerprint()
	status := http.StatusCreated
	var v collectionView
	err := s.write(func(ob *outbox) error {
		col, err := s.existingLocked(&req, fingerprint)
		if err != nil {
			return err
		}
		if col != nil {
			status = http.StatusOK
			v = s.st.collectionView(col)
			return nil
		}
		spec, err := s.specLocked(&req, fingerprint)
		if err != nil {
			return err
		}
		if col, err = s.createLocked(spec, ob); err != nil {
			return err
		}
		v = s.st.collectionView(col)
		s.startLocked(col, ob)
		return nil
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeData(w, status, v)
}

func (s *Sandbox) getCollection(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	c := s.st.collections[r.PathValue("id")]
	var v collectionView
	if c != nil {
		v = s.st.collectionView(c)
	}
	s.mu.Unlock()
	if c == nil {
		writeError(w, notFound())
		return
	}
	writeData(w, http.StatusOK, v)
}

// patchCollection handles PATCH /3/admin/transaction-collections/{id}/
// {status}: every live transaction moves.
func (s *Sandbox) patchCollection(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Status string `json:"status"`
	}
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, err)
		return
	}
	var v collectionView
	err := s.write(func(ob *outbox) error {
		c := s.st.collections[r.PathValue("id")]
		if c == nil {
			return notFound()
		}
		if err := checkMove(c.live(), req.Status); err != nil {
			return err
		}
		s.moveLocked(c, req.Status, ob)
		v = s.st.collectionView(c)
		return nil
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeData(w, http.StatusOK, v)
}
