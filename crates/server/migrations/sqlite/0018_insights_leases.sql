-- A conversation's queued insights are leased by the server process reading them, as
-- running optimizations and benchmarks are (0017): a claim skips leased jobs until their
-- lease runs out.
ALTER TABLE insights_jobs ADD COLUMN lease_owner TEXT;
ALTER TABLE insights_jobs ADD COLUMN lease_expires_at BIGINT;
