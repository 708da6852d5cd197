-- Every tenant table is keyed by its account first, so the tables can be distributed by
-- `account_id` (Citus) with each account's rows on one shard (docs/scaling.md, step 3):
--
-- * the child tables that reached their account only through a parent get `account_id`;
-- * primary keys and unique constraints lead with `account_id`;
-- * foreign keys between tenant tables are composite, `(account_id, parent_id)`, so none
--   crosses accounts (nor, once distributed, shards).
--
-- `accounts` and `api_keys` stay keyed by their own id: authentication resolves a key's
-- hash to its account before any account is known, so they become reference tables.
-- Queue indexes (`*_due`, `*_status`, `*_leases`) stay keyed by due time or status: they
-- serve claims that span accounts, which on Citus run on every shard against its own copy.

-- 1. Foreign keys that point at a single-column key go first, since the keys they
--    depend on are replaced below.
ALTER TABLE agent_versions        DROP CONSTRAINT agent_versions_agent_id_fkey;
ALTER TABLE conversations         DROP CONSTRAINT conversations_agent_id_fkey;
ALTER TABLE conversation_search   DROP CONSTRAINT conversation_search_conversation_id_fkey;
ALTER TABLE webhook_deliveries    DROP CONSTRAINT webhook_deliveries_webhook_id_fkey;
ALTER TABLE webhook_deliveries    DROP CONSTRAINT webhook_deliveries_event_id_fkey;
ALTER TABLE webhook_attempts      DROP CONSTRAINT webhook_attempts_delivery_id_fkey;
ALTER TABLE insights_jobs         DROP CONSTRAINT insights_jobs_conversation_id_fkey;
ALTER TABLE conversation_insights DROP CONSTRAINT conversation_insights_conversation_id_fkey;
ALTER TABLE conversation_issues   DROP CONSTRAINT conversation_issues_conversation_id_fkey;
ALTER TABLE conversation_steps    DROP CONSTRAINT conversation_steps_conversation_id_fkey;
ALTER TABLE optimizations         DROP CONSTRAINT optimizations_agent_id_fkey;
ALTER TABLE optimization_variants DROP CONSTRAINT optimization_variants_optimization_id_fkey;
ALTER TABLE simulations           DROP CONSTRAINT simulations_optimization_id_fkey;
ALTER TABLE simulations           DROP CONSTRAINT simulations_variant_id_fkey;
ALTER TABLE otel_items            DROP CONSTRAINT otel_items_conversation_id_fkey;

-- 2. The child tables learn their account from their parent.
ALTER TABLE agent_versions ADD COLUMN account_id TEXT;
UPDATE agent_versions v SET account_id = a.account_id FROM agents a WHERE a.id = v.agent_id;
ALTER TABLE agent_versions ALTER COLUMN account_id SET NOT NULL;

ALTER TABLE webhook_deliveries ADD COLUMN account_id TEXT;
UPDATE webhook_deliveries d SET account_id = w.account_id FROM webhooks w WHERE w.id = d.webhook_id;
ALTER TABLE webhook_deliveries ALTER COLUMN account_id SET NOT NULL;

ALTER TABLE webhook_attempts ADD COLUMN account_id TEXT;
UPDATE webhook_attempts t SET account_id = d.account_id
    FROM webhook_deliveries d WHERE d.id = t.delivery_id;
ALTER TABLE webhook_attempts ALTER COLUMN account_id SET NOT NULL;

ALTER TABLE optimization_variants ADD COLUMN account_id TEXT;
UPDATE optimization_variants v SET account_id = o.account_id
    FROM optimizations o WHERE o.id = v.optimization_id;
ALTER TABLE optimization_variants ALTER COLUMN account_id SET NOT NULL;

ALTER TABLE simulations ADD COLUMN account_id TEXT;
UPDATE simulations s SET account_id = o.account_id FROM optimizations o WHERE o.id = s.optimization_id;
ALTER TABLE simulations ALTER COLUMN account_id SET NOT NULL;

-- 3. Keys lead with the account.
ALTER TABLE agents DROP CONSTRAINT agents_pkey, ADD PRIMARY KEY (account_id, id);
ALTER TABLE agent_versions DROP CONSTRAINT agent_versions_pkey,
    ADD PRIMARY KEY (account_id, agent_id, version);
ALTER TABLE conversations DROP CONSTRAINT conversations_pkey, ADD PRIMARY KEY (account_id, id);
ALTER TABLE conversation_search DROP CONSTRAINT conversation_search_pkey,
    ADD PRIMARY KEY (account_id, conversation_id);
ALTER TABLE webhooks DROP CONSTRAINT webhooks_pkey, ADD PRIMARY KEY (account_id, id);
ALTER TABLE webhook_events DROP CONSTRAINT webhook_events_pkey, ADD PRIMARY KEY (account_id, id);
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_pkey,
    ADD PRIMARY KEY (account_id, id);
