package checkoutcom

import (
	"encoding/json"
	"net/http"
	"time"
)

// actionDelay is how long a capture, refund or void takes to be processed
// after its 202: the outcome arrives later, as on Checkout.com.
const actionDelay = 50 * time.Millisecond

// codeNotAllowed marks an action the payment's state does not allow (403).
const codeNotAllowed = "action_not_allowed"

type actionRequest struct {
	Amount    int64                      `json:"amount"` // 0 = everything available
	Reference string                     `json:"reference"`
	Metadata  map[string]json.RawMessage `json:"metadata"`
}

// actionKind is one of capture, refund and void: how it is checked, applied
// and announced.
type actionKind struct {
	name           string // Capture, Refund, Void
	done, declined string // webhook types of the outcome
	pending        string // webhook type sent first when the outcome is a decline
	check          func(p *payment, req actionRequest) (int64, string)
	apply          func(p *payment, amount int64)
	declinedFor    func(b behaviour) bool
}

var (
	captureKind = actionKind{
		name: actionCapture, done: "payment_captured", declined: "payment_capture_declined", pending: "payment_capture_pending",
		check: func(p *payment, req actionRequest) (int64, string) {
			if p.status != statusAuthorized {
				return 0, codeNotAllowed
			}
			amount := req.Amount
			if amount == 0 {
				amount = p.amount
			}
			if amount > p.amount {
				return 0, "capture_amount_exceeds_balance"
			}
			return amount, ""
		},
		apply: func(p *payment, amount int64) {
			p.captured = amount
			p.status = statusCaptured
			if amount < p.amount {
				p.status = statusPartiallyCaptured
			}
		},
		declinedFor: func(b behaviour) bool { return b.declineCapture },
	}
	voidKind = actionKind{
		name: actionVoid, done: "payment_voided", declined: "payment_void_declined", pending: "",
		check: func(p *payment, _ actionRequest) (int64, string) {
			if p.status != statusAuthorized {
				return 0, codeNotAllowed
			}
			return p.amount, ""
		},
		apply: func(p *payment, amount int64) {
			p.status = statusVoided
			p.voided = amount
		},
		declinedFor: func(b behaviour) bool { return b.declineVoids },
	}
	refundKind = actionKind{
		name: actionRefund, done: "payment_refunded", declined: "payment_refund_declined", pending: "payment_refund_pending",
		check: func(p *payment, req actionRequest) (int64, string) {
			switch p.status {
			case statusCaptured, statusPartiallyCaptured, statusPartiallyRefunded:
			default:
				return 0, codeNotAllowed
			}
			remaining := p.captured - p.refunded
			amount := req.Amount
			if amount == 0 {
				amount = remaining
			}
			if amount > remaining {
				return 0, "refund_amount_exceeds_balance"
			}
			return amount, ""
		},
		apply: func(p *payment, amount int64) {
			p.refunded += amount
			p.status = statusPartiallyRefunded
			if p.refunded == p.captured {
				p.status = statusRefunded
			}
		},
		declinedFor: func(b behaviour) bool { return b.declineRefunds },
	}
)

// actionHandler serves POST /payments/{id}/captures|refunds|voids: it checks
// the request against the payment's state (403 when the state does not allow
// it, 422 for a bad amount), answers 202 with the action id and processes
// the action actionDelay later: the outcome is then in GET /payments/{id},
// /actions and a webhook. While an action is being processed the payment
// allows no other (403).
func (s *Sandbox) actionHandler(kind actionKind) apiFunc {
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
		amount, code := kind.check(p, req)
		if code == codeNotAllowed || (code == "" && p.processing > 0) {
			// Checkout.com answers 403, without a body, for an action the
			// payment's state does not allow.
			return http.StatusForbidden, nil
		}
		if code != "" {
			return http.StatusUnprocessableEntity, errorBody(w, "request_invalid", []string{code})
		}
		id := newID("act_")
		p.processing++
		s.schedule(actionDelay, func() { s.process(p.id, id, kind, amount, req.Reference, req.Metadata) })
		s.log.Info("sandbox payment action accepted", "payment", p.id, "action", kind.name, "amount", amount)
		return http.StatusAccepted, map[string]any{
			"action_id": id,
			"reference": req.Reference,
			"_links":    map[string]any{"payment": link(p.base + "/payments/" + p.id)},
		}
	}
}

// process decides an accepted action: approved (the payment moves) or, for
// the documented test cards, declined (it stays), then announces it.
func (s *Sandbox) process(paymentID, actionID string, kind actionKind, amount int64, reference string, metadata map[string]json.RawMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.payments[paymentID]
	p.processing--
	resp := respApproved
	if kind.declinedFor(behaviourOf(p.card)) {
		resp = respActionFailed
	}
	a := s.addAction(p, kind.name, amount, resp, reference, metadata)
	a.id = actionID
	if !a.approved {
		if kind.pending != "" {
			s.emit(p, kind.pending, a)
		}
		s.emit(p, kind.declined, a)
		s.log.Info("sandbox payment action declined", "payment", p.id, "action", kind.name, "status", p.status)
		return
	}
	kind.apply(p, amount)
	s.emit(p, kind.done, a)
	s.log.Info("sandbox payment action", "payment", p.id, "action", kind.name, "amount", amount, "status", p.status)
}
