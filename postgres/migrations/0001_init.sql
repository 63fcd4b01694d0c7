-- 0001_init: the first schema of the wims store on PostgreSQL. Same tables
-- and rules as the SQLite engine's 0001 and 0002, translated:
--
-- * Times are TIMESTAMPTZ, which keeps microseconds, the precision the store
--   truncates every time to, so values round-trip exactly.
-- * Keys (SKUs, order ids) use COLLATE "C": byte order, as SQLite compares
--   them, so listings and cursors sort the same on both engines whatever the
--   database's default collation is.
-- * Images and keys are TEXT, not JSONB: they must come back byte for byte as
--   json.Marshal wrote them (JSONB would reorder keys and drop whitespace).

-- store_meta holds one-off facts about the database, e.g. that it was seeded,
-- so that deleting the seed item later does not seed it again.
CREATE TABLE store_meta (
    key   TEXT COLLATE "C" PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE inventory (
    sku                 TEXT COLLATE "C" PRIMARY KEY,
    product_name        TEXT NOT NULL,
    model               TEXT NOT NULL,
    -- The last line of defence against overselling: the store checks first,
    -- but a bug there must fail the write, not drive stock negative.
    quantity            BIGINT NOT NULL CHECK (quantity >= 0),
    low_stock_threshold BIGINT NOT NULL CHECK (low_stock_threshold >= 0),
    updated_at          TIMESTAMPTZ NOT NULL
);

CREATE TABLE orders (
    order_id    TEXT COLLATE "C" PRIMARY KEY,
    customer_id TEXT COLLATE "C" NOT NULL,
    -- The foreign key check takes FOR KEY SHARE on the item, which does not
    -- conflict with the FOR NO KEY UPDATE locks that stock changes take, so
    -- accepting orders never waits for reservations on the same SKU.
    sku         TEXT COLLATE "C" NOT NULL REFERENCES inventory (sku),
    quantity    BIGINT NOT NULL CHECK (quantity > 0),
    status      TEXT NOT NULL CHECK (status IN ('PENDING', 'RESERVED', 'PAID', 'REJECTED', 'PAYMENT_FAILED')),
    reason      TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX orders_customer_id ON orders (customer_id, created_at);
CREATE INDEX orders_status ON orders (status, created_at);
-- Listing newest first pages by (created_at DESC, order_id DESC).
CREATE INDEX orders_created_at_id ON orders (created_at, order_id);

-- order_history holds each order's status changes, written in the same
-- transaction as the order insert (PENDING) and each transition. seq orders
-- the rows of one order: its transitions are serialised by the order's row
-- lock, so seq order is transition order.
CREATE TABLE order_history (
    seq      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id TEXT COLLATE "C" NOT NULL,
    status   TEXT NOT NULL,
    reason   TEXT NOT NULL DEFAULT '',
    at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX order_history_order_id ON order_history (order_id, seq);

-- change_seq is the change log's one-row counter. Every transaction that
-- appends changes takes its seqs with UPDATE ... RETURNING as its last
-- statement before COMMIT; the row lock it takes is held until the commit, so
-- seqs are handed out in commit order and a reader never sees seq n+1 before
-- seq n (see the package doc). A sequence would not do: nextval is neither
-- transactional nor ordered by commit.
CREATE TABLE change_seq (
    id  INT PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL CHECK (seq >= 0)
);
INSERT INTO change_seq (id, seq) VALUES (1, 0);

-- change_log is the outbox the CDC relay reads, by seq.
CREATE TABLE change_log (
    seq                  BIGINT PRIMARY KEY,
    event_id             TEXT COLLATE "C" NOT NULL UNIQUE,
    tbl                  TEXT NOT NULL,
    event_type           TEXT NOT NULL CHECK (event_type IN ('INSERT', 'UPDATE', 'REMOVE')),
    key_json             TEXT NOT NULL,
    changed_columns_json TEXT NOT NULL,
    new_image            TEXT,
    old_image            TEXT,
    at                   TIMESTAMPTZ NOT NULL,
    traceparent          TEXT NOT NULL DEFAULT ''
);

-- payment_attempts is append-only history: a redelivered payment message may
-- record the same attempt number twice, and that must not fail the dispatcher.
CREATE TABLE payment_attempts (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id    TEXT COLLATE "C" NOT NULL,
    attempt     INT NOT NULL,
    outcome     TEXT NOT NULL,
    status_code INT NOT NULL DEFAULT 0,
    error       TEXT NOT NULL DEFAULT '',
    at          TIMESTAMPTZ NOT NULL,
    duration_ms DOUBLE PRECISION NOT NULL DEFAULT 0
);
CREATE INDEX payment_attempts_order_id ON payment_attempts (order_id, id);

-- executions keep rid, the insertion order, as the tie-break between
-- executions that started in the same microsecond (SQLite's rowid).
CREATE TABLE executions (
    execution_id TEXT COLLATE "C" PRIMARY KEY,
    rid          BIGINT GENERATED ALWAYS AS IDENTITY,
    order_id     TEXT COLLATE "C" NOT NULL,
    workflow     TEXT NOT NULL,
    status       TEXT NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ,
    steps_json   TEXT NOT NULL,
    event_id     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX executions_order_id ON executions (order_id, started_at, rid);

CREATE TABLE notifications_sent (
    id     TEXT COLLATE "C" NOT NULL,
    target TEXT COLLATE "C" NOT NULL,
    at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (id, target)
);
