-- 0004_cancel: orders can be cancelled and refunded (DESIGN §10): three new
-- statuses, and stock_released, set on a REFUND_PENDING order whose stock
-- went back at its cancel already (a charge that succeeded after the cancel),
-- so that its refund does not put the stock back a second time. The SQLite
-- engine's 0005, translated (PostgreSQL alters the constraint in place).
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN ('PENDING', 'RESERVED', 'PAID', 'REJECTED',
    'PAYMENT_FAILED', 'CANCELLED', 'REFUND_PENDING', 'REFUNDED'));
ALTER TABLE orders ADD COLUMN stock_released BOOLEAN NOT NULL DEFAULT false;
