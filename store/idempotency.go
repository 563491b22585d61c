package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"
)

// IdempotentResponse is a stored answer to a POST that carried an
// Idempotency-Key.
type IdempotentResponse struct {
	RequestHash string          `db:"request_hash"`
	StatusCode  int             `db:"status_code"`
	Response    json.RawMessage `db:"response"`
}

// Idempotency key states, as ReserveIdempotent finds a key.
const (
	IdemReserved   = "reserved"    // this call reserved it: run the request
	IdemInProgress = "in_progress" // another request holds it now
	IdemCompleted  = "completed"   // answered before: replay Response
)

// IdempotencyKey is what ReserveIdempotent found.
type IdempotencyKey struct {
	State       string
	RequestHash string
	Response    IdempotentResponse
}

// ReserveIdempotent reserves (scope, key) for a request whose body hashes to
// hash, before the request runs: the unique key makes one caller win however
// many race. A key older than ttl has expired and is taken over, as is one
// whose holder's lease ended (it died mid-request). Otherwise the existing
// key is returned, with its stored response once completed.
func (s *Store) ReserveIdempotent(ctx context.Context, scope, key, hash string, ttl, lease time.Duration) (IdempotencyKey, error) {
	var won bool
	err := s.db.GetContext(ctx, &won, `
		INSERT INTO idempotency_keys (scope, key, request_hash, locked_until)
		VALUES ($1, $2, $3, now() + make_interval(secs => $5))
		ON CONFLICT (scope, key) DO UPDATE
			SET request_hash = EXCLUDED.request_hash, locked_until = EXCLUDED.locked_until,
				created_at = now(), completed_at = NULL, status_code = NULL, response = NULL
			WHERE idempotency_keys.created_at < now() - make_interval(secs => $4)
			   OR (idempotency_keys.completed_at IS NULL AND idempotency_keys.locked_until < now())
		RETURNING true`, scope, key, hash, ttl.Seconds(), lease.Seconds())
	if err == nil && won {
		return IdempotencyKey{State: IdemReserved, RequestHash: hash}, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return IdempotencyKey{}, err
	}
	var row struct {
		RequestHash string        `db:"request_hash"`
		StatusCode  sql.NullInt64 `db:"status_code"`
		Response    []byte        `db:"response"`
		CompletedAt sql.NullTime  `db:"completed_at"`
	}
	err = s.db.GetContext(ctx, &row, `SELECT request_hash, status_code, response, completed_at FROM idempotency_keys WHERE scope = $1 AND key = $2`, scope, key)
	if errors.Is(err, sql.ErrNoRows) {
		// Released between the two statements: the caller may simply retry.
		return IdempotencyKey{State: IdemInProgress}, nil
	}
	if err != nil {
		return IdempotencyKey{}, err
	}
	k := IdempotencyKey{State: IdemInProgress, RequestHash: row.RequestHash}
	if row.CompletedAt.Valid {
		k.State = IdemCompleted
		k.Response = IdempotentResponse{RequestHash: row.RequestHash, StatusCode: int(row.StatusCode.Int64), Response: row.Response}
	}
	return k, nil
}

// CompleteIdempotent stores the response of the request that reserved the
// key; later requests with the key replay it.
func (s *Store) CompleteIdempotent(ctx context.Context, scope, key string, r IdempotentResponse) error {
	_, err := s.db.ExecContext(ctx, `
		UPDATE idempotency_keys SET status_code = $4, response = $5, completed_at = now(), locked_until = NULL
		WHERE scope = $1 AND key = $2 AND request_hash = $3 AND completed_at IS NULL`,
		scope, key, r.RequestHash, r.StatusCode, []byte(r.Response))
	return err
}

// ReleaseIdempotent drops a reservation whose request did not succeed, so
// that a retry with the same key runs again.
func (s *Store) ReleaseIdempotent(ctx context.Context, scope, key, hash string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND request_hash = $3 AND completed_at IS NULL`, scope, key, hash)
	return err
}

// PruneIdempotencyKeys deletes keys older than ttl, up to batch rows a call;
// it returns how many it deleted.
func (s *Store) PruneIdempotencyKeys(ctx context.Context, ttl time.Duration, batch int) (int64, error) {
	res, err := s.db.ExecContext(ctx, `
		DELETE FROM idempotency_keys WHERE ctid IN (
			SELECT ctid FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1) LIMIT $2)`,
		ttl.Seconds(), batch)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