ALTER TABLE webhook_attempts DROP CONSTRAINT webhook_attempts_pkey,
    ADD PRIMARY KEY (account_id, delivery_id, attempt);
ALTER TABLE insights_jobs DROP CONSTRAINT insights_jobs_pkey,
    ADD PRIMARY KEY (account_id, conversation_id);
ALTER TABLE conversation_insights DROP CONSTRAINT conversation_insights_pkey,
    DROP CONSTRAINT conversation_insights_id_key,
    ADD PRIMARY KEY (account_id, conversation_id),
    ADD UNIQUE (account_id, id);
ALTER TABLE conversation_issues DROP CONSTRAINT conversation_issues_pkey,
    ADD PRIMARY KEY (account_id, conversation_id, kind);
ALTER TABLE conversation_steps DROP CONSTRAINT conversation_steps_pkey,
    ADD PRIMARY KEY (account_id, conversation_id, position);
ALTER TABLE optimizations DROP CONSTRAINT optimizations_pkey, ADD PRIMARY KEY (account_id, id);
ALTER TABLE optimization_variants DROP CONSTRAINT optimization_variants_pkey,
    DROP CONSTRAINT optimization_variants_optimization_id_position_key,
    ADD PRIMARY KEY (account_id, id),
    ADD UNIQUE (account_id, optimization_id, position);
ALTER TABLE simulations DROP CONSTRAINT simulations_pkey,
    DROP CONSTRAINT simulations_variant_id_cell_key,
    ADD PRIMARY KEY (account_id, id),
    ADD UNIQUE (account_id, variant_id, cell);
ALTER TABLE benchmarks DROP CONSTRAINT benchmarks_pkey, ADD PRIMARY KEY (account_id, id);

-- 4. Foreign keys between tenant tables stay inside one account.
ALTER TABLE agent_versions ADD FOREIGN KEY (account_id, agent_id)
    REFERENCES agents (account_id, id) ON DELETE CASCADE;
ALTER TABLE conversations ADD FOREIGN KEY (account_id, agent_id)
    REFERENCES agents (account_id, id) ON DELETE CASCADE;
ALTER TABLE conversation_search ADD FOREIGN KEY (account_id, conversation_id)
    REFERENCES conversations (account_id, id) ON DELETE CASCADE;
ALTER TABLE webhook_deliveries ADD FOREIGN KEY (account_id, webhook_id)
    REFERENCES webhooks (account_id, id) ON DELETE CASCADE;
ALTER TABLE webhook_deliveries ADD FOREIGN KEY (account_id, event_id)
    REFERENCES webhook_events (account_id, id) ON DELETE CASCADE;
ALTER TABLE webhook_attempts ADD FOREIGN KEY (account_id, delivery_id)
    REFERENCES webhook_deliveries (account_id, id) ON DELETE CASCADE;
ALTER TABLE insights_jobs ADD FOREIGN KEY (account_id, conversation_id)
    REFERENCES conversations (account_id, id) ON DELETE CASCADE;
ALTER TABLE conversation_insights ADD FOREIGN KEY (account_id, conversation_id)
    REFERENCES conversations (account_id, id) ON DELETE CASCADE;
ALTER TABLE conversation_issues ADD FOREIGN KEY (account_id, conversation_id)
    REFERENCES conversations (account_id, id) ON DELETE CASCADE;
ALTER TABLE conversation_steps ADD FOREIGN KEY (account_id, conversation_id)
    REFERENCES conversations (account_id, id) ON DELETE CASCADE;
ALTER TABLE optimizations ADD FOREIGN KEY (account_id, agent_id)
    REFERENCES agents (account_id, id) ON DELETE CASCADE;
ALTER TABLE optimization_variants ADD FOREIGN KEY (account_id, optimization_id)
    REFERENCES optimizations (account_id, id) ON DELETE CASCADE;
ALTER TABLE simulations ADD FOREIGN KEY (account_id, optimization_id)
    REFERENCES optimizations (account_id, id) ON DELETE CASCADE;
ALTER TABLE simulations ADD FOREIGN KEY (account_id, variant_id)
    REFERENCES optimization_variants (account_id, id) ON DELETE CASCADE;
ALTER TABLE otel_items ADD FOREIGN KEY (account_id, conversation_id)
    REFERENCES conversations (account_id, id) ON DELETE CASCADE;

-- 5. Indexes that looked a child up by its parent alone lead with the account too.
DROP INDEX agent_versions_hash;
CREATE INDEX agent_versions_hash ON agent_versions (account_id, content_hash);
DROP INDEX webhook_deliveries_webhook_created;
CREATE INDEX webhook_deliveries_webhook_created
    ON webhook_deliveries (account_id, webhook_id, created_at DESC, id DESC);
DROP INDEX webhook_deliveries_event;
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (account_id, event_id);
