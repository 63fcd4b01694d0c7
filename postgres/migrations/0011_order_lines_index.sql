-- 0011_order_lines_index: find a multi-line order by any of its lines' SKUs
-- (GET /orders?sku=, the console's search, backorder queues; issue 13). The
-- SQLite engine's 0012, translated; see there for the design.
--
-- order_lines holds every line of every multi-line order and nothing of a
-- one-line order (its line is orders.sku, which orders_sku and
-- orders_backordered cover), so the accept path, and the batched insert of
-- one-line orders (speculate.go), write no row more than before.
-- created_at is the order's, so a SKU's lines list in the listing's order as
-- an index range; backordered mirrors "the order is BACKORDERED" (wims.Tx
-- sets it on every move in and out), so each SKU's fill queue is a partial
-- index range, written only by backorder moves. The foreign key to
-- inventory takes FOR KEY SHARE on the item, which does not conflict with
-- the stock changes' FOR NO KEY UPDATE.
CREATE TABLE order_lines (
    order_id    TEXT COLLATE "C" NOT NULL REFERENCES orders (order_id),
    sku         TEXT COLLATE "C" NOT NULL REFERENCES inventory (sku),
    quantity    BIGINT NOT NULL CHECK (quantity > 0),
    created_at  TIMESTAMPTZ NOT NULL,
    backordered BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (order_id, sku)
);
CREATE INDEX order_lines_sku ON order_lines (sku, created_at, order_id);
CREATE INDEX order_lines_backordered ON order_lines (sku, created_at, order_id) WHERE backordered;

-- Backfill: the lines of the multi-line orders stored so far (0010), from
-- the JSON text column.
INSERT INTO order_lines (order_id, sku, quantity, created_at, backordered)
SELECT o.order_id, l ->> 'sku', (l ->> 'quantity')::bigint, o.created_at, o.status = 'BACKORDERED'
FROM orders o, jsonb_array_elements(o.lines::jsonb) l
WHERE o.lines IS NOT NULL;
