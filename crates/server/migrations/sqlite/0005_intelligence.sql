-- Insights, optimizations and benchmarks.

-- Why a conversation's insights failed, and how often they were tried.
ALTER TABLE conversations ADD COLUMN insights_attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN insights_error_code TEXT;
ALTER TABLE conversations ADD COLUMN insights_error TEXT;
-- Issues the insights found (NULL until they are ready): the `hasIssues` filter.
ALTER TABLE conversations ADD COLUMN issue_count BIGINT;

-- The durable insights queue: one row per conversation waiting for (another) attempt.
CREATE TABLE insights_jobs (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
    account_id      TEXT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX insights_jobs_due ON insights_jobs (next_attempt_at);

-- Ready insights: the engine's whole reading as JSON, and the numbers aggregates need as
-- columns. `conversation_created_at` lets periods be read without joining conversations.
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
    task_completed          BOOLEAN NOT NULL,
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

-- One row per issue kind found in a conversation.
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

-- One row per diagnosed step.
CREATE TABLE conversation_steps (
    conversation_id         TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    position                BIGINT NOT NULL,
    account_id              TEXT NOT NULL,
    agent_id                TEXT NOT NULL,
    conversation_created_at BIGINT NOT NULL,
    name                    TEXT NOT NULL,
    failed                  BOOLEAN NOT NULL,
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
    intent                TEXT,                  -- JSON or NULL
    persona_ids           TEXT NOT NULL,         -- JSON array
    simulation            TEXT NOT NULL,         -- JSON: the simulation plan
    seed                  BIGINT NOT NULL,
    engine                TEXT NOT NULL,
    phase                 TEXT NOT NULL,
    simulations_completed BIGINT NOT NULL DEFAULT 0,
    simulations_total     BIGINT NOT NULL DEFAULT 0,
    results               TEXT,                  -- JSON or NULL
    applied_variant_id    TEXT,
    applied_at            BIGINT,
    error_code            TEXT,
    error_message         TEXT,
    created_at            BIGINT NOT NULL,
    started_at            BIGINT,
    completed_at          BIGINT,
    updated_at            BIGINT NOT NULL
);
CREATE INDEX optimizations_account ON optimizations (account_id, created_at DESC, id DESC);
CREATE INDEX optimizations_status ON optimizations (status);

CREATE TABLE optimization_variants (
    id              TEXT PRIMARY KEY,
    optimization_id TEXT NOT NULL REFERENCES optimizations (id) ON DELETE CASCADE,
    position        BIGINT NOT NULL,         -- 0 = the control
    name            TEXT NOT NULL,
    content         TEXT NOT NULL,
    change_summary  TEXT NOT NULL,
    addresses       TEXT NOT NULL DEFAULT '[]',
    report          TEXT,                     -- JSON: the variant's statistics once evaluated
    UNIQUE (optimization_id, position)
);

-- Every simulated conversation of an optimization, so a restart resumes where it stopped
-- and the dashboard can show sample transcripts.
CREATE TABLE simulations (
    id              TEXT PRIMARY KEY,
    optimization_id TEXT NOT NULL REFERENCES optimizations (id) ON DELETE CASCADE,
    variant_id      TEXT NOT NULL REFERENCES optimization_variants (id) ON DELETE CASCADE,
    cell            BIGINT NOT NULL,          -- persona × scenario × replicate: the pairing key
    persona_id      TEXT NOT NULL,
    scenario_id     TEXT NOT NULL,
    messages        TEXT NOT NULL,
    scores          TEXT NOT NULL,            -- JSON array of the 11 metrics
    overall_score   DOUBLE PRECISION NOT NULL,
    task_completed  BOOLEAN NOT NULL,
    tokens          BIGINT NOT NULL,
    latency_ms      DOUBLE PRECISION NOT NULL,
    created_at      BIGINT NOT NULL,
    UNIQUE (variant_id, cell)
);

CREATE TABLE benchmarks (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    agent_ids       TEXT NOT NULL,            -- JSON array
    persona_ids     TEXT NOT NULL,            -- JSON array
    scenario_count  BIGINT NOT NULL,
    max_turns       BIGINT NOT NULL,
    seed            BIGINT NOT NULL,
    engine          TEXT NOT NULL,
    completed_runs  BIGINT NOT NULL DEFAULT 0,
    total_runs      BIGINT NOT NULL,
    results         TEXT,                     -- JSON or NULL
    winner          TEXT,
    error_code      TEXT,
    error_message   TEXT,
    created_at      BIGINT NOT NULL,
    started_at      BIGINT,
    completed_at    BIGINT,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX benchmarks_account ON benchmarks (account_id, created_at DESC, id DESC);
CREATE INDEX benchmarks_status ON benchmarks (status);
