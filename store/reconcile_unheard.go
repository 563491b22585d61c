package store

import (
	"context"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// What the passes that list the providers (Rehive transactions and ledger
// deposits payflow may never have heard of) need from the read models.

// RehiveTxSeen is the part of a managed transaction's read model those
// passes look at.
type RehiveTxSeen struct {
	ID     string `db:"id"`
	Status string `db:"status"`
	// State is the workflow's last saved state (its timeline names the
	// transitions it took up).
	State []byte `db:"state"`
}

// RehiveTxsSeen returns the read model of those of ids that have one.
func (s *Store) RehiveTxsSeen(ctx context.Context, ids []string) (map[string]RehiveTxSeen, error) {
	var rows []RehiveTxSeen
	if err := s.db.SelectContext(ctx, &rows, `SELECT id, status, state FROM rehive_transactions WHERE id = ANY($1)`, pq.Array(ids)); err != nil {
		return nil, err
	}
	out := make(map[string]RehiveTxSeen, len(rows))
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, nil
}

// KnownDeposits returns those of the ledger transaction ids that have a
// deposit read model (their workflow ran).
func (s *Store) KnownDeposits(ctx context.Context, ledgerTxIDs []string) (map[string]bool, error) {
	var ids []string
	if err := s.db.SelectContext(ctx, &ids, `SELECT ledger_tx_id FROM deposits WHERE ledger_tx_id = ANY($1)`, pq.Array(ledgerTxIDs)); err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// RecordReconcileAction logs and counts one reconciliation action on a
// subject that has no read model to change (yet): a workflow started for a
// transaction or deposit payflow never heard of.
func (s *Store) RecordReconcileAction(ctx context.Context, kind, id, action, detail string) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error { return recordAction(ctx, tx, kind, id, action, detail) })
}

// ReconcileRehiveCredit is the kind of a merchant credit the reconciliation
// has found final (kept by its order or sent back), in reconcile_settled.
const ReconcileRehiveCredit = "rehive_credit"

// SettledSubjects returns those of ids of kind that are settled for good.
func (s *Store) SettledSubjects(ctx context.Context, kind string, ids []string) (map[string]bool, error) {
	var got []string
	if err := s.db.SelectContext(ctx, &got, `SELECT subject_id FROM reconcile_settled WHERE kind = $1 AND subject_id = ANY($2)`, kind, pq.Array(ids)); err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(got))
	for _, id := range got {
		out[id] = true
	}
	return out, nil
}
