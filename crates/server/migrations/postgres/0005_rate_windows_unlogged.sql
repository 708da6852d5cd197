-- Rate-limit windows are counted once per request: kept out of the write-ahead log, their
-- upsert commits without waiting for a disk flush, so an account's requests do not queue
-- behind one another's fsync on the window's row. A crash (or a failover to a replica)
-- forgets the current minute's counts, which only lets that minute start afresh.
ALTER TABLE rate_windows SET UNLOGGED;
