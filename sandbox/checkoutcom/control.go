package checkoutcom

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

// state is GET /_control/state: fault settings, sender stats and payments.
func (s *Sandbox) state(w http.ResponseWriter, r *http.Request) {
	cfg, stats := s.faults.Snapshot()
	s.mu.Lock()
	byStatus := map[string]int{}
	payments := make([]map[string]any, 0, len(s.order))
	for _, id := range s.order {
		p := s.payments[id]
		byStatus[p.status]++
		payments = append(payments, p.summary())
	}
	summary := map[string]any{"payments": len(s.order), "by_status": byStatus, "tokens": len(s.tokens)}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"faults": cfg, "stats": stats, "summary": summary, "payments": payments,
	})
}

// controlPayments is GET /_control/payments[?reference=<ref>]: every payment
// (or those of one reference) in creation order, with amounts, statuses,
// metadata and actions, for tests and the soak's invariant checks.
func (s *Sandbox) controlPayments(w http.ResponseWriter, r *http.Request) {
	ref := r.URL.Query().Get("reference")
	s.mu.Lock()
	out := []map[string]any{}
	for _, id := range s.order {
		if p := s.payments[id]; ref == "" || p.reference == ref {
			out = append(out, p.detail())
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"payments": out})
}

// completeThreeDS is POST /_control/3ds/{id} with {"outcome":
// "approved"|"declined"} as JSON, or as a form from the 3-D Secure page (which
// then redirects to the payment's success or failure URL when it has one).
func (s *Sandbox) completeThreeDS(w http.ResponseWriter, r *http.Request) {
	form := strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded")
	var in struct {
		Outcome string `json:"outcome"`
	}
	if form {
		in.Outcome = r.PostFormValue("outcome")
	} else if err := decodeBody(r, w, &in); err != nil {
		invalid(w, "request_body_malformed")
		return
	}
	resp := respApproved
	switch in.Outcome {
	case "approved":
	case "declined":
		resp = respDoNotHonour
	default:
		invalid(w, "outcome_invalid")
		return
	}
	s.mu.Lock()
	p := s.payments[r.PathValue("id")]
	if p == nil {
		s.mu.Unlock()
		http.NotFound(w, r)
		return
	}
	if p.status != statusPending {
		s.mu.Unlock()
		writeJSON(w, http.StatusConflict, errorBody(w, "request_invalid", []string{"payment_not_pending"}))
		return
	}
	s.authorize(p, resp)
	id, status, next := p.id, p.status, p.successURL
	if !p.approved {
		next = p.failureURL
	}
	if next != "" {
		// Checkout.com appends the session id to the return URL.
		if u, err := url.Parse(next); err == nil {
			q := u.Query()
			q.Set("cko-session-id", "sid_"+strings.TrimPrefix(id, "pay_"))
			u.RawQuery = q.Encode()
			next = u.String()
		}
	}
	s.mu.Unlock()
	s.log.Info("sandbox 3ds completed", "payment", id, "status", status)
	switch {
	case form && next != "":
		http.Redirect(w, r, next, http.StatusSeeOther)
	case form:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := donePage.Execute(w, map[string]string{"ID": id, "Status": status}); err != nil {
			s.log.Warn("sandbox 3ds page", "error", err)
		}
	default:
		writeJSON(w, http.StatusOK, map[string]string{"id": id, "status": status})
	}
}

// threeDSPage is GET /3ds/{id}: where a 202's redirect link points. It stands
// in for the issuer's challenge with two buttons.
func (s *Sandbox) threeDSPage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	p := s.payments[r.PathValue("id")]
	var data map[string]any
	if p != nil {
		data = map[string]any{
			"ID": p.id, "Amount": p.amount, "Currency": p.currency, "Reference": p.reference,
			"Status": p.status, "Pending": p.status == statusPending,
			"Action": s.base(r) + "/_control/3ds/" + p.id,
		}
	}
	s.mu.Unlock()
	if p == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := challengePage.Execute(w, data); err != nil {
		s.log.Warn("sandbox 3ds page", "error", err)
	}
}

var challengePage = template.Must(template.New("3ds").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>3-D Secure (sandbox)</title></head>
<body style="font-family: sans-serif; max-width: 30em; margin: 3em auto">
<h1>3-D Secure</h1>
<p>Payment <code>{{.ID}}</code>: {{.Amount}} {{.Currency}} (minor units), reference <code>{{.Reference}}</code>.</p>
{{if .Pending}}
<form method="post" action="{{.Action}}"><input type="hidden" name="outcome" value="approved"><button id="approve">Authenticate</button></form>
<form method="post" action="{{.Action}}"><input type="hidden" name="outcome" value="declined"><button id="decline">Fail authentication</button></form>
{{else}}
<p>Status: {{.Status}}</p>
{{end}}
</body></html>
`))

var donePage = template.Must(template.New("done").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>3-D Secure (sandbox)</title></head>
<body style="font-family: sans-serif; max-width: 30em; margin: 3em auto">
<p>Payment <code>{{.ID}}</code> is now <strong id="status">{{.Status}}</strong>.</p>
</body></html>
`))

// returnPage is GET /return/{outcome}: where payflow's dev configuration
// sends the customer after a 3-D Secure challenge (success_url and
// failure_url), standing in for the shop's own page.
func (s *Sandbox) returnPage(w http.ResponseWriter, r *http.Request) {
	outcome := r.PathValue("outcome")
	if outcome != "success" && outcome != "failure" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := returnTemplate.Execute(w, map[string]string{"Outcome": outcome, "Session": r.URL.Query().Get("cko-session-id")}); err != nil {
		s.log.Warn("sandbox 3ds return page", "error", err)
	}
}

var returnTemplate = template.Must(template.New("return").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Payment {{.Outcome}} (sandbox)</title></head>
<body style="font-family: sans-serif; max-width: 30em; margin: 3em auto">
<p id="outcome">3-D Secure {{if eq .Outcome "success"}}passed{{else}}failed{{end}}{{if .Session}} (session <code>{{.Session}}</code>){{end}}.</p>
<p>The shop learns the payment's outcome from Checkout.com's webhook; this page only ends the customer's detour.</p>
</body></html>
`))
