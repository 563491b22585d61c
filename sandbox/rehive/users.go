package rehive

import (
	"crypto/rand"
	"crypto/subtle"
	"net/http"
	"strings"
)

// user is a customer (or the merchant); immutable once created.
type user struct {
	id       string
	email    string
	password string
	token    string // what login returns; one per user
	primary  *account
}

type userView struct {
	ID    string `json:"id"`
	Email string `json:"email"`
}

func (u *user) view() userView { return userView{ID: u.id, Email: u.email} }

// addUser creates a user with one primary account holding balances.
func (st *state) addUser(email, password string, balances map[string]int64) *user {
	u := &user{id: newUUID(), email: email, password: password, token: rand.Text()}
	u.primary = st.addAccount(u, "default", true)
	for code, amount := range balances {
		u.primary.balance(code).total = amount
	}
	st.users[u.id] = u
	st.byEmail[strings.ToLower(email)] = u
	st.byToken[u.token] = u
	return u
}

// findUser resolves a user given by id or email.
func (st *state) findUser(idOrEmail string) *user {
	if u := st.users[idOrEmail]; u != nil {
		return u
	}
	return st.byEmail[strings.ToLower(idOrEmail)]
}

// login handles POST /3/auth/login/ {user, company, password}.
func (s *Sandbox) login(w http.ResponseWriter, r *http.Request) {
	var req struct {
		User     string `json:"user"`
		Company  string `json:"company"`
		Password string `json:"password"`
	}
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, err)
		return
	}
	for _, f := range [][2]string{{"user", req.User}, {"company", req.Company}, {"password", req.Password}} {
		if f[1] == "" {
			writeError(w, fieldError(f[0], "This field is required."))
			return
		}
	}
	s.mu.Lock()
	u := s.st.findUser(req.User)
	ok := u != nil && req.Company == s.st.company &&
		subtle.ConstantTimeCompare([]byte(req.Password), []byte(u.password)) == 1
	s.mu.Unlock()
	if !ok {
		writeError(w, invalid("Unable to log in with provided credentials."))
		return
	}
	writeData(w, http.StatusOK, map[string]any{"token": u.token, "user": u.view()})
}

// controlCreateUser handles POST /_control/users
// {"email","password","balances":{"USD":100000}}.
func (s *Sandbox) controlCreateUser(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Email    string           `json:"email"`
		Password string           `json:"password"`
		Balances map[string]int64 `json:"balances"`
	}
	if err := decodeJSON(r, &req); err != nil {
		writeControlError(w, err)
		return
	}
	if !strings.Contains(req.Email, "@") || req.Password == "" {
		writeControlError(w, invalid("email and password are required"))
		return
	}
	var u *user
	err := s.write(func(*outbox) error {
		if s.st.byEmail[strings.ToLower(req.Email)] != nil {
			return invalid("a user with this email exists")
		}
		for code, amount := range req.Balances {
			if _, ok := s.st.currencies[code]; !ok || amount < 0 {
				return invalid("balances need known currencies and amounts >= 0")
			}
		}
		u = s.st.addUser(req.Email, req.Password, req.Balances)
		return nil
	})
	if err != nil {
		writeControlError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"id": u.id, "email": u.email, "company": s.cfg.Company, "account": u.primary.ref, "token": u.token,
	})
}

// controlMerchant handles GET /_control/merchant.
func (s *Sandbox) controlMerchant(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	m := s.st.merchant
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"email": m.email, "account": m.primary.ref})
}
