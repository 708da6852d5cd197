-- A running optimization or benchmark is leased by the server process running it: its id
-- and when the lease runs out unless renewed. (Only PostgreSQL serves several processes,
-- but both schemas hold the same columns.)
ALTER TABLE optimizations ADD COLUMN lease_owner TEXT;
ALTER TABLE optimizations ADD COLUMN lease_expires_at BIGINT;
ALTER TABLE benchmarks ADD COLUMN lease_owner TEXT;
ALTER TABLE benchmarks ADD COLUMN lease_expires_at BIGINT;
