-- +goose Up
-- The catalog. stock is units on hand; reserved is the part held by open
-- checkouts, so stock - reserved is what can still be sold.
CREATE TABLE products (
    sku        text PRIMARY KEY CHECK (sku <> '' AND length(sku) <= 64),
    name       text NOT NULL,
    price      bigint NOT NULL CHECK (price >= 0),
    currency   text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    stock      bigint NOT NULL CHECK (stock >= 0),
    reserved   bigint NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= stock),
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per order line held against stock. status moves held -> committed
-- or held -> released exactly once, which makes commit and release idempotent.
CREATE TABLE reservations (
    order_id   text NOT NULL,
    sku        text NOT NULL REFERENCES products (sku),
    quantity   bigint NOT NULL CHECK (quantity > 0),
    status     text NOT NULL DEFAULT 'held' CHECK (status IN ('held', 'committed', 'released')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, sku)
);

-- Every verified provider webhook, recorded before it is acknowledged. The
-- unique key makes redelivery a no-op; delivered_at is set once the event has
-- reached its workflow, and the relay retries the rest.
CREATE TABLE webhook_inbox (
    id           bigserial PRIMARY KEY,
    provider     text NOT NULL,
    event_id     text NOT NULL,
    event_type   text NOT NULL,
    workflow_id  text,
    payload      jsonb NOT NULL,
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'unroutable', 'ignored')),
    note         text NOT NULL DEFAULT '',
    attempts     int NOT NULL DEFAULT 0,
    -- The relay's schedule: backoff after a failed attempt, and a lease while
    -- one relay works on the event, so replicas do not deliver it together.
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    received_at  timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    UNIQUE (provider, event_id)
);
CREATE INDEX webhook_inbox_pending ON webhook_inbox (next_attempt_at) WHERE status = 'pending';

-- Responses to POSTs that carried an Idempotency-Key.
CREATE TABLE idempotency_keys (
    scope        text NOT NULL,
    key          text NOT NULL,
    request_hash text NOT NULL,
    status_code  int NOT NULL,
    response     bytea NOT NULL, -- the exact bytes, replayed verbatim
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE webhook_inbox;
DROP TABLE reservations;
DROP TABLE products;
