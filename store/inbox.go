package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"
)

// Inbox statuses.
const (
	InboxPending    = "pending"    // recorded, not yet delivered to its workflow
	InboxDelivered  = "delivered"  // signalled to its workflow
	InboxUnroutable = "unroutable" // verified but matches no order or workflow; kept for operators
	InboxIgnored    = "ignored"    // nothing to do (e.g. a currency we do not manage)
)

// InboxEvent is one recorded provider webhook.
type InboxEvent struct {
	ID         int64           `db:"id" json:"id"`
	Provider   string          `db:"provider" json:"provider"`
	EventID    string          `db:"event_id" json:"event_id"`
	EventType  string          `db:"event_type" json:"event_type"`
	WorkflowID sql.NullString  `db:"workflow_id" json:"-"`
	Payload    json.RawMessage `db:"payload" json:"payload"`
	Status     string          `db:"status" json:"status"`
	Note       string          `db:"note" json:"note"`
	Attempts   int             `db:"attempts" json:"attempts"`
	ReceivedAt time.Time       `db:"received_at" json:"received_at"`
}

const inboxColumns = `id, provider, event_id, event_type, workflow_id, payload, status, note, attempts, received_at`

// RecordWebhook stores an event once per (provider, event id). It returns the
// stored row and whether this call inserted it (false for a redelivery).
func (s *Store) RecordWebhook(ctx context.Context, e InboxEvent) (InboxEvent, bool, error) {
	if e.Status == "" {
		e.Status = InboxPending
	}
	var out InboxEvent
	err := s.db.GetContext(ctx, &out, `
		INSERT INTO webhook_inbox (provider, event_id, event_type, workflow_id, payload, status, note)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (provider, event_id) DO NOTHING
		RETURNING `+inboxColumns,
		e.Provider, e.EventID, e.EventType, e.WorkflowID, string(e.Payload), e.Status, e.Note)
	if err == nil {
		return out, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return out, false, err
	}
	err = s.db.GetContext(ctx, &out, `SELECT `+inboxColumns+` FROM webhook_inbox WHERE provider = $1 AND event_id = $2`, e.Provider, e.EventID)
	return out, false, err
}

// MarkInbox sets an event's status after a delivery attempt.
func (s *Store) MarkInbox(ctx context.Context, id int64, status, note string) error {
	_, err := s.db.ExecContext(ctx, `
		UPDATE webhook_inbox SET status = $2, note = $3, attempts = attempts + 1,
			delivered_at = CASE WHEN $2 = 'delivered' THEN now() ELSE delivered_at END
		WHERE id = $1`, id, status, note)
	return err
}

// NoteInboxAttempt records a failed delivery attempt; the event stays
// pending and is tried again after a backoff that doubles up to 5 minutes.
func (s *Store) NoteInboxAttempt(ctx context.Context, id int64, note string) error {
	_, err := s.db.ExecContext(ctx, `
		UPDATE webhook_inbox SET attempts = attempts + 1, note = $2,
			next_attempt_at = now() + make_interval(secs => least(power(2, attempts), 300))
		WHERE id = $1`, id, note)
	return err
}

// ClaimPendingWebhooks returns up to limit events that are due for delivery
// and were recorded at least minAge ago, oldest schedule first, and leases
// them for lease: another relay skips them meanwhile.
func (s *Store) ClaimPendingWebhooks(ctx context.Context, minAge, lease time.Duration, limit int) ([]InboxEvent, error) {
	var out []InboxEvent
	err := s.db.SelectContext(ctx, &out, `
		UPDATE webhook_inbox SET next_attempt_at = now() + make_interval(secs => $2)
		WHERE id IN (
			SELECT id FROM webhook_inbox
			WHERE status = 'pending' AND next_attempt_at <= now() AND received_at <= now() - make_interval(secs => $1)
			ORDER BY next_attempt_at LIMIT $3
			FOR UPDATE SKIP LOCKED)
		RETURNING `+inboxColumns, minAge.Seconds(), lease.Seconds(), limit)
	return out, err
}

// InboxFilter selects a page of the inbox listing. Empty fields match
// everything.
type InboxFilter struct {
	Provider, Status, EventType string
	// WorkflowID matches the workflow an event was routed to
	// (checkout/<order>, rehive-tx/<id>, ledger-deposit/<id>).
	WorkflowID string
	// Since and Until bound received_at: Since <= received_at < Until.
	Since, Until time.Time
	// Before is the cursor: only events with a smaller id (0: from the newest).
	Before int64
	Limit  int
	// Payloads includes each event's payload (otherwise it is left empty).
	Payloads bool
}

// ListInbox lists recorded events, newest first, a page at a time.
func (s *Store) ListInbox(ctx context.Context, f InboxFilter) ([]InboxEvent, error) {
	payload := `'null'::jsonb AS payload`
	if f.Payloads {
		payload = `payload`
	}
	var since, until any
	if !f.Since.IsZero() {
		since = f.Since
	}
	if !f.Until.IsZero() {
		until = f.Until
	}
	var out []InboxEvent
	err := s.db.SelectContext(ctx, &out, `
		SELECT id, provider, event_id, event_type, workflow_id, `+payload+`, status, note, attempts, received_at FROM webhook_inbox
		WHERE ($1 = '' OR provider = $1) AND ($2 = '' OR status = $2) AND ($3 = 0 OR id < $3)
		  AND ($5 = '' OR event_type = $5) AND ($6 = '' OR workflow_id = $6)
		  AND ($7::timestamptz IS NULL OR received_at >= $7) AND ($8::timestamptz IS NULL OR received_at < $8)
		ORDER BY id DESC LIMIT $4`, f.Provider, f.Status, f.Before, f.Limit, f.EventType, f.WorkflowID, since, until)
	return out, err
}

// GetInboxEvent reads one recorded event with its (redacted) payload.
func (s *Store) GetInboxEvent(ctx context.Context, id int64) (InboxEvent, error) {
	var out InboxEvent
	err := s.db.GetContext(ctx, &out, `SELECT `+inboxColumns+` FROM webhook_inbox WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return out, ErrNotFound
	}
	return out, err
}

// InboxBacklog is what the inbox still has to deliver.
type InboxBacklog struct {
	Pending int64 `db:"pending"`
	// Oldest is when the oldest pending event was received (zero: none).
	Oldest sql.NullTime `db:"oldest"`
}

// PendingBacklog counts the pending events and finds the oldest one's age,
// from the partial index on pending rows.
func (s *Store) PendingBacklog(ctx context.Context) (InboxBacklog, error) {
	var b InboxBacklog
	err := s.db.GetContext(ctx, &b, `SELECT count(*) AS pending, min(received_at) AS oldest FROM webhook_inbox WHERE status = 'pending'`)
	return b, err
}

// PruneInbox deletes, up to batch rows a call, events received more than
// retention ago that need nothing more: delivered, unroutable or ignored
// ones, and closed-workflow ones the reconciliation has settled. Pending
// events are kept however old, until delivered. It returns how many it
// deleted.
func (s *Store) PruneInbox(ctx context.Context, retention time.Duration, batch int) (int64, error) {
	res, err := s.db.ExecContext(ctx, `
		DELETE FROM webhook_inbox WHERE id IN (
			SELECT id FROM webhook_inbox
			WHERE received_at < now() - make_interval(secs => $1)
			  AND (status IN ('delivered', 'unroutable', 'ignored') OR (status = 'closed_workflow' AND reconciled_at IS NOT NULL))
			LIMIT $2)`, retention.Seconds(), batch)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
