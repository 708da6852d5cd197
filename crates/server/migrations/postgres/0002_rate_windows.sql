-- Per-account rate-limit windows shared by every server process on this database (on
-- SQLite, one process keeps them in memory). One row per account per one-minute window;
-- old windows are deleted by the usage flusher.
CREATE TABLE rate_windows (
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    window_start BIGINT NOT NULL,
    admitted     BIGINT NOT NULL,
    PRIMARY KEY (account_id, window_start)
);
