package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"
)

// The reconciliation's tables (migration 00005): inbox events that reached a
// closed workflow, the actions taken, their totals for /metrics, and the
// subjects settled for good.

// InboxClosedWorkflow marks a verified event whose workflow had closed: the
// reconciliation settles it and sets reconciled_at.
const InboxClosedWorkflow = "closed_workflow"

// Kinds of reconciliation subjects.
const (
	ReconcileOrder    = "order"
	ReconcileRehiveTx = "rehive_tx"
	ReconcileDeposit  = "deposit"
)

// ClaimClosedWorkflowEvents returns up to limit events that reached a closed
// workflow and are due for reconciliation, leased for lease so that two
// reconciliations never work on one event together.
func (s *Store) ClaimClosedWorkflowEvents(ctx context.Context, lease time.Duration, limit int) ([]InboxEvent, error) {
	var out []InboxEvent
	err := s.db.SelectContext(ctx, &out, `
		UPDATE webhook_inbox SET next_attempt_at = now() + make_interval(secs => $1)
		WHERE id IN (
			SELECT id FROM webhook_inbox
			WHERE status = 'closed_workflow' AND reconciled_at IS NULL AND next_attempt_at <= now()
			ORDER BY next_attempt_at LIMIT $2
			FOR UPDATE SKIP LOCKED)
		RETURNING `+inboxColumns, lease.Seconds(), limit)
	return out, err
}

// FinishInboxReconcile records that an event is settled for good.
func (s *Store) FinishInboxReconcile(ctx context.Context, id int64, note string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE webhook_inbox SET reconciled_at = now(), note = $2 WHERE id = $1`, id, note)
	return err
}

// DeferInboxReconcile leaves an event for a later run (the provider is not
// final yet, or a call failed), after a backoff that doubles up to 5 minutes.
func (s *Store) DeferInboxReconcile(ctx context.Context, id int64, note string) error {
	_, err := s.db.ExecContext(ctx, `
		UPDATE webhook_inbox SET attempts = attempts + 1, note = $2,
			next_attempt_at = now() + make_interval(secs => least(power(2, least(attempts, 9)), 300))
		WHERE id = $1`, id, note)
	return err
}

// recordAction logs one reconciliation action and counts it, inside tx.
func recordAction(ctx context.Context, tx *sqlx.Tx, kind, id, action, detail string) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO reconcile_actions (kind, subject_id, action, detail) VALUES ($1, $2, $3, $4)`,
		kind, id, action, detail); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO reconcile_counts (kind, action, n) VALUES ($1, $2, 1)
		ON CONFLICT (kind, action) DO UPDATE SET n = reconcile_counts.n + 1`, kind, action)
	return err
}

// ReconcileOrderUpdate locks an order, lets mutate change it (status,
// failure reason, the state JSON the API serves), writes it back with its
// status history and records action, all in one transaction. mutate
// returning ErrNotChanged leaves everything as it was.
func (s *Store) ReconcileOrderUpdate(ctx context.Context, orderID, action, detail string, mutate func(o *Order) error) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var o Order
		err := tx.GetContext(ctx, &o, `SELECT `+orderColumns+` FROM orders WHERE order_id = $1 FOR UPDATE`, orderID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := mutate(&o); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE orders SET status = $2, failure_reason = $3, state = $4, updated_at = now() WHERE order_id = $1`,
			orderID, o.Status, o.FailureReason, jsonOr(o.State, `{}`)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO order_status_history (order_id, status, detail) VALUES ($1, $2, $3)
			ON CONFLICT (order_id, status) DO NOTHING`, orderID, o.Status, detail); err != nil {
			return err
		}
		return recordAction(ctx, tx, ReconcileOrder, orderID, action, detail)
	})
}

// ReconcileRehiveTxUpdate is ReconcileOrderUpdate for the read model of a
// managed Rehive transaction.
func (s *Store) ReconcileRehiveTxUpdate(ctx context.Context, id, action, detail string, mutate func(t *RehiveTx) error) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var t RehiveTx
		err := tx.GetContext(ctx, &t, `SELECT `+rehiveTxColumns+` FROM rehive_transactions WHERE id = $1 FOR UPDATE`, id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := mutate(&t); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE rehive_transactions SET status = $2, failure_reason = $3, rehive_status = $4, ledger_tx_id = $5,
				state = $6, updated_at = now() WHERE id = $1`,
			id, t.Status, t.FailureReason, t.RehiveStatus, t.LedgerTxID, jsonOr(t.State, `{}`)); err != nil {
			return err
		}
		return recordAction(ctx, tx, ReconcileRehiveTx, id, action, detail)
	})
}

