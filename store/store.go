// Package store is payflow's PostgreSQL access: sqlx repositories over lib/pq.
// Every query takes a context; writes that must agree share a transaction.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Errors callers branch on.
var (
	ErrNotFound   = errors.New("not found")
	ErrOutOfStock = errors.New("out of stock")
	ErrConflict   = errors.New("conflict")
)

// Store wraps the connection pool.
type Store struct {
	db *sqlx.DB
}

// Open connects with the given pool sizes. It does not fail when PostgreSQL is
// down: the pool reconnects, and /readyz reports the outage.
func Open(url string, maxOpen, maxIdle int) (*Store, error) {
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	db.SetMaxOpenConns(maxOpen)
	db.SetMaxIdleConns(maxIdle)
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(30 * time.Minute)
	return &Store{db: db}, nil
}

// DB exposes the pool, for migrations.
func (s *Store) DB() *sqlx.DB { return s.db }

// Close closes the pool.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks that PostgreSQL answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// inTx runs f in a transaction, committing when it returns nil.
func (s *Store) inTx(ctx context.Context, f func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// IsUnavailable reports whether err means the database could not be reached
// or cannot take more work, as opposed to a query it rejected.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		// 08: connection exception; 53: insufficient resources (too many
		// connections); 57: operator intervention (shutting down).
		switch pqErr.Code.Class() {
		case "08", "53", "57":
			return true
		}
		return false
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.DeadlineExceeded)
}

// IsInvalidData reports whether PostgreSQL refused a value (class 22, e.g. a
// NUL character that jsonb cannot hold).
func IsInvalidData(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code.Class() == "22"
}

// getOne reads one row into a T, or ErrNotFound.
func getOne[T any](ctx context.Context, s *Store, query string, args ...any) (T, error) {
	var v T
	err := s.db.GetContext(ctx, &v, query, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return v, ErrNotFound
	}
	return v, err
}
