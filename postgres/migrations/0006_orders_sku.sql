-- 0004_orders_sku: list an item's orders newest first (the console's orders
-- search by SKU, wims.OrderFilter.SKU) as an index range, in the listing's
-- (created_at, order_id) order. The SQLite engine's 0005, translated.
CREATE INDEX orders_sku ON orders (sku, created_at, order_id);
