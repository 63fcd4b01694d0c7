-- 0009_shipment: a PAID order can be shipped (DESIGN §10, issue 13 item 4):
-- the SHIPPED status, and the shipment's carrier and tracking id.
--
-- SQLite cannot alter a CHECK constraint, so the table is rebuilt, as in
-- 0005. Nothing references orders by a foreign key, so dropping the old table
-- inside the migration's transaction is safe; the indexes go with it and are
-- made again.
CREATE TABLE orders_new (
    order_id       TEXT PRIMARY KEY,
    customer_id    TEXT NOT NULL,
    sku            TEXT NOT NULL REFERENCES inventory (sku),
    quantity       INTEGER NOT NULL CHECK (quantity > 0),
    status         TEXT NOT NULL CHECK (status IN ('PENDING', 'RESERVED', 'PAID', 'REJECTED', 'PAYMENT_FAILED',
                                                   'CANCELLED', 'REFUND_PENDING', 'REFUNDED', 'SHIPPED')),
    reason         TEXT NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    stock_released INTEGER NOT NULL DEFAULT 0 CHECK (stock_released IN (0, 1)),
    carrier        TEXT NOT NULL DEFAULT '',
    tracking_id    TEXT NOT NULL DEFAULT ''
);
INSERT INTO orders_new (order_id, customer_id, sku, quantity, status, reason, created_at, updated_at, stock_released)
    SELECT order_id, customer_id, sku, quantity, status, reason, created_at, updated_at, stock_released FROM orders;
DROP TABLE orders;
ALTER TABLE orders_new RENAME TO orders;
CREATE INDEX orders_customer_id ON orders (customer_id, created_at);
CREATE INDEX orders_status ON orders (status, created_at);
CREATE INDEX orders_created_at_id ON orders (created_at, order_id);
CREATE INDEX orders_sku ON orders (sku, created_at, order_id); -- made by 0007, dropped with the old table
