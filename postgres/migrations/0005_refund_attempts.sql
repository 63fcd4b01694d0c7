-- 0005_refund_attempts: calls to the payments API are charges ('') or
-- refunds ('refund'); an order's refund attempts are counted apart from its
-- charge attempts (retries, dead letters), and GET /orders/{id} shows both.
-- The SQLite engine's 0006, translated.
ALTER TABLE payment_attempts ADD COLUMN kind TEXT NOT NULL DEFAULT '' CHECK (kind IN ('', 'refund'));
