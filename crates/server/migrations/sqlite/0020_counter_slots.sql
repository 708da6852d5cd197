-- The counters every conversation create adds to are split into slots on PostgreSQL, where
-- concurrent creates would otherwise commit one after another on one row. SQLite has one
-- writer, so its rows stay in slot 0; the columns and the unique index below back the
-- queries both backends share.

ALTER TABLE usage_daily ADD COLUMN slot BIGINT NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX usage_daily_slot ON usage_daily (account_id, day, slot);

-- An agent's conversations and its latest activity, per slot.
CREATE TABLE agent_activity (
    account_id       TEXT NOT NULL,
    agent_id         TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    slot             BIGINT NOT NULL,
    conversations    BIGINT NOT NULL DEFAULT 0,
    last_activity_at BIGINT,
    PRIMARY KEY (account_id, agent_id, slot)
);

INSERT INTO agent_activity (account_id, agent_id, slot, conversations, last_activity_at)
SELECT account_id, id, 0, conversation_count, last_activity_at FROM agents
WHERE conversation_count > 0 OR last_activity_at IS NOT NULL;

ALTER TABLE agents DROP COLUMN conversation_count;
ALTER TABLE agents DROP COLUMN last_activity_at;
