package rehive

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxPageSize is the largest page_size the admin list accepts.
const maxPageSize = 250

// listTransactions handles GET /3/admin/transactions/ with Rehive's filters
// account (reference), tx_type, user (id or email), status, created__gt and
// created__lt (epoch ms), page_size (default 15) and page, newest first,
// as {count, next, previous, results}.
func (s *Sandbox) listTransactions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	size, page := 15, 1
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			writeError(w, fieldError("page_size", "Ensure this value is between 1 and 250."))
			return
		}
		size = n
	}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, &apiError{status: http.StatusNotFound, message: "Invalid page."})
			return
		}
		page = n
	}
	var after, before int64
	for name, dst := range map[string]*int64{"created__gt": &after, "created__lt": &before} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				writeError(w, fieldError(name, "Enter a number."))
				return
			}
			*dst = n
		}
	}
	account, txType, status, userRef := q.Get("account"), q.Get("tx_type"), q.Get("status"), q.Get("user")

	s.mu.Lock()
	s.pruneLocked(time.Now())
	var u *user
	if userRef != "" {
		if u = s.st.findUser(userRef); u == nil {
			s.mu.Unlock()
			writeList(w, []txView{})
			return
		}
	}
	var match []txView
	for i := len(s.st.txOrder) - 1; i >= 0; i-- {
		t := s.st.txOrder[i]
		switch {
		case account != "" && t.account.ref != account,
			txType != "" && t.txType != txType,
			status != "" && !strings.EqualFold(t.status, status),
			u != nil && t.account.owner != u,
			after != 0 && t.created <= after,
			before != 0 && t.created >= before:
			continue
		}
		match = append(match, s.st.txView(t))
	}
	s.mu.Unlock()

	start := min((page-1)*size, len(match))
	end := min(start+size, len(match))
	if page > 1 && start >= len(match) {
		writeError(w, &apiError{status: http.StatusNotFound, message: "Invalid page."})
		return
	}
	pageURL := func(n int) any {
		if n < 1 || (n-1)*size >= len(match) {
			return nil
		}
		v := r.URL.Query()
		v.Set("page", strconv.Itoa(n))
		return s.externalURL(r) + "?" + v.Encode()
	}
	results := match[start:end]
	if results == nil {
		results = []txView{}
	}
	writeData(w, http.StatusOK, map[string]any{
		"count": len(match), "next": pageURL(page + 1), "previous": pageURL(page - 1), "results": results,
	})
}

// externalURL is the request's path on the sandbox's external base.
func (s *Sandbox) externalURL(r *http.Request) string {
	base := strings.TrimRight(s.cfg.BaseURL, "/")
	if base == "" {
		u := url.URL{Scheme: "http", Host: r.Host}
		if r.TLS != nil {
			u.Scheme = "https"
		}
		base = u.String() + prefix
	}
	return base + strings.TrimPrefix(r.URL.Path, prefix)
}

// controlListTransactions handles GET /_control/transactions: every
// transaction in creation order, with its messages and transitions.
func (s *Sandbox) controlListTransactions(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	out := make([]controlTx, 0, len(s.st.txOrder))
	for _, t := range s.st.txOrder {
		out = append(out, s.controlViewLocked(t))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"transactions": out})
}
