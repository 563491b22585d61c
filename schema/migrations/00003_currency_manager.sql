-- +goose Up
-- Currencies this service manages on Rehive: a copy of the configuration
-- (PAYFLOW_MANAGED_CURRENCIES), synced at every start so operators and the
-- API can see it. Routing and the workflows read the configuration itself.
CREATE TABLE managed_currencies (
    code       text PRIMARY KEY,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Rehive transactions and collections as last looked up, with the flow we
-- chose and where it stands.
CREATE TABLE rehive_collections (
    id         text PRIMARY KEY,
    status     text NOT NULL DEFAULT '',
    raw        jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE rehive_transactions (
    id             text PRIMARY KEY,
    collection_id  text NOT NULL DEFAULT '',
    tx_type        text NOT NULL DEFAULT '',
    currency       text NOT NULL DEFAULT '',
    amount         bigint NOT NULL DEFAULT 0,
    account        text NOT NULL DEFAULT '',
    rehive_status  text NOT NULL DEFAULT '',
    flow           text NOT NULL DEFAULT '',
    status         text NOT NULL DEFAULT '',
    failure_reason text NOT NULL DEFAULT '',
    ledger_tx_id   text NOT NULL DEFAULT '',
    state          jsonb NOT NULL DEFAULT '{}',
    raw            jsonb NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Which ledger transaction mirrors which Rehive transaction.
CREATE TABLE ledger_links (
    rehive_tx_id text PRIMARY KEY,
    ledger_tx_id text NOT NULL UNIQUE,
    kind         text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Rehive account <-> ledger account, the deposit flow's lookup table.
CREATE TABLE account_links (
    rehive_account text PRIMARY KEY,
    ledger_account text NOT NULL,
    currency       text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (ledger_account, currency)
);

CREATE TABLE deposits (
    ledger_tx_id  text PRIMARY KEY,
    rehive_tx_id  text NOT NULL DEFAULT '',
    account       text NOT NULL DEFAULT '',
    amount        bigint NOT NULL DEFAULT 0,
    currency      text NOT NULL DEFAULT '',
    status        text NOT NULL DEFAULT '',
    failure_reason text NOT NULL DEFAULT '',
    state         jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE deposits;
DROP TABLE account_links;
DROP TABLE ledger_links;
DROP TABLE rehive_transactions;
DROP TABLE rehive_collections;
DROP TABLE managed_currencies;
