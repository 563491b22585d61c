-- +goose Up
-- closed_workflow: a verified event whose workflow had already closed (a
-- payment after its order closed, a status change after a managed
-- transaction's run ended). The reconciliation settles it and sets
-- reconciled_at; dedup is untouched (the unique key stays).
ALTER TABLE webhook_inbox DROP CONSTRAINT webhook_inbox_status_check;
ALTER TABLE webhook_inbox ADD CONSTRAINT webhook_inbox_status_check
    CHECK (status IN ('pending', 'delivered', 'unroutable', 'ignored', 'closed_workflow'));
ALTER TABLE webhook_inbox ADD COLUMN reconciled_at timestamptz;
CREATE INDEX webhook_inbox_closed ON webhook_inbox (next_attempt_at)
    WHERE status = 'closed_workflow' AND reconciled_at IS NULL;

-- Every action the reconciliation took, by subject (an order, a Rehive
-- transaction, a deposit), for operators; reconcile_counts holds the totals
-- /metrics serves, updated in the same transaction.
CREATE TABLE reconcile_actions (
    id         bigserial PRIMARY KEY,
    kind       text NOT NULL CHECK (kind IN ('order', 'rehive_tx', 'deposit')),
    subject_id text NOT NULL,
    action     text NOT NULL,
    detail     text NOT NULL DEFAULT '',
    at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reconcile_actions_subject ON reconcile_actions (kind, subject_id);

CREATE TABLE reconcile_counts (
    kind   text NOT NULL,
    action text NOT NULL,
    n      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, action)
);

-- Subjects whose provider state is final and settled: the reconciliation
-- never asks about them again.
CREATE TABLE reconcile_settled (
    kind       text NOT NULL,
    subject_id text NOT NULL,
    outcome    text NOT NULL,
    settled_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, subject_id)
);

-- +goose Down
DROP TABLE reconcile_settled;
DROP TABLE reconcile_counts;
DROP TABLE reconcile_actions;
DROP INDEX webhook_inbox_closed;
ALTER TABLE webhook_inbox DROP COLUMN reconciled_at;
DELETE FROM webhook_inbox WHERE status = 'closed_workflow';
ALTER TABLE webhook_inbox DROP CONSTRAINT webhook_inbox_status_check;
ALTER TABLE webhook_inbox ADD CONSTRAINT webhook_inbox_status_check
    CHECK (status IN ('pending', 'delivered', 'unroutable', 'ignored'));
