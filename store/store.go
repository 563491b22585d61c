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
	"net/url"
	"strconv"
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

// Open connects with the given pool sizes and DefaultTimeouts. It does not
// fail when PostgreSQL is down: the pool reconnects, and /readyz reports the
// outage.
func Open(url string, maxOpen, maxIdle int) (*Store, error) {
	return OpenTimeouts(url, maxOpen, maxIdle, DefaultTimeouts)
}

// Timeouts bound every connection of a pool, so that a hung database costs
// an error within seconds rather than a request that never ends.
type Timeouts struct {
	// Connect bounds opening a connection (lib/pq connect_timeout).
	Connect time.Duration
	// Statement is the sessions' statement_timeout (0: none). A connection
	// that then stays silent for Statement + silenceMargin is closed: the
	// server would have answered by then, so it or the network is hung.
	Statement time.Duration
}

// DefaultTimeouts are PAYFLOW_DB_CONNECT_TIMEOUT's and
// PAYFLOW_DB_STATEMENT_TIMEOUT's defaults.
var DefaultTimeouts = Timeouts{Connect: 5 * time.Second, Statement: 5 * time.Second}

const silenceMargin = 2 * time.Second

// OpenTimeouts is Open with explicit timeouts; settings the URL already has
// (connect_timeout, statement_timeout) win.
func OpenTimeouts(dsn string, maxOpen, maxIdle int, t Timeouts) (*Store, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("open database: DATABASE_URL must be a postgres:// URL")
	}
	q := u.Query()
	if q.Get("connect_timeout") == "" && t.Connect > 0 {
		q.Set("connect_timeout", strconv.Itoa(max(1, int(t.Connect.Round(time.Second)/time.Second))))
	}
	if q.Get("statement_timeout") == "" {
		// An unknown URL parameter is a session setting for lib/pq.
		q.Set("statement_timeout", strconv.FormatInt(t.Statement.Milliseconds(), 10))
	}
	if q.Get("binary_parameters") == "" {
		// A statement with parameters in one round trip, not two (prepare,
		// then execute). []byte parameters then go in binary: the store
		// sends jsonb as text (string) and only bytea as []byte.
		q.Set("binary_parameters", "yes")
	}
	u.RawQuery = q.Encode()
	connector, err := pq.NewConnector(u.String())
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if t.Statement > 0 {
		connector.Dialer(silenceDialer{d: net.Dialer{KeepAlive: 15 * time.Second}, silence: t.Statement + silenceMargin})
	}
	db := sqlx.NewDb(sql.OpenDB(connector), "postgres")
	db.SetMaxOpenConns(maxOpen)
	db.SetMaxIdleConns(maxIdle)
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(30 * time.Minute)
	return &Store{db: db}, nil
}

// silenceDialer dials connections that fail a read waiting longer than
// silence. lib/pq reads only when it awaits an answer (payflow does not
// LISTEN), and a context's cancel only asks the server to cancel — which a
// hung server never does; this deadline is what frees the caller.
type silenceDialer struct {
	d       net.Dialer
	silence time.Duration
}

func (s silenceDialer) Dial(network, address string) (net.Conn, error) {
	return s.DialContext(context.Background(), network, address)
}

func (s silenceDialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return s.DialContext(ctx, network, address)
}

func (s silenceDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := s.d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	return &silenceConn{Conn: c, silence: s.silence}, nil
}

type silenceConn struct {
	net.Conn
	silence time.Duration
}

func (c *silenceConn) Read(b []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.silence)); err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
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
