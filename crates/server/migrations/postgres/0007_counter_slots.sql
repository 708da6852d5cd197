-- The counters every conversation create adds to are split into slots, summed on read, so
-- concurrent creates of one account (and one agent) update different rows and no longer
-- commit one after another, each holding the one row until its commit reaches the disk
-- (docs/scaling.md, "Where the time goes"). A create picks its slot from its
-- conversation's id; everything else counts in slot 0.
--
-- Old binaries read the agents' columns dropped below: stop them before this migration
-- runs (a rolling upgrade across it is not supported).

ALTER TABLE usage_daily ADD COLUMN slot BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage_daily DROP CONSTRAINT usage_daily_pkey, ADD PRIMARY KEY (account_id, day, slot);

-- An agent's conversations and its latest activity, per slot.
CREATE TABLE agent_activity (
    account_id       TEXT NOT NULL,
    agent_id         TEXT NOT NULL,
    slot             BIGINT NOT NULL,
    conversations    BIGINT NOT NULL DEFAULT 0,
    last_activity_at BIGINT,
    PRIMARY KEY (account_id, agent_id, slot),
    FOREIGN KEY (account_id, agent_id) REFERENCES agents (account_id, id) ON DELETE CASCADE
);

INSERT INTO agent_activity (account_id, agent_id, slot, conversations, last_activity_at)
SELECT account_id, id, 0, conversation_count, last_activity_at FROM agents
WHERE conversation_count > 0 OR last_activity_at IS NOT NULL;

ALTER TABLE agents DROP COLUMN conversation_count, DROP COLUMN last_activity_at;
