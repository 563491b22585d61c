-- +goose Up
-- The read model of checkouts, written by the workflow's activities. The
-- workflow is the source of truth while it runs; these rows answer once it has
-- closed and back the list endpoint.
CREATE TABLE orders (
    order_id            text PRIMARY KEY,
    status              text NOT NULL,
    amount              bigint NOT NULL,
    currency            text NOT NULL,
    payment_method      text NOT NULL CHECK (payment_method IN ('card', 'rehive')),
    customer_email      text NOT NULL DEFAULT '',
    failure_reason      text NOT NULL DEFAULT '',
    request_hash        text NOT NULL,
    workflow_id         text NOT NULL,
    run_id              text NOT NULL DEFAULT '',
    state               jsonb NOT NULL DEFAULT '{}',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_status_created ON orders (status, created_at DESC, order_id DESC);
CREATE INDEX orders_created ON orders (created_at DESC, order_id DESC);

CREATE TABLE order_lines (
    order_id   text NOT NULL REFERENCES orders (order_id),
    sku        text NOT NULL,
    quantity   bigint NOT NULL CHECK (quantity > 0),
    unit_price bigint NOT NULL,
    PRIMARY KEY (order_id, sku)
);

CREATE TABLE payments (
    order_id            text NOT NULL REFERENCES orders (order_id),
    provider            text NOT NULL,
    provider_payment_id text NOT NULL,
    status              text NOT NULL,
    amount              bigint NOT NULL,
    currency            text NOT NULL,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, provider_payment_id)
);
CREATE INDEX payments_order ON payments (order_id);

CREATE TABLE order_status_history (
    id       bigserial PRIMARY KEY,
    order_id text NOT NULL REFERENCES orders (order_id),
    status   text NOT NULL,
    detail   text NOT NULL DEFAULT '',
    at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (order_id, status)
);

-- A card token waits here between the API request and the charge activity,
-- so it never enters workflow history; it is deleted as soon as the order
-- moves past reserved (the charge has been made).
CREATE TABLE payment_tokens (
    order_id   text PRIMARY KEY,
    token      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE payment_tokens;
DROP TABLE order_status_history;
DROP TABLE payments;
DROP TABLE order_lines;
DROP TABLE orders;
