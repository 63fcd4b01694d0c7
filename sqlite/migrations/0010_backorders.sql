-- 0010_backorders: an item may allow backorders (DESIGN §10, issue 13 item 3):
-- an order beyond its stock waits as BACKORDERED, and restocks fill the
-- waiting orders first-come first-served.
--
-- SQLite cannot alter a CHECK constraint, so the orders table is rebuilt, as
-- in 0009 (see there).
CREATE TABLE orders_new (
    order_id       TEXT PRIMARY KEY,
    customer_id    TEXT NOT NULL,
    sku            TEXT NOT NULL REFERENCES inventory (sku),
    quantity       INTEGER NOT NULL CHECK (quantity > 0),
    status         TEXT NOT NULL CHECK (status IN ('PENDING', 'RESERVED', 'PAID', 'REJECTED', 'PAYMENT_FAILED',
                                                   'CANCELLED', 'REFUND_PENDING', 'REFUNDED', 'SHIPPED',
                                                   'BACKORDERED')),
    reason         TEXT NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    stock_released INTEGER NOT NULL DEFAULT 0 CHECK (stock_released IN (0, 1)),
    carrier        TEXT NOT NULL DEFAULT '',
    tracking_id    TEXT NOT NULL DEFAULT ''
);
INSERT INTO orders_new SELECT order_id, customer_id, sku, quantity, status, reason, created_at, updated_at,
    stock_released, carrier, tracking_id FROM orders;
DROP TABLE orders;
ALTER TABLE orders_new RENAME TO orders;
CREATE INDEX orders_customer_id ON orders (customer_id, created_at);
CREATE INDEX orders_status ON orders (status, created_at);
CREATE INDEX orders_created_at_id ON orders (created_at, order_id);
CREATE INDEX orders_sku ON orders (sku, created_at, order_id); -- made by 0007, dropped with the old table
-- The fill's queue, oldest first per SKU. Partial: only waiting orders are in
-- it, so the accept path (PENDING inserts) never writes to it.
CREATE INDEX orders_backordered ON orders (sku, created_at, order_id) WHERE status = 'BACKORDERED';

ALTER TABLE inventory ADD COLUMN allow_backorder INTEGER NOT NULL DEFAULT 0 CHECK (allow_backorder IN (0, 1));
