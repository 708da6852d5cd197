-- A conversation's queued insights are leased by the server process reading them, as
-- running optimizations and benchmarks are (0003): a claim skips leased jobs (and rows
-- another claim holds locked) until the lease runs out, so several processes share the
-- queue and none reads a conversation another is reading.
ALTER TABLE insights_jobs ADD COLUMN lease_owner TEXT;
ALTER TABLE insights_jobs ADD COLUMN lease_expires_at BIGINT;
