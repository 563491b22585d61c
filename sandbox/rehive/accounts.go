package rehive

import (
	"crypto/rand"
	"net/http"
	"sort"
	"strings"
)

// account holds a balance per currency. Debits in flight hold funds: the
// available balance is total minus held.
type account struct {
	ref      string
	name     string
	primary  bool
	owner    *user
	balances map[string]*balance
}

type balance struct {
	total int64
	held  int64
}

func (b *balance) available() int64 { return b.total - b.held }

func (st *state) addAccount(owner *user, name string, primary bool) *account {
	a := &account{name: name, primary: primary, owner: owner, balances: map[string]*balance{}}
	for {
		// Rehive references are short upper-case codes.
		a.ref = strings.ToUpper(rand.Text()[:10])
		if st.accounts[a.ref] == nil {
			break
		}
	}
	st.accounts[a.ref] = a
	return a
}

// balance returns the account's entry for code, creating it at zero.
func (a *account) balance(code string) *balance {
	b := a.balances[code]
	if b == nil {
		b = &balance{}
		a.balances[code] = b
	}
	return b
}

type accountView struct {
	Reference  string                `json:"reference"`
	Name       string                `json:"name"`
	Primary    bool                  `json:"primary"`
	User       userView              `json:"user"`
	Currencies []accountCurrencyView `json:"currencies"`
}

type accountCurrencyView struct {
	Balance          int64    `json:"balance"`
	AvailableBalance int64    `json:"available_balance"`
	Currency         currency `json:"currency"`
}

func (st *state) accountView(a *account) accountView {
	v := accountView{Reference: a.ref, Name: a.name, Primary: a.primary, User: a.owner.view(), Currencies: []accountCurrencyView{}}
	codes := make([]string, 0, len(a.balances))
	for code := range a.balances {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, code := range codes {
		b := a.balances[code]
		v.Currencies = append(v.Currencies, accountCurrencyView{Balance: b.total, AvailableBalance: b.available(), Currency: st.currencies[code]})
	}
	return v
}

// listAccounts handles GET /3/accounts/ for the token's owner.
func (s *Sandbox) listAccounts(w http.ResponseWriter, _ *http.Request, u *user) {
	s.mu.Lock()
	views := []accountView{s.st.accountView(u.primary)}
	s.mu.Unlock()
	writeList(w, views)
}
