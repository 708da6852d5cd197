-- Validation mode retests a winner on fresh seeds before naming it: those simulations are kept
-- apart from the test's. Their cells continue the test's numbering, so (variant_id, cell)
-- stays unique.
ALTER TABLE simulations ADD COLUMN retest BOOLEAN NOT NULL DEFAULT FALSE;
