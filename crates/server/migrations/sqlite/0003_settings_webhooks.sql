-- Account settings, webhooks and their durable outbox. Timestamps are milliseconds since
-- the Unix epoch (BIGINT), as in 0001.

-- One row per account that saved settings; an account without one reads the defaults.
CREATE TABLE settings (
    account_id  TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    -- JSON of converra_api::settings::Settings (llm.hasApiKey is derived, not stored).
    document    TEXT NOT NULL,
    -- Write-only through the API: read by the server's model client, never answered.
    llm_api_key TEXT,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE webhooks (
    id                   TEXT PRIMARY KEY,
    account_id           TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    url                  TEXT NOT NULL,
    -- JSON array of event names.
    events               TEXT NOT NULL,
    description          TEXT,
    -- The HMAC key of each delivery's signature; shown to the caller once, at creation.
    secret               TEXT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    -- Deliveries that failed for good since the last success; at the limit the webhook is
    -- disabled.
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);

CREATE INDEX webhooks_account_created ON webhooks (account_id, created_at DESC, id DESC);

-- An event that at least one webhook subscribed to; its deliveries share its id and data.
CREATE TABLE webhook_events (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    type       TEXT NOT NULL,
    data       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- The outbox: written in the transaction that makes the event happen, sent by the worker.
CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    webhook_id      TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id        TEXT NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    -- The type as sent: the name the webhook subscribed to (an older name stays older).
    event_type      TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempt_count   INTEGER NOT NULL DEFAULT 0,
    -- While pending: when the worker may next send it. A send in flight pushes it out by a
    -- lease, so a crash mid-send is retried after a restart.
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
    attempt      INTEGER NOT NULL,
    status_code  INTEGER,
    duration_ms  BIGINT NOT NULL,
    error        TEXT,
    attempted_at BIGINT NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
