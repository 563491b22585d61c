package checkoutcom

import (
	"encoding/json"
	"net/http"
)

// codeNotAllowed marks an action the payment's state does not allow (403).
const codeNotAllowed = "action_not_allowed"

type actionRequest struct {
	Amount    int64                      `json:"amount"` // 0 = everything available
	Reference string                     `json:"reference"`
	Metadata  map[string]json.RawMessage `json:"metadata"`
}

// actionHandler decodes and checks an action request, then runs apply on the
// payment under the lock. apply returns the recorded action, or 422 codes.
func (s *Sandbox) actionHandler(event string, apply func(p *payment, req actionRequest) (*action, string)) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) (int, any) {
		var req actionRequest
		if err := decodeBody(r, w, &req); err != nil {
			return http.StatusUnprocessableEntity, errorBody(w, "request_invalid", []string{"request_body_malformed"})
		}
		var codes []string
		if req.Amount < 0 {
			codes = append(codes, "amount_invalid")
		}
		if len(req.Reference) > 50 {
			codes = append(codes, "reference_invalid")
		}
		if !validMetadata(req.Metadata) {
			codes = append(codes, "metadata_invalid")
		}
		if len(codes) > 0 {
			return http.StatusUnprocessableEntity, errorBody(w, "request_invalid", codes)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		p := s.payments[r.PathValue("id")]
		if p == nil {
			return http.StatusNotFound, nil
		}
		a, code := apply(p, req)
		if code == codeNotAllowed {
			// Checkout.com answers 403, without a body, for an action the
			// payment's state does not allow.
			return http.StatusForbidden, nil
		}
		if code != "" {
			return http.StatusUnprocessableEntity, errorBody(w, "request_invalid", []string{code})
		}
		s.emit(p, event, a)
		s.log.Info("sandbox payment action", "payment", p.id, "action", a.kind, "amount", a.amount, "status", p.status)
		return http.StatusAccepted, map[string]any{
			"action_id": a.id,
			"reference": a.reference,
			"_links":    map[string]any{"payment": link(p.base + "/payments/" + p.id)},
		}
	}
}

// captureAction is POST /payments/{id}/captures: only an authorized payment,
// for at most the authorized amount.
func (s *Sandbox) captureAction(p *payment, req actionRequest) (*action, string) {
	if p.status != statusAuthorized {
		return nil, codeNotAllowed
	}
	amount := req.Amount
	if amount == 0 {
		amount = p.amount
	}
	if amount > p.amount {
		return nil, "capture_amount_exceeds_balance"
	}
	return s.captureLocked(p, amount, req.Reference, req.Metadata), ""
}

// voidAction is POST /payments/{id}/voids: releases a whole authorization.
func (s *Sandbox) voidAction(p *payment, req actionRequest) (*action, string) {
	if p.status != statusAuthorized {
		return nil, codeNotAllowed
	}
	p.status = statusVoided
	p.voided = p.amount
	return s.addAction(p, actionVoid, p.amount, respApproved, req.Reference, req.Metadata), ""
}

// refundAction is POST /payments/{id}/refunds: up to what was captured and
// not yet refunded.
func (s *Sandbox) refundAction(p *payment, req actionRequest) (*action, string) {
	switch p.status {
	case statusCaptured, statusPartiallyCaptured, statusPartiallyRefunded:
	default:
		return nil, codeNotAllowed
	}
	remaining := p.captured - p.refunded
	amount := req.Amount
	if amount == 0 {
		amount = remaining
	}
	if amount > remaining {
		return nil, "refund_amount_exceeds_balance"
	}
	p.refunded += amount
	p.status = statusPartiallyRefunded
	if p.refunded == p.captured {
		p.status = statusRefunded
	}
	return s.addAction(p, actionRefund, amount, respApproved, req.Reference, req.Metadata), ""
}
