package checkoutcom

import (
	"encoding/json"
	"time"
)

// Statuses, action types and gateway responses the sandbox produces.
const (
	statusPending           = "Pending"
	statusAuthorized        = "Authorized"
	statusDeclined          = "Declined"
	statusCaptured          = "Captured"
	statusPartiallyCaptured = "Partially Captured"
	statusVoided            = "Voided"
	statusRefunded          = "Refunded"
	statusPartiallyRefunded = "Partially Refunded"

	actionAuthorization = "Authorization"
	actionCapture       = "Capture"
	actionVoid          = "Void"
	actionRefund        = "Refund"
)

type gatewayResponse struct{ code, summary string }

var (
	respApproved          = gatewayResponse{"10000", "Approved"}
	respDoNotHonour       = gatewayResponse{"20005", "Declined - Do Not Honour"}
	respInsufficientFunds = gatewayResponse{"20051", "Insufficient Funds"}
)

type payment struct {
	id, reference, currency string
	amount                  int64
	status                  string
	approved                bool
	resp                    gatewayResponse
	capture                 bool
	threeDS                 bool
	metadata                map[string]json.RawMessage // echoed as sent
	customerID, email       string
	sourceID                string
	card                    card
	channel                 string
	successURL, failureURL  string
	requestedOn             time.Time
	base                    string // external base URL for _links

	captured, refunded, voided int64
	processing                 int // actions accepted (202) and not yet processed
	actions                    []*action
	nextEvent                  time.Time // earliest send time of the next webhook
}

type action struct {
	id, kind  string
	at        time.Time
	amount    int64
	approved  bool
	resp      gatewayResponse
	reference string
	metadata  map[string]json.RawMessage
}

// addAction records an action and returns it. s.mu must be held.
func (s *Sandbox) addAction(p *payment, kind string, amount int64, resp gatewayResponse, reference string, metadata map[string]json.RawMessage) *action {
	a := &action{
		id: newID("act_"), kind: kind, at: s.now(), amount: amount,
		approved: resp == respApproved, resp: resp, reference: reference, metadata: metadata,
	}
	p.actions = append(p.actions, a)
	return a
}

// authorize settles a payment's authorization outcome, queues its webhook and
// the automatic capture. s.mu must be held.
func (s *Sandbox) authorize(p *payment, resp gatewayResponse) {
	a := s.addAction(p, actionAuthorization, p.amount, resp, p.reference, nil)
	p.resp = resp
	p.approved = a.approved
	if !a.approved {
		p.status = statusDeclined
		s.emit(p, "payment_declined", a)
		return
	}
	p.status = statusAuthorized
	s.emit(p, "payment_approved", a)
	if p.capture {
		id := p.id
		s.schedule(eventDelay, func() { s.autoCapture(id) })
	}
}

// autoCapture captures a capture:true payment that is still only authorized
// (a void or manual capture may have come first); the capture-declined
// test card is declined, and the payment stays Authorized.
func (s *Sandbox) autoCapture(id string) {
	s.mu.Lock()
	p := s.payments[id]
	if p == nil || p.status != statusAuthorized || p.processing > 0 {
		s.mu.Unlock()
		return
	}
	p.processing++
	s.mu.Unlock()
	s.process(id, newID("act_"), captureKind, p.amount, "", nil)
}

// view is the GET /payments/{id} body.
func (p *payment) view() map[string]any {
	v := map[string]any{
		"id":           p.id,
		"requested_on": p.requestedOn.UTC().Format(time.RFC3339Nano),
		"source":       p.sourceView(),
		"amount":       p.amount,
		"currency":     p.currency,
		"payment_type": "Regular",
		"reference":    p.reference,
		"status":       p.status,
		"approved":     p.approved,
		"balances":     p.balances(),
		"_links":       p.links(),
	}
	if p.resp.code != "" {
		v["response_code"], v["response_summary"] = p.resp.code, p.resp.summary
	}
	if p.email != "" {
		v["customer"] = map[string]any{"id": p.customerID, "email": p.email}
	}
	if len(p.metadata) > 0 {
		v["metadata"] = p.metadata
	}
	if p.channel != "" {
		v["processing_channel_id"] = p.channel
	}
	if p.threeDS {
		v["3ds"] = map[string]any{"downgraded": false, "enrolled": "Y"}
	}
	return v
}

func (p *payment) sourceView() map[string]any {
	return map[string]any{
		"id": p.sourceID, "type": "card", "scheme": p.card.scheme(),
		"last4": p.card.last4(), "bin": p.card.bin(),
		"expiry_month": p.card.expiryMonth, "expiry_year": p.card.expiryYear,
	}
}

func (p *payment) balances() map[string]int64 {
	authorized := int64(0)
	if p.status != statusPending && p.status != statusDeclined {
		authorized = p.amount
	}
	toCapture, toVoid := int64(0), int64(0)
	if p.status == statusAuthorized {
		toCapture, toVoid = p.amount, p.amount
	}
	return map[string]int64{
		"total_authorized":     authorized,
		"total_voided":         p.voided,
		"available_to_void":    toVoid,
		"total_captured":       p.captured,
		"available_to_capture": toCapture,
		"total_refunded":       p.refunded,
		"available_to_refund":  p.captured - p.refunded,
	}
}

func (p *payment) links() map[string]any {
	self := p.base + "/payments/" + p.id
	l := map[string]any{
		"self":    link(self),
		"actions": link(self + "/actions"),
	}
	switch p.status {
	case statusPending:
		l["redirect"] = link(p.base + "/3ds/" + p.id)
	case statusAuthorized:
		l["capture"], l["void"] = link(self+"/captures"), link(self+"/voids")
	case statusCaptured, statusPartiallyCaptured, statusPartiallyRefunded:
		l["refund"] = link(self + "/refunds")
	}
	return l
}

func link(href string) map[string]string { return map[string]string{"href": href} }

// detail is a payment's entry in GET /_control/payments: the summary plus
// metadata and every action, oldest first.
func (p *payment) detail() map[string]any {
	v := p.summary()
	v["metadata"] = p.metadata
	v["capture"] = p.capture
	v["three_ds"] = p.threeDS
	actions := make([]map[string]any, 0, len(p.actions))
	for _, a := range p.actions {
		actions = append(actions, a.view())
	}
	v["actions"] = actions
	return v
}

// view is an action as GET /payments/{id}/actions shows it.
func (a *action) view() map[string]any {
	v := map[string]any{
		"id":               a.id,
		"type":             a.kind,
		"processed_on":     a.at.UTC().Format(time.RFC3339Nano),
		"amount":           a.amount,
		"approved":         a.approved,
		"response_code":    a.resp.code,
		"response_summary": a.resp.summary,
		"reference":        a.reference,
	}
	if len(a.metadata) > 0 {
		v["metadata"] = a.metadata
	}
	return v
}

// summary is a payment's line in the control endpoints.
func (p *payment) summary() map[string]any {
	return map[string]any{
		"id": p.id, "status": p.status, "approved": p.approved,
		"amount": p.amount, "currency": p.currency, "reference": p.reference,
		"captured": p.captured, "refunded": p.refunded, "voided": p.voided,
		"actions": len(p.actions), "response_code": p.resp.code,
	}
}
