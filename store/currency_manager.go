package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/payflow/payflow/workflows"
)

// The currency manager's tables (migration 00003): managed currencies, Rehive
// transactions and collections as looked up, the read model of their
// workflows, ledger links, account links and deposits.

// SyncManagedCurrencies makes the managed set exactly codes (from
// configuration).
func (s *Store) SyncManagedCurrencies(ctx context.Context, codes []string) error {
	if codes == nil {
		codes = []string{} // NULL would match nothing in <> ALL
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM managed_currencies WHERE code <> ALL($1)`, pq.Array(codes)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO managed_currencies (code) SELECT unnest($1::text[])
			ON CONFLICT (code) DO UPDATE SET updated_at = now()`, pq.Array(codes))
		return err
	})
}

// ManagedCurrencies lists the managed codes, sorted.
func (s *Store) ManagedCurrencies(ctx context.Context) ([]string, error) {
	codes := []string{}
	err := s.db.SelectContext(ctx, &codes, `SELECT code FROM managed_currencies ORDER BY code`)
	return codes, err
}

// RehiveTx is a row of rehive_transactions. The lookup fills the facts and
// Raw (Rehive's transaction object); the workflow's read model fills Flow,
// Status, FailureReason, LedgerTxID and State (its query state).
type RehiveTx struct {
	ID            string                 `db:"id"`
	CollectionID  string                 `db:"collection_id"`
	TxType        string                 `db:"tx_type"`
	Currency      string                 `db:"currency"`
	Amount        int64                  `db:"amount"`
	Account       string                 `db:"account"`
	RehiveStatus  workflows.RehiveStatus `db:"rehive_status"`
	Flow          string                 `db:"flow"`
	Status        workflows.TxStatus     `db:"status"`
	FailureReason string                 `db:"failure_reason"`
	LedgerTxID    string                 `db:"ledger_tx_id"`
	State         json.RawMessage        `db:"state"`
	Raw           json.RawMessage        `db:"raw"`
	CreatedAt     time.Time              `db:"created_at"`
	UpdatedAt     time.Time              `db:"updated_at"`
}

const rehiveTxColumns = `id, collection_id, tx_type, currency, amount, account, rehive_status, flow, status, failure_reason, ledger_tx_id, state, raw, created_at, updated_at`

// RehiveCollection is a row of rehive_collections.
type RehiveCollection struct {
	ID        string          `db:"id"`
	Status    string          `db:"status"`
	Raw       json.RawMessage `db:"raw"`
	UpdatedAt time.Time       `db:"updated_at"`
}

// SaveRehiveLookup stores a transaction and its collection as Rehive reported
// them, together. It leaves the workflow's read-model columns alone. A
// collection without an id is not stored.
func (s *Store) SaveRehiveLookup(ctx context.Context, t RehiveTx, c RehiveCollection) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if c.ID != "" {
			if _, err := tx.ExecContext(ctx, `
				INSERT INTO rehive_collections (id, status, raw) VALUES ($1, $2, $3)
				ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, raw = EXCLUDED.raw, updated_at = now()`,
				c.ID, c.Status, jsonOr(c.Raw, `{}`)); err != nil {
				return fmt.Errorf("save collection: %w", err)
			}
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO rehive_transactions (id, collection_id, tx_type, currency, amount, account, rehive_status, raw)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (id) DO UPDATE SET collection_id = EXCLUDED.collection_id, tx_type = EXCLUDED.tx_type,
				currency = EXCLUDED.currency, amount = EXCLUDED.amount, account = EXCLUDED.account,
				rehive_status = EXCLUDED.rehive_status, raw = EXCLUDED.raw, updated_at = now()`,
			t.ID, t.CollectionID, t.TxType, t.Currency, t.Amount, t.Account, t.RehiveStatus, jsonOr(t.Raw, `{}`))
		if err != nil {
			return fmt.Errorf("save transaction: %w", err)
		}
		return nil
	})
}

// SaveRehiveTxState writes the read model of a transaction's workflow. Empty
// facts, flow and ledger transaction keep what the row already holds, so a
// later run that knows less never erases what an earlier one recorded.
func (s *Store) SaveRehiveTxState(ctx context.Context, t RehiveTx) error {
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO rehive_transactions (id, collection_id, tx_type, currency, amount, account, rehive_status,
			flow, status, failure_reason, ledger_tx_id, state)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (id) DO UPDATE SET
			collection_id = COALESCE(NULLIF(EXCLUDED.collection_id, ''), rehive_transactions.collection_id),
			tx_type       = COALESCE(NULLIF(EXCLUDED.tx_type, ''), rehive_transactions.tx_type),
			currency      = COALESCE(NULLIF(EXCLUDED.currency, ''), rehive_transactions.currency),
			amount        = COALESCE(NULLIF(EXCLUDED.amount, 0), rehive_transactions.amount),
			account       = COALESCE(NULLIF(EXCLUDED.account, ''), rehive_transactions.account),
			rehive_status = COALESCE(NULLIF(EXCLUDED.rehive_status, ''), rehive_transactions.rehive_status),
			flow          = COALESCE(NULLIF(EXCLUDED.flow, ''), rehive_transactions.flow),
			ledger_tx_id  = COALESCE(NULLIF(EXCLUDED.ledger_tx_id, ''), rehive_transactions.ledger_tx_id),
			status = EXCLUDED.status, failure_reason = EXCLUDED.failure_reason, state = EXCLUDED.state,
			updated_at = now()`,
		t.ID, t.CollectionID, t.TxType, t.Currency, t.Amount, t.Account, t.RehiveStatus,
		t.Flow, t.Status, t.FailureReason, t.LedgerTxID, jsonOr(t.State, `{}`))
	return err
}

