-- 0001_init: the first schema of the wims store.
--
-- Times are INTEGER unix microseconds (UTC). Microseconds because that is what
-- PostgreSQL's timestamptz keeps, so both engines round-trip the same values;
-- integers because they sort and compare correctly, unlike RFC 3339 text whose
-- fraction has a variable length.

-- store_meta holds one-off facts about the database, e.g. that it was seeded,
-- so that deleting the seed item later does not seed it again.
CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE inventory (
    sku                 TEXT PRIMARY KEY,
    product_name        TEXT NOT NULL,
    model               TEXT NOT NULL,
    -- The last line of defence against overselling: the store checks first,
    -- but a bug there must fail the write, not drive stock negative.
    quantity            INTEGER NOT NULL CHECK (quantity >= 0),
    low_stock_threshold INTEGER NOT NULL CHECK (low_stock_threshold >= 0),
    updated_at          INTEGER NOT NULL
);

CREATE TABLE orders (
    order_id    TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    -- No index on sku: inventory rows are never deleted or re-keyed, so SQLite
    -- never has to search orders for children, and the accept path stays lean.
    sku         TEXT NOT NULL REFERENCES inventory (sku),
    quantity    INTEGER NOT NULL CHECK (quantity > 0),
    status      TEXT NOT NULL CHECK (status IN ('PENDING', 'RESERVED', 'PAID', 'REJECTED', 'PAYMENT_FAILED')),
    reason      TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX orders_customer_id ON orders (customer_id, created_at);
CREATE INDEX orders_status ON orders (status, created_at);
CREATE INDEX orders_created_at ON orders (created_at);

-- change_log is the outbox the CDC relay reads. AUTOINCREMENT so a seq is
-- never reused, even after the newest rows were pruned; with a single writer
-- seq order is commit order, so a reader never sees a gap that fills later.
CREATE TABLE change_log (
    seq                  INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id             TEXT NOT NULL UNIQUE,
    tbl                  TEXT NOT NULL,
    event_type           TEXT NOT NULL CHECK (event_type IN ('INSERT', 'UPDATE', 'REMOVE')),
    key_json             TEXT NOT NULL,
    changed_columns_json TEXT NOT NULL,
    new_image            TEXT,
    old_image            TEXT,
    at                   INTEGER NOT NULL,
    traceparent          TEXT NOT NULL DEFAULT ''
);

-- payment_attempts is append-only history: a redelivered payment message may
-- record the same attempt number twice, and that must not fail the dispatcher.
CREATE TABLE payment_attempts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id    TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    outcome     TEXT NOT NULL,
    status_code INTEGER NOT NULL DEFAULT 0,
    error       TEXT NOT NULL DEFAULT '',
    at          INTEGER NOT NULL,
    duration_ms REAL NOT NULL DEFAULT 0
);
CREATE INDEX payment_attempts_order_id ON payment_attempts (order_id, id);

CREATE TABLE executions (
    execution_id TEXT PRIMARY KEY,
    order_id     TEXT NOT NULL,
    workflow     TEXT NOT NULL,
    status       TEXT NOT NULL,
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER,
    steps_json   TEXT NOT NULL,
    event_id     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX executions_order_id ON executions (order_id, started_at);

CREATE TABLE notifications_sent (
    id     TEXT NOT NULL,
    target TEXT NOT NULL,
    at     INTEGER NOT NULL,
    PRIMARY KEY (id, target)
) WITHOUT ROWID;
