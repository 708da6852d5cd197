-- Accounts and their API keys. Timestamps are milliseconds since the Unix epoch
-- (BIGINT), which sorts and compares the same in SQLite and PostgreSQL.
CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    email         TEXT,
    plan          TEXT NOT NULL CHECK (plan IN ('free', 'pro', 'enterprise')),
    -- Enterprise limits are set per account: JSON of PlanLimits, NULL for the plan's own.
    custom_limits TEXT,
    created_at    BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- Hex SHA-256 of the key; the key itself is never stored.
    key_hash     TEXT NOT NULL UNIQUE,
    -- The first characters, to tell keys apart in a list.
    key_prefix   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT
);

CREATE INDEX api_keys_account ON api_keys (account_id);
