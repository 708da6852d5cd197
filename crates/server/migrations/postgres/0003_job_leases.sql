-- A running optimization or benchmark is leased by the server process running it: its id
-- and when the lease runs out unless renewed. Another process takes over a run whose lease
-- ran out (its process died), so no job is lost and none runs twice at once.
ALTER TABLE optimizations ADD COLUMN lease_owner TEXT;
ALTER TABLE optimizations ADD COLUMN lease_expires_at BIGINT;
ALTER TABLE benchmarks ADD COLUMN lease_owner TEXT;
ALTER TABLE benchmarks ADD COLUMN lease_expires_at BIGINT;
CREATE INDEX optimizations_running_leases ON optimizations (lease_expires_at) WHERE status = 'running';
CREATE INDEX benchmarks_running_leases ON benchmarks (lease_expires_at) WHERE status = 'running';
