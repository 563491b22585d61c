package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/payflow/payflow/workflows"
)

// Order is a row of the checkout read model.
type Order struct {
	OrderID       string                   `db:"order_id"`
	Status        workflows.CheckoutStatus `db:"status"`
	Amount        int64                    `db:"amount"`
	Currency      string                   `db:"currency"`
	PaymentMethod string                   `db:"payment_method"`
	CustomerEmail string                   `db:"customer_email"`
	FailureReason string                   `db:"failure_reason"`
	RequestHash   string                   `db:"request_hash"`
	WorkflowID    string                   `db:"workflow_id"`
	RunID         string                   `db:"run_id"`
	State         json.RawMessage          `db:"state"`
	CreatedAt     time.Time                `db:"created_at"`
	UpdatedAt     time.Time                `db:"updated_at"`
}

const orderColumns = `order_id, status, amount, currency, payment_method, customer_email, failure_reason, request_hash, workflow_id, run_id, state, created_at, updated_at`

// CreateOrder inserts a new order, or returns the existing one with
// created=false when the order id is taken.
func (s *Store) CreateOrder(ctx context.Context, o Order) (Order, bool, error) {
	return s.CreateOrderWithToken(ctx, o, "")
}

// CreateOrderWithToken is CreateOrder that also keeps token (a card token;
// "" for none) for the order's charge, in the same statement: the token is
// stored only with the order row it inserts, so an order never exists
// without its token, and a request naming an existing order id (a retry,
// or another body) never adds or replaces one. The existing order comes back
// from the same statement unless it was committed while the statement ran.
func (s *Store) CreateOrderWithToken(ctx context.Context, o Order, token string) (Order, bool, error) {
	if len(o.State) == 0 {
		o.State = json.RawMessage(`{}`)
	}
	var out struct {
		Created bool `db:"created"`
		Order
	}
	err := s.db.GetContext(ctx, &out, `
		WITH ins AS (
			INSERT INTO orders (order_id, status, amount, currency, payment_method, customer_email, request_hash, workflow_id, state)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (order_id) DO NOTHING
			RETURNING `+orderColumns+`
		), tok AS (
			INSERT INTO payment_tokens (order_id, token)
			SELECT order_id, $10 FROM ins WHERE $10 <> ''
			ON CONFLICT (order_id) DO NOTHING
		)
		SELECT true AS created, `+orderColumns+` FROM ins
		UNION ALL
		SELECT false, `+orderColumns+` FROM orders WHERE order_id = $1 AND NOT EXISTS (SELECT 1 FROM ins)`,
		o.OrderID, o.Status, o.Amount, o.Currency, o.PaymentMethod, o.CustomerEmail, o.RequestHash, o.WorkflowID, string(o.State), token)
	if err == nil {
		return out.Order, out.Created, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return Order{}, false, err
	}
	// Inserted by a concurrent request after this statement's snapshot.
	existing, err := s.GetOrder(ctx, o.OrderID)
	return existing, false, err
}

