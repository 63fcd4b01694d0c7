-- 0011_order_lines: an order may have several lines (issue 13 item 2).
--
-- The lines of a multi-line order are stored as JSON in the order's row, and
-- NULL stands for the one line of sku and quantity, which every order before
-- this migration has. A column rather than an order_lines table: every read
-- of an order (a lock, a page of a listing) stays one row with no join, and
-- ADD COLUMN does not rebuild the orders table. sku stays the first line's
-- SKU (with its foreign key) and quantity the total of the lines; CreateOrder
-- checks the other lines' SKUs, and items are never deleted.
ALTER TABLE orders ADD COLUMN lines TEXT;
