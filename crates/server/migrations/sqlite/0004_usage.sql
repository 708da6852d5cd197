-- Usage per account per UTC day, counted as things happen (an upsert in the same
-- transaction as the thing counted; requests are batched from memory), so /usage and the
-- plan quotas read a month as at most 31 rows and never scan conversations.
CREATE TABLE usage_daily (
    account_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- 'YYYY-MM-DD' in UTC: text order is date order.
    day           TEXT NOT NULL,
    requests      BIGINT NOT NULL DEFAULT 0,
    conversations BIGINT NOT NULL DEFAULT 0,
    optimizations BIGINT NOT NULL DEFAULT 0,
    tokens        BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, day)
);
