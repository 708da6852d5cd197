-- Agents with their versions, and the conversations logged against them.
CREATE TABLE agents (
    id                 TEXT PRIMARY KEY,
    account_id         TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    content            TEXT NOT NULL,
    content_hash       TEXT NOT NULL,
    llm_model          TEXT NOT NULL,
    description        TEXT,
    tags               TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
    status             TEXT NOT NULL CHECK (status IN ('draft', 'active', 'deprecated', 'archived')),
    objective          TEXT,
    constraints        TEXT,
    temperature        DOUBLE PRECISION,
    top_p              DOUBLE PRECISION,
    max_tokens         BIGINT,
    reasoning_effort   TEXT,
    version            BIGINT NOT NULL,
    -- Kept up to date as conversations and their insights arrive, so lists never aggregate.
    conversation_count BIGINT NOT NULL DEFAULT 0,
    quality_sum        DOUBLE PRECISION NOT NULL DEFAULT 0,
    quality_count      BIGINT NOT NULL DEFAULT 0,
    last_activity_at   BIGINT,
    last_optimized_at  BIGINT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    UNIQUE (account_id, name)
);
CREATE INDEX agents_account_created ON agents (account_id, created_at DESC, id DESC);

CREATE TABLE agent_versions (
    agent_id        TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    version         BIGINT NOT NULL,
    content         TEXT NOT NULL,
    content_hash    TEXT NOT NULL,
    llm_model       TEXT NOT NULL,
    source          TEXT NOT NULL CHECK (source IN ('manual', 'optimization', 'sdk')),
    optimization_id TEXT,
    variant_id      TEXT,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (agent_id, version)
);
CREATE INDEX agent_versions_hash ON agent_versions (content_hash);

CREATE TABLE conversations (
    id               TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    agent_id         TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    status           TEXT NOT NULL CHECK (status IN ('in_progress', 'active', 'completed', 'abandoned')),
    llm_model        TEXT,
    company_name     TEXT,
    title            TEXT,
    session_id       TEXT,
    user_id          TEXT,
    trace_id         TEXT,
    parent_trace_id  TEXT,
    metadata         TEXT NOT NULL DEFAULT '{}',   -- JSON object
    tool_definitions TEXT,                         -- JSON array or NULL
    messages         TEXT NOT NULL DEFAULT '[]',   -- JSON array of messages
    message_count    BIGINT NOT NULL,
    total_tokens     BIGINT NOT NULL DEFAULT 0,
    has_failed_steps BOOLEAN NOT NULL DEFAULT FALSE,
    insights_status  TEXT NOT NULL CHECK (insights_status IN ('pending', 'ready', 'skipped', 'failed')),
    quality_score    DOUBLE PRECISION,
    variant_id       TEXT,
    optimization_id  TEXT,
    idempotency_key  TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
-- Newest-first keyset pages, per account and per agent.
CREATE INDEX conversations_account_created ON conversations (account_id, created_at DESC, id DESC);
CREATE INDEX conversations_agent_created ON conversations (account_id, agent_id, created_at DESC, id DESC);
CREATE INDEX conversations_account_session ON conversations (account_id, session_id);
CREATE INDEX conversations_account_quality ON conversations (account_id, quality_score);
CREATE UNIQUE INDEX conversations_idempotency ON conversations (account_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- Full-text index over the messages' text, keyed by the conversation's rowid. Contentless:
-- the text already lives in conversations.messages.
CREATE VIRTUAL TABLE conversations_fts USING fts5 (
    body,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);
