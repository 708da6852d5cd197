-- The child tables that reached their account only through a parent carry `account_id`,
-- as on PostgreSQL (whose keys lead with it, so its tables can be distributed by account):
-- the store's queries, shared by both backends, name the account of every row they touch.
-- SQLite keeps its keys; the unique indexes below back the conflict targets those queries
-- name.
ALTER TABLE agent_versions ADD COLUMN account_id TEXT NOT NULL DEFAULT '';
UPDATE agent_versions SET account_id = (SELECT a.account_id FROM agents a WHERE a.id = agent_versions.agent_id);

ALTER TABLE webhook_deliveries ADD COLUMN account_id TEXT NOT NULL DEFAULT '';
UPDATE webhook_deliveries SET account_id = (SELECT w.account_id FROM webhooks w WHERE w.id = webhook_deliveries.webhook_id);

ALTER TABLE webhook_attempts ADD COLUMN account_id TEXT NOT NULL DEFAULT '';
UPDATE webhook_attempts SET account_id = (SELECT d.account_id FROM webhook_deliveries d WHERE d.id = webhook_attempts.delivery_id);

ALTER TABLE optimization_variants ADD COLUMN account_id TEXT NOT NULL DEFAULT '';
UPDATE optimization_variants SET account_id = (SELECT o.account_id FROM optimizations o WHERE o.id = optimization_variants.optimization_id);

ALTER TABLE simulations ADD COLUMN account_id TEXT NOT NULL DEFAULT '';
UPDATE simulations SET account_id = (SELECT o.account_id FROM optimizations o WHERE o.id = simulations.optimization_id);

CREATE UNIQUE INDEX insights_jobs_account ON insights_jobs (account_id, conversation_id);
CREATE UNIQUE INDEX simulations_account_cell ON simulations (account_id, variant_id, cell);

-- Lookups of several conversations of an account by id (`account_id = ? AND id IN (…)`):
-- without it SQLite's planner reads every conversation of the account through another
-- index that starts with `account_id`.
CREATE UNIQUE INDEX conversations_account_id ON conversations (account_id, id);
