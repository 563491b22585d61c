-- +goose Up
-- Units a refund put back on the shelf, once per (order, refund, sku): a
-- retried restock adds nothing. reservations.restocked sums them per line,
-- so a later full restock (a cancel) returns only what is still sold.
CREATE TABLE refund_restocks (
    order_id   text NOT NULL,
    refund_id  text NOT NULL,
    sku        text NOT NULL,
    quantity   bigint NOT NULL CHECK (quantity > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, refund_id, sku)
);
ALTER TABLE reservations ADD COLUMN restocked bigint NOT NULL DEFAULT 0;
ALTER TABLE reservations ADD CONSTRAINT reservations_restocked_check CHECK (restocked >= 0 AND restocked <= quantity);

-- Operators filter the inbox by the workflow an event went to (an order's
-- or a Rehive transaction's) and by event type, newest first.
CREATE INDEX webhook_inbox_workflow ON webhook_inbox (workflow_id, id);
CREATE INDEX webhook_inbox_type ON webhook_inbox (event_type, id);

-- +goose Down
DROP INDEX webhook_inbox_type;
DROP INDEX webhook_inbox_workflow;
ALTER TABLE reservations DROP CONSTRAINT reservations_restocked_check;
ALTER TABLE reservations DROP COLUMN restocked;
DROP TABLE refund_restocks;