// GetRehiveTx returns one transaction row, or ErrNotFound.
func (s *Store) GetRehiveTx(ctx context.Context, id string) (RehiveTx, error) {
	return getOne[RehiveTx](ctx, s, `SELECT `+rehiveTxColumns+` FROM rehive_transactions WHERE id = $1`, id)
}

// GetRehiveCollection returns one collection row, or ErrNotFound.
func (s *Store) GetRehiveCollection(ctx context.Context, id string) (RehiveCollection, error) {
	return getOne[RehiveCollection](ctx, s, `SELECT id, status, raw, updated_at FROM rehive_collections WHERE id = $1`, id)
}

// LedgerLink says which ledger transaction mirrors a Rehive transaction.
type LedgerLink struct {
	RehiveTxID string    `db:"rehive_tx_id"`
	LedgerTxID string    `db:"ledger_tx_id"`
	Kind       string    `db:"kind"`
	CreatedAt  time.Time `db:"created_at"`
}

// PutLedgerLink records a link once. Recording the same link again is a
// no-op (activities retry); a different ledger transaction for the same
// Rehive transaction, or the reverse, is ErrConflict.
func (s *Store) PutLedgerLink(ctx context.Context, l LedgerLink) (LedgerLink, error) {
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO ledger_links (rehive_tx_id, ledger_tx_id, kind) VALUES ($1, $2, $3)
		ON CONFLICT (rehive_tx_id) DO NOTHING`, l.RehiveTxID, l.LedgerTxID, l.Kind)
	if isUniqueViolation(err) {
		return LedgerLink{}, fmt.Errorf("%w: ledger transaction %s is linked to another Rehive transaction", ErrConflict, l.LedgerTxID)
	}
	if err != nil {
		return LedgerLink{}, err
	}
	got, err := s.GetLedgerLink(ctx, l.RehiveTxID)
	if err != nil {
		return got, err
	}
	if got.LedgerTxID != l.LedgerTxID {
		return got, fmt.Errorf("%w: Rehive transaction %s is linked to ledger transaction %s", ErrConflict, l.RehiveTxID, got.LedgerTxID)
	}
	return got, nil
}

// GetLedgerLink returns the link of a Rehive transaction, or ErrNotFound.
func (s *Store) GetLedgerLink(ctx context.Context, rehiveTxID string) (LedgerLink, error) {
	return getOne[LedgerLink](ctx, s, `SELECT rehive_tx_id, ledger_tx_id, kind, created_at FROM ledger_links WHERE rehive_tx_id = $1`, rehiveTxID)
}

// AccountLink pairs a Rehive account with a ledger account in one currency.
type AccountLink struct {
	RehiveAccount string    `db:"rehive_account"`
	LedgerAccount string    `db:"ledger_account"`
	Currency      string    `db:"currency"`
	CreatedAt     time.Time `db:"created_at"`
	UpdatedAt     time.Time `db:"updated_at"`
}

const accountLinkColumns = `rehive_account, ledger_account, currency, created_at, updated_at`

// PutAccountLink creates or replaces the link of a Rehive account. It is
// ErrConflict when the ledger account is already linked, in that currency, to
// another Rehive account.
func (s *Store) PutAccountLink(ctx context.Context, l AccountLink) (AccountLink, error) {
	var out AccountLink
	err := s.db.GetContext(ctx, &out, `
		INSERT INTO account_links (rehive_account, ledger_account, currency) VALUES ($1, $2, $3)
		ON CONFLICT (rehive_account) DO UPDATE SET ledger_account = EXCLUDED.ledger_account,
			currency = EXCLUDED.currency, updated_at = now()
		RETURNING `+accountLinkColumns, l.RehiveAccount, l.LedgerAccount, l.Currency)
	if isUniqueViolation(err) {
		return AccountLink{}, fmt.Errorf("%w: ledger account %s is linked to another Rehive account for %s", ErrConflict, l.LedgerAccount, l.Currency)
	}
	return out, err
}

// GetAccountLink returns the link of a Rehive account, or ErrNotFound.
func (s *Store) GetAccountLink(ctx context.Context, rehiveAccount string) (AccountLink, error) {
	return getOne[AccountLink](ctx, s, `SELECT `+accountLinkColumns+` FROM account_links WHERE rehive_account = $1`, rehiveAccount)
}

// FindAccountLinkByLedger returns the link of a ledger account in a
// currency (the deposit flow's lookup), or ErrNotFound.
func (s *Store) FindAccountLinkByLedger(ctx context.Context, ledgerAccount, currency string) (AccountLink, error) {
	return getOne[AccountLink](ctx, s, `SELECT `+accountLinkColumns+` FROM account_links WHERE ledger_account = $1 AND currency = $2`, ledgerAccount, currency)
}

// Deposit is a row of deposits, the read model of ledger-deposit workflows;
// State is the workflow's query state.
type Deposit struct {
	LedgerTxID    string          `db:"ledger_tx_id"`
	RehiveTxID    string          `db:"rehive_tx_id"`
	Account       string          `db:"account"`
	Amount        int64           `db:"amount"`
	Currency      string          `db:"currency"`
	Status        string          `db:"status"`
	FailureReason string          `db:"failure_reason"`
	State         json.RawMessage `db:"state"`
	CreatedAt     time.Time       `db:"created_at"`
	UpdatedAt     time.Time       `db:"updated_at"`
}

// SaveDeposit creates or updates a deposit's row.
func (s *Store) SaveDeposit(ctx context.Context, d Deposit) error {
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO deposits (ledger_tx_id, rehive_tx_id, account, amount, currency, status, failure_reason, state)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (ledger_tx_id) DO UPDATE SET rehive_tx_id = EXCLUDED.rehive_tx_id, account = EXCLUDED.account,
			amount = EXCLUDED.amount, currency = EXCLUDED.currency, status = EXCLUDED.status,
			failure_reason = EXCLUDED.failure_reason, state = EXCLUDED.state, updated_at = now()`,
		d.LedgerTxID, d.RehiveTxID, d.Account, d.Amount, d.Currency, d.Status, d.FailureReason, jsonOr(d.State, `{}`))
	return err
}

// GetDeposit returns one deposit, or ErrNotFound.
func (s *Store) GetDeposit(ctx context.Context, ledgerTxID string) (Deposit, error) {
	return getOne[Deposit](ctx, s, `
		SELECT ledger_tx_id, rehive_tx_id, account, amount, currency, status, failure_reason, state, created_at, updated_at
		FROM deposits WHERE ledger_tx_id = $1`, ledgerTxID)
}

// isUniqueViolation reports a unique-constraint violation (23505).
func isUniqueViolation(err error) bool { return pqCode(err) == "23505" }

// jsonOr is raw, or def when raw is empty (jsonb columns are NOT NULL), as
// text: the pool sends []byte parameters in binary (binary_parameters), and
// a jsonb parameter in binary would need jsonb's own binary format.
func jsonOr(raw json.RawMessage, def string) string {
	if len(raw) == 0 {
		return def
	}
	return string(raw)
}