// ReconcileDepositUpdate is ReconcileOrderUpdate for a deposit's read model.
func (s *Store) ReconcileDepositUpdate(ctx context.Context, ledgerTxID, action, detail string, mutate func(d *Deposit) error) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var d Deposit
		err := tx.GetContext(ctx, &d, `
			SELECT ledger_tx_id, rehive_tx_id, account, amount, currency, status, failure_reason, state, created_at, updated_at
			FROM deposits WHERE ledger_tx_id = $1 FOR UPDATE`, ledgerTxID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := mutate(&d); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE deposits SET status = $2, failure_reason = $3, rehive_tx_id = $4, state = $5, updated_at = now()
			WHERE ledger_tx_id = $1`, ledgerTxID, d.Status, d.FailureReason, d.RehiveTxID, jsonOr(d.State, `{}`)); err != nil {
			return err
		}
		return recordAction(ctx, tx, ReconcileDeposit, ledgerTxID, action, detail)
	})
}

// ErrNotChanged lets a mutate function of the Reconcile*Update calls say
// there is nothing to write.
var ErrNotChanged = errors.New("store: nothing to change")

// MarkSettled remembers a subject whose provider state is final, so that the
// reconciliation stops asking about it.
func (s *Store) MarkSettled(ctx context.Context, kind, id, outcome string) error {
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO reconcile_settled (kind, subject_id, outcome) VALUES ($1, $2, $3)
		ON CONFLICT (kind, subject_id) DO NOTHING`, kind, id, outcome)
	return err
}

// OpenOrdersIdle lists orders that are not terminal, were started by a
// workflow (run id set) and have not changed for idle: candidates for an
// order whose workflow ended without settling it. Oldest change first.
func (s *Store) OpenOrdersIdle(ctx context.Context, terminal []string, idle time.Duration, limit int) ([]Order, error) {
	var out []Order
	query, args, err := sqlx.In(`
		SELECT `+orderColumns+` FROM orders
		WHERE status NOT IN (?) AND run_id <> '' AND updated_at <= now() - make_interval(secs => ?)
		ORDER BY updated_at LIMIT ?`, terminal, idle.Seconds(), limit)
	if err != nil {
		return nil, err
	}
	err = s.db.SelectContext(ctx, &out, s.db.Rebind(query), args...)
	return out, err
}

// ClosedUnpaidCardOrders lists card orders that closed unpaid (expired,
// cancelled, or failed with a payment error) within lookBack, at least
// quiet ago, and are not settled for good: the reconciliation asks
// Checkout.com about their payments.
func (s *Store) ClosedUnpaidCardOrders(ctx context.Context, lookBack, quiet time.Duration, limit int) ([]Order, error) {
	var out []Order
	err := s.db.SelectContext(ctx, &out, `
		SELECT `+orderColumns+` FROM orders o
		WHERE payment_method = 'card'
		  AND (status IN ('expired', 'cancelled') OR (status = 'failed' AND failure_reason IN ('payment_error', 'workflow_closed')))
		  AND created_at >= now() - make_interval(secs => $1)
		  AND updated_at <= now() - make_interval(secs => $2)
		  AND NOT EXISTS (SELECT 1 FROM reconcile_settled r WHERE r.kind = 'order' AND r.subject_id = o.order_id)
		ORDER BY updated_at LIMIT $3`, lookBack.Seconds(), quiet.Seconds(), limit)
	return out, err
}

