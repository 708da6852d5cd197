-- The PostgreSQL schema: the same tables, columns and meanings as the SQLite migrations
-- (../sqlite/), in their final shape. Timestamps are milliseconds since the Unix epoch
-- (BIGINT); JSON lives in TEXT columns, read with CAST(... AS jsonb) where a query looks
-- inside; flags are 0/1 INTEGER, as on SQLite.

CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    email         TEXT,
    plan          TEXT NOT NULL CHECK (plan IN ('free', 'pro', 'enterprise')),
    custom_limits TEXT,
    created_at    BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key_hash     TEXT NOT NULL UNIQUE,
    key_prefix   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT,
    expires_at   BIGINT
);
CREATE INDEX api_keys_account ON api_keys (account_id);

CREATE TABLE agents (
    id                 TEXT PRIMARY KEY,
    account_id         TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    content            TEXT NOT NULL,
    content_hash       TEXT NOT NULL,
    llm_model          TEXT NOT NULL,
    description        TEXT,
    tags               TEXT NOT NULL DEFAULT '[]',
    status             TEXT NOT NULL CHECK (status IN ('draft', 'active', 'deprecated', 'archived')),
    objective          TEXT,
    constraints        TEXT,
    temperature        DOUBLE PRECISION,
    top_p              DOUBLE PRECISION,
    max_tokens         BIGINT,
    reasoning_effort   TEXT,
    version            BIGINT NOT NULL,
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
    source          TEXT NOT NULL CHECK (source IN ('manual', 'optimization', 'sdk', 'otel')),
    optimization_id TEXT,
    variant_id      TEXT,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (agent_id, version)
);
CREATE INDEX agent_versions_hash ON agent_versions (content_hash);

