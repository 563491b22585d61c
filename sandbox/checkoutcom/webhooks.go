package checkoutcom

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"
)

// emit builds a webhook now (its id and created_on are the moment of the
// action) and sends it at least eventDelay later and eventDelay after the
// payment's previous webhook, so one payment's events normally arrive in
// order (delivery order is still not guaranteed, as on Checkout.com).
// a may be nil (payment_pending). s.mu must be held.
func (s *Sandbox) emit(p *payment, eventType string, a *action) {
	body := s.eventBody(p, eventType, a)
	if body == nil {
		return
	}
	now := s.now()
	at := now.Add(eventDelay)
	if at.Before(p.nextEvent) {
		at = p.nextEvent
	}
	p.nextEvent = at.Add(eventDelay)
	s.schedule(at.Sub(now), func() { s.sender.Send(body) })
}

// eventBody renders a Checkout.com webhook, or nil (logged) if it cannot be
// encoded. s.mu must be held.
func (s *Sandbox) eventBody(p *payment, eventType string, a *action) []byte {
	now := s.now().UTC()
	data := map[string]any{
		"id":           p.id,
		"amount":       p.amount,
		"currency":     p.currency,
		"reference":    p.reference,
		"status":       p.status,
		"payment_type": "Regular",
		"processed_on": now.Format(time.RFC3339Nano),
		"source":       p.sourceView(),
	}
	if a != nil {
		data["action_id"] = a.id
		data["amount"] = a.amount
		data["response_code"] = a.resp.code
		data["response_summary"] = a.resp.summary
		data["processed_on"] = a.at.UTC().Format(time.RFC3339Nano)
	}
	if len(p.metadata) > 0 {
		data["metadata"] = p.metadata
	}
	if p.email != "" {
		data["customer"] = map[string]any{"id": p.customerID, "email": p.email}
	}
	id := newID("evt_")
	ev := map[string]any{
		"id":         id,
		"type":       eventType,
		"version":    "1.0.33",
		"created_on": now.Format(time.RFC3339Nano),
		"data":       data,
		"_links": map[string]any{
			"self":    link(p.base + "/workflows/events/" + id),
			"subject": link(p.base + "/workflows/events/subject/" + p.id),
			"payment": link(p.base + "/payments/" + p.id),
		},
	}
	b, err := json.Marshal(ev)
	if err != nil {
		s.log.Error("sandbox webhook not sent: encode", "payment", p.id, "type", eventType, "error", err)
		return nil
	}
	return b
}

// sign sets the headers Checkout.com sends with every webhook.
func (s *Sandbox) sign(h http.Header, body []byte) {
	h.Set("Authorization", s.cfg.WebhookAuthKey)
	mac := hmac.New(sha256.New, []byte(s.cfg.WebhookSignatureKey))
	mac.Write(body)
	h.Set("Cko-Signature", hex.EncodeToString(mac.Sum(nil)))
}
