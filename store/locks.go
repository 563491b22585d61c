package store

import (
	"context"
	"errors"

	"github.com/jmoiron/sqlx"
)

// ErrBusy means another request holds the lock asked for.
var ErrBusy = errors.New("store: busy")

// WithLock runs f while holding a transaction-scoped advisory lock on key, so
// that one request at a time, across every API process, does what f does for
// that key. A key already held answers ErrBusy at once instead of queueing.
func (s *Store) WithLock(ctx context.Context, key string, f func() error) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var ok bool
		if err := tx.GetContext(ctx, &ok, `SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))`, key); err != nil {
			return err
		}
		if !ok {
			return ErrBusy
		}
		return f()
	})
}
