-- How an optimization writes its variants, and the reflective strategy's progress.
ALTER TABLE optimizations ADD COLUMN optimization_strategy TEXT NOT NULL DEFAULT 'rewrite';
ALTER TABLE optimizations ADD COLUMN max_iterations INTEGER NOT NULL DEFAULT 0;
ALTER TABLE optimizations ADD COLUMN generation INTEGER;
