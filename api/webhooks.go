package api

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"go.opentelemetry.io/otel/trace"

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

// acceptWebhook records a verified event durably and answers: the recorded
// row is the acknowledgement's guarantee. Delivery to its workflow follows in
// the background (deliverInBackground); the relay delivers what it could not.
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
	switch {
	case !inserted:
		s.metrics.webhooks.WithLabelValues(provider, "duplicate").Inc()
	case status == store.InboxPending:
		s.deliverInBackground(c.UserContext(), provider, rec, route)
	default:
		s.metrics.webhooks.WithLabelValues(provider, status).Inc()
	}
	return c.JSON(fiber.Map{"received": true, "duplicate": !inserted, "event_id": route.EventID})
}

// deliverInBackground hands a recorded event's delivery to s.deliveries and
// counts its outcome when it ends. When all delivery slots are taken (or the
// API is shutting down) the event is left pending for the relay at once.
func (s *server) deliverInBackground(reqCtx context.Context, provider string, rec store.InboxEvent, route inbox.Route) {
	sc := trace.SpanContextFromContext(reqCtx)
	started := s.deliveries.try(func(ctx context.Context) {
		// The request's trace without its deadline: the signal belongs to the
		// webhook's trace but outlives its answer.
		ctx, cancel := context.WithTimeout(trace.ContextWithSpanContext(ctx, sc), deliverTimeout)
		defer cancel()
		outcome := "delivered"
		if err := s.Inbox.Deliver(ctx, rec, route); err != nil {
			outcome = "queued"
			s.log.Warn("webhook recorded, delivery deferred to the relay", "provider", provider, "event_id", route.EventID, "error", err)
		}
		s.metrics.webhooks.WithLabelValues(provider, outcome).Inc()
	})
	if !started {
		s.metrics.webhooks.WithLabelValues(provider, "queued").Inc()
		s.log.Warn("webhook recorded, no delivery slot (all busy, or shutting down): left to the relay", "provider", provider, "event_id", route.EventID)
	}
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