CREATE TABLE conversations (
    id                  TEXT PRIMARY KEY,
    account_id          TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    agent_id            TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    status              TEXT NOT NULL CHECK (status IN ('in_progress', 'active', 'completed', 'abandoned')),
    llm_model           TEXT,
    company_name        TEXT,
    title               TEXT,
    session_id          TEXT,
    user_id             TEXT,
    trace_id            TEXT,
    parent_trace_id     TEXT,
    metadata            TEXT NOT NULL DEFAULT '{}',
    tool_definitions    TEXT,
    messages            TEXT NOT NULL DEFAULT '[]',
    message_count       BIGINT NOT NULL,
    total_tokens        BIGINT NOT NULL DEFAULT 0,
    has_failed_steps    INTEGER NOT NULL DEFAULT 0,
    insights_status     TEXT NOT NULL CHECK (insights_status IN ('pending', 'ready', 'skipped', 'failed')),
    quality_score       DOUBLE PRECISION,
    variant_id          TEXT,
    optimization_id     TEXT,
    idempotency_key     TEXT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    insights_attempts   BIGINT NOT NULL DEFAULT 0,
    insights_error_code TEXT,
    insights_error      TEXT,
    issue_count         BIGINT,
    source              TEXT NOT NULL DEFAULT 'api' CHECK (source IN ('sdk', 'api', 'otel')),
    otel_key            TEXT
);
CREATE INDEX conversations_account_created ON conversations (account_id, created_at DESC, id DESC);
CREATE INDEX conversations_agent_created ON conversations (account_id, agent_id, created_at DESC, id DESC);
CREATE INDEX conversations_account_session ON conversations (account_id, session_id);
CREATE INDEX conversations_account_quality ON conversations (account_id, quality_score);
CREATE INDEX conversations_account_source ON conversations (account_id, source, created_at DESC, id DESC);
CREATE UNIQUE INDEX conversations_idempotency ON conversations (account_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE UNIQUE INDEX conversations_otel_key ON conversations (account_id, otel_key)
    WHERE otel_key IS NOT NULL;

-- The search index: each conversation's searchable text (what was said, or else the title),
-- case- and accent-folded by the server before it is written, so search reads words as
-- SQLite's index does. A table of its own keeps `SELECT *` on conversations to plain types.
CREATE TABLE conversation_search (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
    account_id      TEXT NOT NULL,
    body            tsvector NOT NULL
);
CREATE INDEX conversation_search_body ON conversation_search USING GIN (body);

CREATE TABLE settings (
    account_id  TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    document    TEXT NOT NULL,
    llm_api_key TEXT,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE webhooks (
    id                   TEXT PRIMARY KEY,
    account_id           TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    url                  TEXT NOT NULL,
    events               TEXT NOT NULL,
    description          TEXT,
    secret               TEXT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    consecutive_failures BIGINT NOT NULL DEFAULT 0,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX webhooks_account_created ON webhooks (account_id, created_at DESC, id DESC);

CREATE TABLE webhook_events (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    type       TEXT NOT NULL,
    data       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    webhook_id      TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id        TEXT NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    event_type      TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempt_count   BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT,
    redelivery_of   TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_webhook_created
    ON webhook_deliveries (webhook_id, created_at DESC, id DESC);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);

CREATE TABLE webhook_attempts (
    delivery_id  TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt      BIGINT NOT NULL,
    status_code  BIGINT,
    duration_ms  BIGINT NOT NULL,
    error        TEXT,
    attempted_at BIGINT NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);

CREATE TABLE usage_daily (
    account_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    day           TEXT NOT NULL,
    requests      BIGINT NOT NULL DEFAULT 0,
    conversations BIGINT NOT NULL DEFAULT 0,
    optimizations BIGINT NOT NULL DEFAULT 0,
    tokens        BIGINT NOT NULL DEFAULT 0,
    benchmarks    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, day)
);

CREATE TABLE insights_jobs (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
    account_id      TEXT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    generation      BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX insights_jobs_due ON insights_jobs (next_attempt_at);

CREATE TABLE conversation_insights (
    conversation_id         TEXT PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
    id                      TEXT NOT NULL UNIQUE,
    account_id              TEXT NOT NULL,
    agent_id                TEXT NOT NULL,
    conversation_created_at BIGINT NOT NULL,
    engine                  TEXT NOT NULL,
    analysis                TEXT NOT NULL,
    quality_score           DOUBLE PRECISION NOT NULL,
    gated_score             DOUBLE PRECISION NOT NULL,
    task_completed          INTEGER NOT NULL,
    sentiment               TEXT NOT NULL,
    sentiment_score         DOUBLE PRECISION NOT NULL,
    success_score           DOUBLE PRECISION NOT NULL,
    ai_relevancy            DOUBLE PRECISION NOT NULL,
    sentiment_metric        DOUBLE PRECISION NOT NULL,
    hallucination_score     DOUBLE PRECISION NOT NULL,
    repetition_score        DOUBLE PRECISION NOT NULL,
    consistency_score       DOUBLE PRECISION NOT NULL,
    natural_language_score  DOUBLE PRECISION NOT NULL,
    context_retention_score DOUBLE PRECISION NOT NULL,
    verbosity_score         DOUBLE PRECISION NOT NULL,
    task_completion         DOUBLE PRECISION NOT NULL,
    clarity                 DOUBLE PRECISION NOT NULL,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
);
CREATE INDEX conversation_insights_agent ON conversation_insights (account_id, agent_id, conversation_created_at);

CREATE TABLE conversation_issues (
    conversation_id         TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    account_id              TEXT NOT NULL,
    agent_id                TEXT NOT NULL,
    conversation_created_at BIGINT NOT NULL,
    kind                    TEXT NOT NULL,
    severity                TEXT NOT NULL,
    PRIMARY KEY (conversation_id, kind)
);
CREATE INDEX conversation_issues_agent ON conversation_issues (account_id, agent_id, conversation_created_at);

CREATE TABLE conversation_steps (
    conversation_id         TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    position                BIGINT NOT NULL,
    account_id              TEXT NOT NULL,
    agent_id                TEXT NOT NULL,
    conversation_created_at BIGINT NOT NULL,
    name                    TEXT NOT NULL,
    failed                  INTEGER NOT NULL DEFAULT 0,
    error                   TEXT,
    root_cause              TEXT,
    PRIMARY KEY (conversation_id, position)
);
CREATE INDEX conversation_steps_agent ON conversation_steps (account_id, agent_id, conversation_created_at);

CREATE TABLE optimizations (
    id                    TEXT PRIMARY KEY,
    account_id            TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    agent_id              TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    agent_version         BIGINT NOT NULL,
    status                TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'stopped')),
    mode                  TEXT NOT NULL,
    variant_count         BIGINT NOT NULL,
    intent                TEXT,
    persona_ids           TEXT NOT NULL,
    simulation            TEXT NOT NULL,
    seed                  BIGINT NOT NULL,
    engine                TEXT NOT NULL,
    phase                 TEXT NOT NULL,
    simulations_completed BIGINT NOT NULL DEFAULT 0,
    simulations_total     BIGINT NOT NULL DEFAULT 0,
    results               TEXT,
    applied_variant_id    TEXT,
    applied_at            BIGINT,
    error_code            TEXT,
    error_message         TEXT,
    created_at            BIGINT NOT NULL,
    started_at            BIGINT,
    completed_at          BIGINT,
    updated_at            BIGINT NOT NULL,
    optimization_strategy TEXT NOT NULL DEFAULT 'rewrite',
    max_iterations        BIGINT NOT NULL DEFAULT 0,
    generation            BIGINT
);
CREATE INDEX optimizations_account ON optimizations (account_id, created_at DESC, id DESC);
CREATE INDEX optimizations_status ON optimizations (status);

CREATE TABLE optimization_variants (
    id              TEXT PRIMARY KEY,
    optimization_id TEXT NOT NULL REFERENCES optimizations (id) ON DELETE CASCADE,
    position        BIGINT NOT NULL,
    name            TEXT NOT NULL,
    content         TEXT NOT NULL,
    change_summary  TEXT NOT NULL,
    addresses       TEXT NOT NULL DEFAULT '[]',
    report          TEXT,
    UNIQUE (optimization_id, position)
);

CREATE TABLE simulations (
    id              TEXT PRIMARY KEY,
    optimization_id TEXT NOT NULL REFERENCES optimizations (id) ON DELETE CASCADE,
    variant_id      TEXT NOT NULL REFERENCES optimization_variants (id) ON DELETE CASCADE,
    cell            BIGINT NOT NULL,
    persona_id      TEXT NOT NULL,
    scenario_id     TEXT NOT NULL,
    messages        TEXT NOT NULL,
    scores          TEXT NOT NULL,
    overall_score   DOUBLE PRECISION NOT NULL,
    task_completed  INTEGER NOT NULL DEFAULT 0,
    tokens          BIGINT NOT NULL,
    latency_ms      DOUBLE PRECISION NOT NULL,
    created_at      BIGINT NOT NULL,
    retest          INTEGER NOT NULL DEFAULT 0,
    UNIQUE (variant_id, cell)
);

CREATE TABLE benchmarks (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    agent_ids       TEXT NOT NULL,
    persona_ids     TEXT NOT NULL,
    scenario_count  BIGINT NOT NULL,
    max_turns       BIGINT NOT NULL,
    seed            BIGINT NOT NULL,
    engine          TEXT NOT NULL,
    completed_runs  BIGINT NOT NULL DEFAULT 0,
    total_runs      BIGINT NOT NULL,
    results         TEXT,
    winner          TEXT,
    error_code      TEXT,
    error_message   TEXT,
    created_at      BIGINT NOT NULL,
    started_at      BIGINT,
    completed_at    BIGINT,
    updated_at      BIGINT NOT NULL,
    models          TEXT
);
CREATE INDEX benchmarks_account ON benchmarks (account_id, created_at DESC, id DESC);
CREATE INDEX benchmarks_status ON benchmarks (status);

CREATE TABLE otel_items (
    account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    item_key        TEXT NOT NULL,
    trace_id        TEXT NOT NULL,
    conversation_id TEXT REFERENCES conversations (id) ON DELETE CASCADE,
    figures         TEXT,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (account_id, item_key)
);
CREATE INDEX otel_items_trace ON otel_items (account_id, trace_id);
