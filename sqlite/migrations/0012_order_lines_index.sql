-- 0012_order_lines_index: find a multi-line order by any of its lines' SKUs
-- (GET /orders?sku=, the console's search, backorder queues; issue 13).
--
-- order_lines holds every line of every multi-line order, and nothing of a
-- one-line order: that order's one line is orders.sku, which the orders_sku
-- and orders_backordered indexes cover already, so the accept path, nearly
-- all one-line orders, writes no row more than before. A query by SKU reads
-- both: orders by sku, and order_lines by sku.
--
-- created_at is the order's (it never changes), so that a SKU's lines list
-- in the listing's (created_at, order_id) order as an index range.
-- backordered mirrors "the order is BACKORDERED" (wims.Tx sets it on every
-- move in and out), so the fill's queue of a SKU is a partial index range
-- too, written only by backorder moves. No foreign key to orders: orders is
-- rebuilt by some migrations (0009, 0010), and order_history has none either.
CREATE TABLE order_lines (
    order_id    TEXT NOT NULL,
    sku         TEXT NOT NULL REFERENCES inventory (sku),
    quantity    INTEGER NOT NULL CHECK (quantity > 0),
    created_at  INTEGER NOT NULL,
    backordered INTEGER NOT NULL DEFAULT 0 CHECK (backordered IN (0, 1)),
    PRIMARY KEY (order_id, sku)
) WITHOUT ROWID;
CREATE INDEX order_lines_sku ON order_lines (sku, created_at, order_id);
CREATE INDEX order_lines_backordered ON order_lines (sku, created_at, order_id) WHERE backordered = 1;

-- Backfill: the lines of the multi-line orders stored so far (0011), from
-- the JSON column. Multi-line orders were never BACKORDERED before this
-- migration, but the flag is derived from the status all the same.
INSERT INTO order_lines (order_id, sku, quantity, created_at, backordered)
SELECT o.order_id, json_extract(l.value, '$.sku'), json_extract(l.value, '$.quantity'), o.created_at,
       o.status = 'BACKORDERED'
FROM orders o, json_each(o.lines) l
WHERE o.lines IS NOT NULL;
