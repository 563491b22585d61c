package rehive

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
)

// Tolerant decoding of Rehive payloads: documentation and guides disagree on
// spellings (partner / partner_id, collection / collection_id) and shapes
// (currency as an object or a code, ids as strings or numbers), so each of
// them is accepted. Errors never quote the offending value.

var errNotInteger = errors.New("rehive: amount is not an integer")

// flexInt is an integer that may arrive as a number, an integral float
// (1000.0) or a string of digits; null is 0.
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*n = 0
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		b = []byte(s)
	}
	if v, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		*n = flexInt(v)
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	// Beyond 2^53 a float no longer holds every integer exactly.
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return errNotInteger
	}
	*n = flexInt(f)
	return nil
}

// accountRef is an account reference given as a string or as an object with
// a "reference".
type accountRef string

func (a *accountRef) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var obj struct {
			Reference string `json:"reference"`
		}
		if err := json.Unmarshal(b, &obj); err != nil {
			return err
		}
		*a = accountRef(obj.Reference)
		return nil
	}
	s, err := scalarID(b)
	*a = accountRef(s)
	return err
}

func isObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{'
}

// UnmarshalJSON accepts the documented object and the partner_id /
// collection_id spellings.
func (t *Transaction) UnmarshalJSON(b []byte) error {
	var w struct {
		ID           ID             `json:"id"`
		Collection   idRef          `json:"collection"`
		CollectionID idRef          `json:"collection_id"`
		Partner      *Partner       `json:"partner"`
		PartnerID    *Partner       `json:"partner_id"`
		TxType       string         `json:"tx_type"`
		Subtype      string         `json:"subtype"`
		Status       string         `json:"status"`
		Amount       flexInt        `json:"amount"`
		Fee          flexInt        `json:"fee"`
		TotalAmount  flexInt        `json:"total_amount"`
		Account      accountRef     `json:"account"`
		Currency     Currency       `json:"currency"`
		User         User           `json:"user"`
		Metadata     map[string]any `json:"metadata"`
		Reference    string         `json:"reference"`
		Note         string         `json:"note"`
		Created      flexInt        `json:"created"`
		Updated      flexInt        `json:"updated"`
		Executed     flexInt        `json:"executed"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*t = Transaction{
		ID: w.ID, Collection: ID(w.Collection), Partner: w.Partner,
		TxType: w.TxType, Subtype: w.Subtype, Status: w.Status,
		Amount: int64(w.Amount), Fee: int64(w.Fee), TotalAmount: int64(w.TotalAmount),
		Account: string(w.Account), Currency: w.Currency, User: w.User, Metadata: w.Metadata,
		Reference: w.Reference, Note: w.Note,
		Created: int64(w.Created), Updated: int64(w.Updated), Executed: int64(w.Executed),
	}
	if t.Collection == "" {
		t.Collection = ID(w.CollectionID)
	}
	if t.Partner == nil || t.Partner.ID == "" {
		if w.PartnerID != nil && w.PartnerID.ID != "" {
			t.Partner = w.PartnerID
		}
	}
	if t.Partner != nil && t.Partner.ID == "" && t.Partner.Account == "" {
		t.Partner = nil // "partner": {} or "" carries nothing
	}
	return nil
}

// UnmarshalJSON accepts an object or a bare partner transaction id.
func (p *Partner) UnmarshalJSON(b []byte) error {
	if !isObject(b) {
		s, err := scalarID(b)
		*p = Partner{ID: ID(s)}
		return err
	}
	var w struct {
		ID        ID         `json:"id"`
		Reference string     `json:"reference"`
		Account   accountRef `json:"account"`
		User      *User      `json:"user"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*p = Partner{ID: w.ID, Reference: w.Reference, Account: string(w.Account), User: w.User}
	return nil
}

// UnmarshalJSON accepts an object or a bare currency code.
func (c *Currency) UnmarshalJSON(b []byte) error {
	if !isObject(b) {
		s, err := scalarID(b)
		*c = Currency{Code: s}
		return err
	}
	var w struct {
		Code         string  `json:"code"`
		Divisibility flexInt `json:"divisibility"`
		Symbol       string  `json:"symbol"`
		Description  string  `json:"description"`
		Unit         string  `json:"unit"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*c = Currency{Code: w.Code, Divisibility: int(w.Divisibility), Symbol: w.Symbol, Description: w.Description, Unit: w.Unit}
	return nil
}

// UnmarshalJSON accepts an object or a bare user id.
func (u *User) UnmarshalJSON(b []byte) error {
	if !isObject(b) {
		s, err := scalarID(b)
		*u = User{ID: ID(s)}
		return err
	}
	var w struct {
		ID    ID     `json:"id"`
		Email string `json:"email"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*u = User(w)
	return nil
}

// UnmarshalJSON accepts the transaction as an object, as an id, or as
// transaction_id.
func (t *Transition) UnmarshalJSON(b []byte) error {
	var w struct {
		ID            ID              `json:"id"`
		Transaction   json.RawMessage `json:"transaction"`
		TransactionID idRef           `json:"transaction_id"`
		Status        string          `json:"status"`
		FromStatus    string          `json:"from_status"`
		ToStatus      string          `json:"to_status"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*t = Transition{ID: w.ID, Status: w.Status, FromStatus: w.FromStatus, ToStatus: w.ToStatus}
	switch {
	case isObject(w.Transaction):
		if err := json.Unmarshal(w.Transaction, &t.Transaction); err != nil {
			return err
		}
	case len(w.Transaction) > 0:
		s, err := scalarID(w.Transaction)
		if err != nil {
			return err
		}
		t.Transaction.ID = ID(s)
	}
	if t.Transaction.ID == "" {
		t.Transaction.ID = ID(w.TransactionID)
	}
	return nil
}

// UnmarshalJSON accepts balances as numbers or strings.
func (a *AccountCurrency) UnmarshalJSON(b []byte) error {
	var w struct {
		Balance          flexInt  `json:"balance"`
		AvailableBalance flexInt  `json:"available_balance"`
		Currency         Currency `json:"currency"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*a = AccountCurrency{Balance: int64(w.Balance), AvailableBalance: int64(w.AvailableBalance), Currency: w.Currency}
	return nil
}
