package api

import (
	"context"
	"database/sql"
	"net/http"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/payflow/payflow/inbox"
	"github.com/payflow/payflow/providers/checkoutcom"
	"github.com/payflow/payflow/providers/ledger"
	"github.com/payflow/payflow/providers/rehive"
	"github.com/payflow/payflow/store"
)

// webhookRoutes mounts the provider webhook endpoints (each provider's own auth).
func (s *server) webhookRoutes(r fiber.Router) {
	r.Post("/checkoutcom", s.checkoutcomWebhook)
	r.Post("/rehive", s.rehiveWebhook)
	r.Post("/ledger", s.ledgerWebhook)
}

func (s *server) checkoutcomWebhook(c *fiber.Ctx) error {
	cfg := s.Config.CheckoutCom
	if err := checkoutcom.VerifyWebhook(c.Get(fiber.HeaderAuthorization), c.Get("Cko-Signature"), c.Body(), cfg.WebhookAuthKey, cfg.WebhookSignatureKey); err != nil {
		return s.rejectWebhook(inbox.CheckoutCom)
	}
	return s.acceptWebhook(c, inbox.CheckoutCom)
}

func (s *server) rehiveWebhook(c *fiber.Ctx) error {
	if err := rehive.VerifyWebhook(c.Get(fiber.HeaderAuthorization), s.Config.Rehive.WebhookSecret); err != nil {
		return s.rejectWebhook(inbox.Rehive)
	}
	// The secret is per webhook, but an event of another company is not ours.
	if ev, err := rehive.ParseWebhook(c.Body()); err == nil && ev.Company != "" && ev.Company != s.Config.Rehive.Company {
		return s.rejectWebhook(inbox.Rehive)
	}
	return s.acceptWebhook(c, inbox.Rehive)
}

func (s *server) ledgerWebhook(c *fiber.Ctx) error {
	if err := ledger.VerifyWebhook(c.Get(ledger.SignatureHeader), c.Body(), s.Config.Ledger.WebhookSecret, time.Now(), ledger.DefaultTolerance); err != nil {
		return s.rejectWebhook(inbox.Ledger)
	}
	return s.acceptWebhook(c, inbox.Ledger)
}

func (s *server) rejectWebhook(provider string) error {
	s.metrics.webhooks.WithLabelValues(provider, "rejected").Inc()
	return errorf(http.StatusUnauthorized, "invalid_webhook_credentials", "webhook authentication failed")
}

// acceptWebhook records a verified event durably, answers, and delivers it
// to its workflow right away; the relay retries what could not be delivered.
// A duplicate is answered 200 and not delivered again.
func (s *server) acceptWebhook(c *fiber.Ctx, provider string) error {
	body := append([]byte(nil), c.Body()...)
	route, err := inbox.RouteEvent(provider, body, s.Inbox.Policy)
	if err != nil {
		s.metrics.webhooks.WithLabelValues(provider, "malformed").Inc()
		return errorf(http.StatusBadRequest, "malformed_webhook", "the event could not be parsed")
	}
	body = inbox.Redact(provider, body)
	status := route.Status
	if status == "" {
		status = store.InboxPending
	}
	rec, inserted, err := s.Store.RecordWebhook(c.UserContext(), store.InboxEvent{
		Provider: provider, EventID: route.EventID, EventType: route.EventType,
		WorkflowID: sql.NullString{String: route.WorkflowID, Valid: route.WorkflowID != ""},
		Payload:    body, Status: status, Note: route.Note,
	})
	if store.IsInvalidData(err) {
		s.metrics.webhooks.WithLabelValues(provider, "malformed").Inc()
		return errorf(http.StatusBadRequest, "malformed_webhook", "the event holds data that cannot be stored")
	}
	if err != nil {
		// Not recorded, so not acknowledged: the provider will retry.
		return s.storeError(err)
	}
	outcome := "duplicate"
	if inserted {
		outcome = status
		if status == store.InboxPending {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			if err := s.Inbox.Deliver(ctx, rec, route); err != nil {
				outcome = "queued"
				s.log.Warn("webhook recorded, delivery deferred to the relay", "provider", provider, "event_id", route.EventID, "error", err)
			} else {
				outcome = "delivered"
			}
			cancel()
		}
	}
	s.metrics.webhooks.WithLabelValues(provider, outcome).Inc()
	return c.JSON(fiber.Map{"received": true, "duplicate": !inserted, "event_id": route.EventID})
}

// listInbox shows recorded webhooks to operators, e.g. ?status=unroutable.
func (s *server) listInbox(c *fiber.Ctx) error {
	limit, err := strconv.Atoi(c.Query("limit", "50"))
	if err != nil || limit < 1 || limit > 500 {
		return invalidFields(map[string]string{"limit": "between 1 and 500"})
	}
	events, err := s.Store.ListInbox(c.UserContext(), c.Query("provider"), c.Query("status"), limit)
	if err != nil {
		return s.storeError(err)
	}
	items := make([]fiber.Map, len(events))
	for i, e := range events {
		items[i] = fiber.Map{
			"id": e.ID, "provider": e.Provider, "event_id": e.EventID, "event_type": e.EventType,
			"workflow_id": e.WorkflowID.String, "status": e.Status, "note": e.Note, "attempts": e.Attempts,
			"received_at": e.ReceivedAt, "payload": e.Payload,
		}
	}
	return c.JSON(fiber.Map{"items": items})
}
