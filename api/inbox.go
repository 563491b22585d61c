package api

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/payflow/payflow/inbox"
	"github.com/payflow/payflow/store"
	"github.com/payflow/payflow/workflows"
)

// Webhook operations for operators: the inbox listing, one event's detail,
// and the replay of a recorded event through the routing path it took the
// first time. Payloads are shown as stored, that is redacted (inbox.Redact).

// inboxRefPattern bounds the reference filters (order ids, provider ids).
var inboxRefPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// statusPattern is the shape of an inbox status.
var statusPattern = regexp.MustCompile(`^[a-z_]{1,32}$`)

// eventTypePattern is the shape of a provider event type
// (payment_captured, transaction.update, transaction.incoming, ...).
var eventTypePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// listInbox shows recorded webhooks to operators, newest first a page at a
// time (next_cursor), filtered by provider, status, event_type, the order or
// Rehive transaction they were routed to, and since/until (RFC 3339, on
// received_at); payloads only with include_payload=true.
func (s *server) listInbox(c *fiber.Ctx) error {
	fields := map[string]string{}
	limit, err := strconv.Atoi(c.Query("limit", "50"))
	if err != nil || limit < 1 || limit > 500 {
		fields["limit"] = "between 1 and 500"
	}
	f := store.InboxFilter{Provider: c.Query("provider"), Status: c.Query("status"), EventType: c.Query("event_type"), Limit: limit}
	switch f.Provider {
	case "", inbox.CheckoutCom, inbox.Rehive, inbox.Ledger:
	default:
		fields["provider"] = "checkoutcom, rehive or ledger"
	}
	if f.Status != "" && !statusPattern.MatchString(f.Status) {
		fields["status"] = "an inbox status such as pending or unroutable"
	}
	if f.EventType != "" && !eventTypePattern.MatchString(f.EventType) {
		fields["event_type"] = "a provider event type such as payment_captured"
	}
	refs := 0
	for param, workflowID := range map[string]func(string) string{
		"order_id":     workflows.CheckoutWorkflowID,
		"rehive_tx_id": workflows.RehiveTxWorkflowID,
		"ledger_tx_id": workflows.DepositWorkflowID,
	} {
		v := c.Query(param)
		if v == "" {
			continue
		}
		refs++
		if !inboxRefPattern.MatchString(v) {
			fields[param] = "1-128 letters, digits, dot, dash, colon or underscore"
		}
		f.WorkflowID = workflowID(v)
	}
	if refs > 1 {
		fields["order_id"] = "at most one of order_id, rehive_tx_id and ledger_tx_id"
	}
	for param, at := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := c.Query(param); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				fields[param] = "an RFC 3339 time such as 2026-12-01T10:00:00Z"
			}
			*at = t
		}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		fields["until"] = "after since"
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
		items[i] = inboxView(e)
		if !f.Payloads {
			delete(items[i], "payload")
		}
	}
	var next *string
	if len(events) == limit {
		v := strconv.FormatInt(events[len(events)-1].ID, 10)
		next = &v
	}
	return c.JSON(fiber.Map{"items": items, "next_cursor": next})
}

func inboxView(e store.InboxEvent) fiber.Map {
	return fiber.Map{
		"id": e.ID, "provider": e.Provider, "event_id": e.EventID, "event_type": e.EventType,
		"workflow_id": e.WorkflowID.String, "status": e.Status, "note": e.Note, "attempts": e.Attempts,
		"received_at": e.ReceivedAt, "payload": e.Payload,
	}
}

// inboxEvent reads the event named by the :id parameter.
func (s *server) inboxEvent(c *fiber.Ctx) (store.InboxEvent, error) {
	v := c.Params("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 || len(v) > 19 {
		return store.InboxEvent{}, errorf(http.StatusNotFound, "inbox_event_not_found", "no recorded webhook with this id")
	}
	ev, err := s.Store.GetInboxEvent(c.UserContext(), id)
	if errors.Is(err, store.ErrNotFound) {
		return ev, errorf(http.StatusNotFound, "inbox_event_not_found", "no recorded webhook with this id")
	}
	if err != nil {
		return ev, s.storeError(err)
	}
	return ev, nil
}

// getInboxEvent shows one recorded webhook with its payload as stored.
func (s *server) getInboxEvent(c *fiber.Ctx) error {
	ev, err := s.inboxEvent(c)
	if err != nil {
		return err
	}
	return c.JSON(inboxView(ev))
}

// replayWait bounds the delivery a replay attempts before it answers; what
// does not get through stays pending for the relay.
const replayWait = 5 * time.Second

// replayInboxEvent delivers a recorded event again, routed from its stored
// payload exactly as the relay routes it. The workflows act on an event at
// most once (their state, not the inbox, decides), so replaying an event that
// was applied changes nothing; it is how an operator pushes an unroutable or
// closed-workflow event through again once its cause is fixed. The answer is
// the event after the attempt; delivered reports whether its workflow was
// signalled now.
func (s *server) replayInboxEvent(c *fiber.Ctx) error {
	ev, err := s.inboxEvent(c)
	if err != nil {
		return err
	}
	route, err := inbox.RouteEvent(ev.Provider, ev.Payload, s.Inbox.Policy)
	if err != nil {
		return errorf(http.StatusUnprocessableEntity, "unroutable_event", "the recorded payload cannot be routed: "+err.Error())
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), replayWait)
	derr := s.Inbox.Deliver(ctx, ev, route)
	cancel()
	if derr != nil {
		s.log.Warn("inbox replay: delivery deferred to the relay", "id", ev.ID, "error", derr)
	}
	after, err := s.Store.GetInboxEvent(c.UserContext(), ev.ID)
	if err != nil {
		return s.storeError(err)
	}
	s.metrics.webhooks.WithLabelValues(ev.Provider, "replayed").Inc()
	v := inboxView(after)
	delete(v, "payload")
	v["delivered"] = derr == nil && after.Status == store.InboxDelivered
	return c.Status(http.StatusAccepted).JSON(v)
}

// inboxCollector serves the inbox backlog on /metrics, read from the
// database at each scrape, so every API process reports the same numbers.
type inboxCollector struct {
	store   *store.Store
	pending *prometheus.Desc
	age     *prometheus.Desc
}

func newInboxCollector(st *store.Store) *inboxCollector {
	return &inboxCollector{
		store:   st,
		pending: prometheus.NewDesc("payflow_webhook_inbox_pending", "Recorded webhooks not yet delivered to their workflow.", nil, nil),
		age:     prometheus.NewDesc("payflow_webhook_inbox_oldest_pending_seconds", "Age of the oldest webhook not yet delivered (0 when none is pending).", nil, nil),
	}
}

func (c *inboxCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.pending; ch <- c.age }

func (c *inboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	b, err := c.store.PendingBacklog(ctx)
	if err != nil {
		return // the database is down: /readyz says so, the other metrics still answer
	}
	age := 0.0
	if b.Oldest.Valid {
		age = max(time.Since(b.Oldest.Time).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(b.Pending))
	ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, age)
}
