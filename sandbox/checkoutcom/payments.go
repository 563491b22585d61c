package checkoutcom

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// requestPayment is POST /payments.
func (s *Sandbox) requestPayment(w http.ResponseWriter, r *http.Request) (int, any) {
	var req paymentRequest
	if err := decodeBody(r, w, &req); err != nil {
		return http.StatusUnprocessableEntity, errorBody(w, "request_invalid", []string{"request_body_malformed"})
	}
	amount, codes := req.validate()
	if len(codes) > 0 {
		return http.StatusUnprocessableEntity, errorBody(w, "request_invalid", codes)
	}
	p := &payment{
		id:          newID("pay_"),
		reference:   req.Reference,
		currency:    strings.ToUpper(req.Currency),
		amount:      amount,
		capture:     req.Capture == nil || *req.Capture,
		threeDS:     req.ThreeDS != nil && req.ThreeDS.Enabled,
		metadata:    req.Metadata,
		sourceID:    newID("src_"),
		channel:     req.ProcessingChannelID,
		successURL:  req.SuccessURL,
		failureURL:  req.FailureURL,
		requestedOn: s.now(),
		base:        s.base(r),
	}
	if req.Customer != nil && req.Customer.Email != "" {
		p.customerID, p.email = newID("cus_"), req.Customer.Email
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	c, code := s.useToken(req.Source.Token)
	if code != "" {
		return http.StatusUnprocessableEntity, errorBody(w, "request_invalid", []string{code})
	}
	p.card = c
	s.payments[p.id] = p
	s.order = append(s.order, p.id)

	b := behaviourOf(c)
	switch {
	case b.threeDS && p.threeDS:
		// 3-D Secure was asked for and the card needs a challenge.
		p.status = statusPending
		s.emit(p, "payment_pending", nil)
		s.log.Info("sandbox payment pending 3ds", "payment", p.id, "amount", p.amount)
		return http.StatusAccepted, p.acceptedView()
	case b.threeDS:
		// Strong customer authentication required but not requested: a
		// soft decline.
		s.authorize(p, respSCARequired)
	default:
		// Frictionless: with or without 3-D Secure, the outcome at once.
		s.authorize(p, b.resp)
	}
	s.log.Info("sandbox payment", "payment", p.id, "status", p.status, "amount", p.amount)
	return http.StatusCreated, p.createdView()
}

// createdView is the 201 body: the authorization's outcome.
func (p *payment) createdView() map[string]any {
	auth := p.actions[0]
	v := map[string]any{
		"id":               p.id,
		"action_id":        auth.id,
		"amount":           p.amount,
		"currency":         p.currency,
		"approved":         p.approved,
		"status":           p.status,
		"response_code":    p.resp.code,
		"response_summary": p.resp.summary,
		"source":           p.sourceView(),
		"processed_on":     auth.at.UTC().Format(time.RFC3339Nano),
		"reference":        p.reference,
		"risk":             map[string]bool{"flagged": false},
		"_links":           p.links(),
	}
	if p.approved {
		v["auth_code"] = "770687"
	}
	if p.email != "" {
		v["customer"] = map[string]any{"id": p.customerID, "email": p.email}
	}
	return v
}

// acceptedView is the 202 body of a payment waiting for 3-D Secure.
func (p *payment) acceptedView() map[string]any {
	v := map[string]any{
		"id":        p.id,
		"status":    p.status,
		"reference": p.reference,
		"3ds":       map[string]any{"downgraded": false, "enrolled": "Y"},
		"_links":    p.links(),
	}
	if p.email != "" {
		v["customer"] = map[string]any{"id": p.customerID, "email": p.email}
	}
	return v
}

// getPayment is GET /payments/{id}.
func (s *Sandbox) getPayment(w http.ResponseWriter, r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.payments[r.PathValue("id")]
	if p == nil {
		return http.StatusNotFound, nil
	}
	return http.StatusOK, p.view()
}

// getActions is GET /payments/{id}/actions, newest first.
func (s *Sandbox) getActions(w http.ResponseWriter, r *http.Request) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.payments[r.PathValue("id")]
	if p == nil {
		return http.StatusNotFound, nil
	}
	out := make([]map[string]any, 0, len(p.actions))
	for i := len(p.actions) - 1; i >= 0; i-- {
		out = append(out, p.actions[i].view())
	}
	return http.StatusOK, out
}

// maxPageLimit is the largest limit GET /payments accepts.
const maxPageLimit = 100

// listPayments is GET /payments?reference=&limit=&skip=: the payments of a
// reference, newest first, a page at a time, as
// {limit, skip, total_count, data}.
func (s *Sandbox) listPayments(w http.ResponseWriter, r *http.Request) (int, any) {
	q := r.URL.Query()
	ref := q.Get("reference")
	var codes []string
	if ref == "" {
		codes = append(codes, "reference_required")
	}
	limit, skip := 10, 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageLimit {
			codes = append(codes, "paging_limit_invalid")
		}
		limit = n
	}
	if v := q.Get("skip"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			codes = append(codes, "paging_skip_invalid")
		}
		skip = n
	}
	if len(codes) > 0 {
		return http.StatusUnprocessableEntity, errorBody(w, "request_invalid", codes)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []*payment
	for i := len(s.order) - 1; i >= 0; i-- {
		if p := s.payments[s.order[i]]; p.reference == ref {
			all = append(all, p)
		}
	}
	data := []map[string]any{}
	for i := skip; i < len(all) && len(data) < limit; i++ {
		data = append(data, all[i].view())
	}
	return http.StatusOK, map[string]any{"limit": limit, "skip": skip, "total_count": len(all), "data": data}
}
