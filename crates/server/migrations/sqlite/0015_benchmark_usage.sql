-- Benchmarks count against a monthly quota, so their creations are counted like
-- optimizations' (deleting one does not give its slot back).
ALTER TABLE usage_daily ADD COLUMN benchmarks BIGINT NOT NULL DEFAULT 0;
