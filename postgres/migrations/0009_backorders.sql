-- 0009_backorders: an item may allow backorders (DESIGN §10, issue 13 item 3):
-- an order beyond its stock waits as BACKORDERED, and restocks fill the
-- waiting orders first-come first-served. The SQLite engine's 0010, translated.
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN ('PENDING', 'RESERVED', 'PAID', 'REJECTED',
    'PAYMENT_FAILED', 'CANCELLED', 'REFUND_PENDING', 'REFUNDED', 'SHIPPED', 'BACKORDERED'));
-- The fill's queue, oldest first per SKU; partial, so order inserts never write to it.
CREATE INDEX orders_backordered ON orders (sku, created_at, order_id) WHERE status = 'BACKORDERED';
ALTER TABLE inventory ADD COLUMN allow_backorder BOOLEAN NOT NULL DEFAULT false;
