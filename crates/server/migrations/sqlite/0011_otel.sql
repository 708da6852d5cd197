-- OpenTelemetry ingest: where each conversation came from, the key that groups spans into
-- one conversation, and every span and log record already taken, so a retried export adds
-- nothing.
ALTER TABLE conversations ADD COLUMN source TEXT NOT NULL DEFAULT 'api'
    CHECK (source IN ('sdk', 'api', 'otel'));
-- The official SDK marks what it logs; everything before this column came through the API.
UPDATE conversations SET source = 'sdk' WHERE json_extract(metadata, '$.source') = 'sdk';
CREATE INDEX conversations_account_source ON conversations (account_id, source, created_at DESC, id DESC);

-- `conversation:<gen_ai.conversation.id or session.id>` or `trace:<trace id>`.
ALTER TABLE conversations ADD COLUMN otel_key TEXT;
CREATE UNIQUE INDEX conversations_otel_key ON conversations (account_id, otel_key)
    WHERE otel_key IS NOT NULL;

-- `span:<trace id>/<span id>` for a span, `log:<digest>` for a log record.
CREATE TABLE otel_items (
    account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    item_key        TEXT NOT NULL,
    trace_id        TEXT NOT NULL,
    conversation_id TEXT REFERENCES conversations (id) ON DELETE CASCADE,
    -- A span's tokens, latency and model (JSON) kept until its messages arrive in log events.
    figures         TEXT,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (account_id, item_key)
);
CREATE INDEX otel_items_trace ON otel_items (account_id, trace_id);

-- Versions may now come from a system prompt seen in spans: SQLite cannot widen a CHECK in
-- place, so the table is rebuilt with the same rows.
CREATE TABLE agent_versions_new (
    agent_id        TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    version         BIGINT NOT NULL,
    content         TEXT NOT NULL,
    content_hash    TEXT NOT NULL,
    llm_model       TEXT NOT NULL,
    source          TEXT NOT NULL CHECK (source IN ('manual', 'optimization', 'sdk', 'otel')),
    optimization_id TEXT,
    variant_id      TEXT,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (agent_id, version)
);
INSERT INTO agent_versions_new SELECT agent_id, version, content, content_hash, llm_model, source,
    optimization_id, variant_id, created_at FROM agent_versions;
DROP TABLE agent_versions;
ALTER TABLE agent_versions_new RENAME TO agent_versions;
CREATE INDEX agent_versions_hash ON agent_versions (content_hash);
