-- 0003_high_stock: an item's overstock threshold (0: none); a quantity rising
-- above it is an OVERSTOCK crossing, reported once per crossing like
-- LOW_STOCK. The SQLite engine's 0004, translated.
ALTER TABLE inventory ADD COLUMN high_stock_threshold BIGINT NOT NULL DEFAULT 0
    CHECK (high_stock_threshold >= 0);
