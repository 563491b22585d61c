package store

import (
	"context"
	"encoding/json"
)

// IdempotentResponse is a stored answer to a POST that carried an
// Idempotency-Key.
type IdempotentResponse struct {
	RequestHash string          `db:"request_hash"`
	StatusCode  int             `db:"status_code"`
	Response    json.RawMessage `db:"response"`
}

// GetIdempotent returns the stored response for (scope, key), or ErrNotFound.
func (s *Store) GetIdempotent(ctx context.Context, scope, key string) (IdempotentResponse, error) {
	return getOne[IdempotentResponse](ctx, s, `SELECT request_hash, status_code, response FROM idempotency_keys WHERE scope = $1 AND key = $2`, scope, key)
}

// SaveIdempotent stores a response; the first one stored wins.
func (s *Store) SaveIdempotent(ctx context.Context, scope, key string, r IdempotentResponse) error {
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO idempotency_keys (scope, key, request_hash, status_code, response)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (scope, key) DO NOTHING`,
		scope, key, r.RequestHash, r.StatusCode, []byte(r.Response))
	return err
}