// TouchOrder moves an order to the back of the reconciliation's queues
// (they are ordered by updated_at) after a look that changed nothing.
func (s *Store) TouchOrder(ctx context.Context, orderID string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE orders SET updated_at = now() WHERE order_id = $1`, orderID)
	return err
}

// OrderPayments lists the payments the read model holds for an order.
func (s *Store) OrderPayments(ctx context.Context, orderID string) ([]Payment, error) {
	var out []Payment
	err := s.db.SelectContext(ctx, &out, `
		SELECT order_id, provider, provider_payment_id, status, amount, currency FROM payments
		WHERE order_id = $1 ORDER BY updated_at`, orderID)
	return out, err
}

// Payment is a row of payments.
type Payment struct {
	OrderID           string `db:"order_id"`
	Provider          string `db:"provider"`
	ProviderPaymentID string `db:"provider_payment_id"`
	Status            string `db:"status"`
	Amount            int64  `db:"amount"`
	Currency          string `db:"currency"`
}

// StalledDeposits lists deposits failed by their stall timer within
// lookBack and not settled for good: the ledger may have confirmed them
// since.
func (s *Store) StalledDeposits(ctx context.Context, lookBack time.Duration, limit int) ([]Deposit, error) {
	var out []Deposit
	err := s.db.SelectContext(ctx, &out, `
		SELECT ledger_tx_id, rehive_tx_id, account, amount, currency, status, failure_reason, state, created_at, updated_at
		FROM deposits d
		WHERE status = 'failed' AND failure_reason = 'stalled' AND updated_at >= now() - make_interval(secs => $1)
		  AND NOT EXISTS (SELECT 1 FROM reconcile_settled r WHERE r.kind = 'deposit' AND r.subject_id = d.ledger_tx_id)
		ORDER BY updated_at LIMIT $2`, lookBack.Seconds(), limit)
	return out, err
}

// ReconcileCount is the number of actions of one kind taken so far.
type ReconcileCount struct {
	Kind   string `db:"kind"`
	Action string `db:"action"`
	N      int64  `db:"n"`
}

// ReconcileCounts returns the totals /metrics serves.
func (s *Store) ReconcileCounts(ctx context.Context) ([]ReconcileCount, error) {
	var out []ReconcileCount
	err := s.db.SelectContext(ctx, &out, `SELECT kind, action, n FROM reconcile_counts ORDER BY kind, action`)
	return out, err
}

// ReconcileActions lists the actions taken on one subject, oldest first.
func (s *Store) ReconcileActions(ctx context.Context, kind, id string) ([]ReconcileAction, error) {
	var out []ReconcileAction
	err := s.db.SelectContext(ctx, &out, `
		SELECT kind, subject_id, action, detail, at FROM reconcile_actions WHERE kind = $1 AND subject_id = $2 ORDER BY id`, kind, id)
	return out, err
}

// ReconcileAction is a row of reconcile_actions.
type ReconcileAction struct {
	Kind      string    `db:"kind"`
	SubjectID string    `db:"subject_id"`
	Action    string    `db:"action"`
	Detail    string    `db:"detail"`
	At        time.Time `db:"at"`
}

// MarkInboxClosed records that an event reached workflowID after it had
// closed; the reconciliation settles it from there.
func (s *Store) MarkInboxClosed(ctx context.Context, id int64, workflowID, note string) error {
	_, err := s.db.ExecContext(ctx, `
		UPDATE webhook_inbox SET status = 'closed_workflow', workflow_id = $2, note = $3, attempts = attempts + 1,
			next_attempt_at = now()
		WHERE id = $1`, id, workflowID, note)
	return err
}

// HasReconcileAction reports whether action was recorded on a subject with
// detail starting with prefix (e.g. a payment id): a request made once is
// not made again while the provider processes it.
func (s *Store) HasReconcileAction(ctx context.Context, kind, id, action, prefix string) (bool, error) {
	var n int
	err := s.db.GetContext(ctx, &n, `
		SELECT count(*) FROM reconcile_actions
		WHERE kind = $1 AND subject_id = $2 AND action = $3 AND starts_with(detail, $4)`, kind, id, action, prefix)
	return n > 0, err
}