// SetOrderRun records the workflow run that serves the order.
func (s *Store) SetOrderRun(ctx context.Context, orderID, runID string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE orders SET run_id = $2 WHERE order_id = $1 AND run_id = ''`, orderID, runID)
	return err
}

// GetOrder returns one order.
func (s *Store) GetOrder(ctx context.Context, orderID string) (Order, error) {
	return getOne[Order](ctx, s, `SELECT `+orderColumns+` FROM orders WHERE order_id = $1`, orderID)
}

// OrderSnapshot is the state a checkout workflow writes at each step.
type OrderSnapshot struct {
	OrderID         string
	Status          workflows.CheckoutStatus
	Amount          int64
	FailureReason   string
	RunID           string
	Lines           []OrderLine
	PaymentProvider string
	PaymentID       string
	PaymentStatus   string
	Currency        string
	Detail          string
	State           json.RawMessage // the whole workflow state, served once it has closed
	// TokenSpent drops the stored card token: the charge has happened.
	TokenSpent bool
}

// OrderLine is a priced line of the read model.
type OrderLine struct {
	SKU       string
	Quantity  int64
	UnitPrice int64
}

// SaveOrderSnapshot writes the read model of one step: the order, its
// lines, its payment, the status history and the spent token, in one
// statement (atomic, one round trip; a checkout saves at every step). Rows
// that did not change are not rewritten.
func (s *Store) SaveOrderSnapshot(ctx context.Context, o OrderSnapshot) error {
	skus := make([]string, len(o.Lines))
	qtys := make([]int64, len(o.Lines))
	prices := make([]int64, len(o.Lines))
	for i, l := range o.Lines {
		skus[i], qtys[i], prices[i] = l.SKU, l.Quantity, l.UnitPrice
	}
	var n int
	err := s.db.GetContext(ctx, &n, `
		WITH o AS (
			UPDATE orders SET status = $2, amount = $3, failure_reason = $4, state = $5,
				run_id = CASE WHEN $6 = '' THEN run_id ELSE $6 END, updated_at = now()
			WHERE order_id = $1
			RETURNING order_id
		), lines AS (
			INSERT INTO order_lines (order_id, sku, quantity, unit_price)
			SELECT o.order_id, l.sku, l.quantity, l.unit_price
			FROM o, unnest($7::text[], $8::bigint[], $9::bigint[]) AS l (sku, quantity, unit_price)
			ON CONFLICT (order_id, sku) DO UPDATE SET quantity = EXCLUDED.quantity, unit_price = EXCLUDED.unit_price
			WHERE (order_lines.quantity, order_lines.unit_price) IS DISTINCT FROM (EXCLUDED.quantity, EXCLUDED.unit_price)
		), payment AS (
			INSERT INTO payments (order_id, provider, provider_payment_id, status, amount, currency)
			SELECT o.order_id, $10, $11, $12, $3, $13 FROM o WHERE $11 <> ''
			ON CONFLICT (provider, provider_payment_id) DO UPDATE SET status = EXCLUDED.status, updated_at = now()
			WHERE payments.status IS DISTINCT FROM EXCLUDED.status
		), history AS (
			INSERT INTO order_status_history (order_id, status, detail)
			SELECT o.order_id, $2, $14 FROM o
			ON CONFLICT (order_id, status) DO NOTHING
		), spent AS (
			DELETE FROM payment_tokens t USING o WHERE $15 AND t.order_id = o.order_id
		)
		SELECT count(*) FROM o`,
		o.OrderID, o.Status, o.Amount, o.FailureReason, string(o.State), o.RunID,
		pq.Array(skus), pq.Array(qtys), pq.Array(prices),
		o.PaymentProvider, o.PaymentID, o.PaymentStatus, o.Currency, o.Detail, o.TokenSpent)
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// ListOrders pages through orders, newest first. The cursor is the last
// order id of the previous page; an unknown one is ErrNotFound.
func (s *Store) ListOrders(ctx context.Context, status string, limit int, after string) ([]Order, error) {
	if after != "" {
		if _, err := s.GetOrder(ctx, after); err != nil {
			return nil, err
		}
	}
	var out []Order
	err := s.db.SelectContext(ctx, &out, `
		SELECT `+orderColumns+` FROM orders o
		WHERE ($1 = '' OR status = $1)
		  AND ($3 = '' OR (o.created_at, o.order_id) < (SELECT created_at, order_id FROM orders WHERE order_id = $3))
		ORDER BY created_at DESC, order_id DESC
		LIMIT $2`, status, limit, after)
	return out, err
}

// PutPaymentToken keeps a card token for the order's charge.
func (s *Store) PutPaymentToken(ctx context.Context, orderID, token string) error {
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO payment_tokens (order_id, token) VALUES ($1, $2)
		ON CONFLICT (order_id) DO NOTHING`, orderID, token)
	return err
}

// PaymentToken returns the order's card token, or ErrNotFound once spent.
func (s *Store) PaymentToken(ctx context.Context, orderID string) (string, error) {
	return getOne[string](ctx, s, `SELECT token FROM payment_tokens WHERE order_id = $1`, orderID)
}

// UnstartedOrders lists orders created more than olderThan ago that no
// workflow has touched yet (pending, no run id): their start failed and the
// client did not retry.
func (s *Store) UnstartedOrders(ctx context.Context, olderThan time.Duration, limit int) ([]Order, error) {
	var out []Order
	err := s.db.SelectContext(ctx, &out, `
		SELECT `+orderColumns+` FROM orders
		WHERE status = 'pending' AND run_id = '' AND created_at <= now() - make_interval(secs => $1)
		ORDER BY created_at LIMIT $2`, olderThan.Seconds(), limit)
	return out, err
}

// FailUnstartedOrder closes an order whose workflow never started, unless a
// workflow has touched it meanwhile, and drops its card token.
func (s *Store) FailUnstartedOrder(ctx context.Context, orderID string) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `
			UPDATE orders SET status = 'failed', failure_reason = 'not_started', updated_at = now()
			WHERE order_id = $1 AND status = 'pending' AND run_id = ''`, orderID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM payment_tokens WHERE order_id = $1`, orderID)
		return err
	})
}

// CheckoutState is the order's read model in the workflow query's shape: the
// state the workflow saved, or one built from the columns for an order no
// workflow wrote (never started).
func (o Order) CheckoutState() workflows.CheckoutState {
	var st workflows.CheckoutState
	if len(o.State) > 2 && json.Unmarshal(o.State, &st) == nil && st.OrderID != "" {
		return st
	}
	return workflows.CheckoutState{
		OrderID: o.OrderID, Status: o.Status, Amount: o.Amount, Currency: o.Currency, FailureReason: o.FailureReason,
		Payment: workflows.PaymentState{Method: o.PaymentMethod}, Lines: []workflows.PricedLine{}, Timeline: []workflows.TimelineEntry{},
		WorkflowID: o.WorkflowID, RunID: o.RunID,
	}
}
