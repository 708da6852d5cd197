-- Benchmarks over models (Converra's own meaning: one agent, 2..6 models): the models
-- compared, as a JSON array, or NULL for a benchmark that compares agents.
ALTER TABLE benchmarks ADD COLUMN models TEXT;
