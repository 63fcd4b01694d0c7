-- 0002_order_history: each order's status changes, for GET /orders/{id}, and
-- an index for listing orders newest first.
--
-- A row is written in the same transaction as the order insert (PENDING) and
-- as each status transition, so the history can never disagree with the
-- order. seq orders rows that share a microsecond.
CREATE TABLE order_history (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id TEXT NOT NULL,
    status   TEXT NOT NULL,
    reason   TEXT NOT NULL DEFAULT '',
    at       INTEGER NOT NULL
);
CREATE INDEX order_history_order_id ON order_history (order_id, seq);

-- Orders that predate this table get the history their row can vouch for:
-- created PENDING, and their current status when it last changed.
INSERT INTO order_history (order_id, status, reason, at)
    SELECT order_id, 'PENDING', '', created_at FROM orders ORDER BY created_at, order_id;
INSERT INTO order_history (order_id, status, reason, at)
    SELECT order_id, status, reason, updated_at FROM orders WHERE status <> 'PENDING' ORDER BY updated_at, order_id;

-- Listing newest first pages by (created_at DESC, order_id DESC); the 0001
-- indexes on (customer_id, created_at) and (status, created_at) serve the
-- filtered listings, this one the unfiltered one without a sort.
CREATE INDEX orders_created_at_id ON orders (created_at, order_id);
DROP INDEX orders_created_at; -- a prefix of orders_created_at_id
