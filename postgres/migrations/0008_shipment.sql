-- 0008_shipment: a PAID order can be shipped (DESIGN §10, issue 13 item 4):
-- the SHIPPED status, and the shipment's carrier and tracking id. The SQLite
-- engine's 0009, translated (PostgreSQL alters the constraint in place).
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN ('PENDING', 'RESERVED', 'PAID', 'REJECTED',
    'PAYMENT_FAILED', 'CANCELLED', 'REFUND_PENDING', 'REFUNDED', 'SHIPPED'));
ALTER TABLE orders ADD COLUMN carrier TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN tracking_id TEXT NOT NULL DEFAULT '';
