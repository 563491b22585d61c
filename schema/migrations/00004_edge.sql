-- +goose Up
-- Idempotency keys are reserved before the handler runs (Stripe's design): a
-- row with no response yet is a request in progress, leased until
-- locked_until so that a process that died mid-request does not hold its key
-- forever; completed_at is set with the stored response.
ALTER TABLE idempotency_keys
    ALTER COLUMN status_code DROP NOT NULL,
    ALTER COLUMN response DROP NOT NULL,
    ADD COLUMN locked_until timestamptz,
    ADD COLUMN completed_at timestamptz;
UPDATE idempotency_keys SET completed_at = created_at;
-- Pruning by age.
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
CREATE INDEX webhook_inbox_received ON webhook_inbox (received_at);

-- +goose Down
DROP INDEX webhook_inbox_received;
DROP INDEX idempotency_keys_created;
DELETE FROM idempotency_keys WHERE completed_at IS NULL;
ALTER TABLE idempotency_keys
    DROP COLUMN completed_at,
    DROP COLUMN locked_until,
    ALTER COLUMN response SET NOT NULL,
    ALTER COLUMN status_code SET NOT NULL;
