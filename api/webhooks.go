package api

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/payflow/payflow/config"
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
	// Replay protection that does not need every row kept forever: an event
	// older than the freshness window (or dated in the future) is refused;
	// inside it the inbox, which keeps rows longer, knows it as a duplicate.
	if ev, err := checkoutcom.ParseWebhook(c.Body()); err == nil {
		if err := checkFresh(ev.CreatedOn, time.Now()); err != nil {
			s.metrics.webhooks.WithLabelValues(inbox.CheckoutCom, "stale").Inc()
			return err
		}
	}
	return s.acceptWebhook(c, inbox.CheckoutCom)
}

// maxClockSkew is how far in the future an event's date may be.
const maxClockSkew = 5 * time.Minute

// checkFresh refuses a Checkout.com event without a date, older than
// config.CheckoutComEventMaxAge or from the future.
func checkFresh(createdOn, now time.Time) *Error {
	switch {
	case createdOn.IsZero():
		return errorf(http.StatusBadRequest, "malformed_webhook", "the event has no created_on")
	case now.Sub(createdOn) > config.CheckoutComEventMaxAge, createdOn.Sub(now) > maxClockSkew:
		return errorf(http.StatusBadRequest, "stale_webhook", "the event's created_on is outside the accepted window")
	}
	return nil
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
	if !utf8.Valid(body) {
		s.metrics.webhooks.WithLabelValues(provider, "malformed").Inc()
		return errorf(http.StatusBadRequest, "malformed_webhook", "the event is not valid UTF-8")
	}
	route, err := inbox.RouteEvent(provider, body, s.Inbox.Policy)
	if err == nil {
		err = checkRoute(route)
	}
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

// webhookIDPattern bounds a provider's event id: the dedup key, so it is
// indexed and must be short and printable.
var webhookIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// checkRoute refuses an event whose ids could not be stored or used as a
// workflow id: none of a real provider's are like that.
func checkRoute(r inbox.Route) error {
	if !webhookIDPattern.MatchString(r.EventID) || len(r.EventType) > 128 || !cleanText(r.EventType) ||
		len(r.WorkflowID) > 256 || !cleanText(r.WorkflowID) || !cleanText(r.Note) {
		return errors.New("event id, type or reference out of bounds")
	}
	return nil
}

// listInbox shows recorded webhooks to operators, e.g. ?status=unroutable,
// newest first a page at a time (next_cursor), payloads only with
// include_payload=true.
func (s *server) listInbox(c *fiber.Ctx) error {
	limit, err := strconv.Atoi(c.Query("limit", "50"))
	if err != nil || limit < 1 || limit > 500 {
		return invalidFields(map[string]string{"limit": "between 1 and 500"})
	}
	f := store.InboxFilter{Provider: c.Query("provider"), Status: c.Query("status"), Limit: limit}
	fields := map[string]string{}
	switch f.Provider {
	case "", inbox.CheckoutCom, inbox.Rehive, inbox.Ledger:
	default:
		fields["provider"] = "checkoutcom, rehive or ledger"
	}
	if f.Status != "" && !statusPattern.MatchString(f.Status) {
		fields["status"] = "an inbox status such as pending or unroutable"
	}
	if v := c.Query("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 || len(v) > 19 {
			fields["cursor"] = "not a cursor this endpoint returned"
		}
		f.Before = n
	}
	switch c.Query("include_payload") {
	case "", "false":
	case "true":
		f.Payloads = true
	default:
		fields["include_payload"] = "true or false"
	}
	if len(fields) > 0 {
		return invalidFields(fields)
	}
	events, err := s.Store.ListInbox(c.UserContext(), f)
	if err != nil {
		return s.storeError(err)
	}
	items := make([]fiber.Map, len(events))
	for i, e := range events {
		items[i] = fiber.Map{
			"id": e.ID, "provider": e.Provider, "event_id": e.EventID, "event_type": e.EventType,
			"workflow_id": e.WorkflowID.String, "status": e.Status, "note": e.Note, "attempts": e.Attempts,
			"received_at": e.ReceivedAt,
		}
		if f.Payloads {
			items[i]["payload"] = e.Payload
		}
	}
	var next *string
	if len(events) == limit {
		v := strconv.FormatInt(events[len(events)-1].ID, 10)
		next = &v
	}
	return c.JSON(fiber.Map{"items": items, "next_cursor": next})
}

// statusPattern is the shape of an inbox status.
var statusPattern = regexp.MustCompile(`^[a-z_]{1,32}$`)
