-- Flags become 0/1 INTEGER columns, as in the PostgreSQL schema: the driver both backends
-- share reads no BOOLEAN column. Values and rowids (which the search index is keyed by) stay.
ALTER TABLE conversations ADD COLUMN has_failed_steps_flag INTEGER NOT NULL DEFAULT 0;
UPDATE conversations SET has_failed_steps_flag = CASE WHEN has_failed_steps THEN 1 ELSE 0 END;
ALTER TABLE conversations DROP COLUMN has_failed_steps;
ALTER TABLE conversations RENAME COLUMN has_failed_steps_flag TO has_failed_steps;
ALTER TABLE conversation_insights ADD COLUMN task_completed_flag INTEGER NOT NULL DEFAULT 0;
UPDATE conversation_insights SET task_completed_flag = CASE WHEN task_completed THEN 1 ELSE 0 END;
ALTER TABLE conversation_insights DROP COLUMN task_completed;
ALTER TABLE conversation_insights RENAME COLUMN task_completed_flag TO task_completed;
ALTER TABLE conversation_steps ADD COLUMN failed_flag INTEGER NOT NULL DEFAULT 0;
UPDATE conversation_steps SET failed_flag = CASE WHEN failed THEN 1 ELSE 0 END;
ALTER TABLE conversation_steps DROP COLUMN failed;
ALTER TABLE conversation_steps RENAME COLUMN failed_flag TO failed;
ALTER TABLE simulations ADD COLUMN task_completed_flag INTEGER NOT NULL DEFAULT 0;
UPDATE simulations SET task_completed_flag = CASE WHEN task_completed THEN 1 ELSE 0 END;
ALTER TABLE simulations DROP COLUMN task_completed;
ALTER TABLE simulations RENAME COLUMN task_completed_flag TO task_completed;
ALTER TABLE simulations ADD COLUMN retest_flag INTEGER NOT NULL DEFAULT 0;
UPDATE simulations SET retest_flag = CASE WHEN retest THEN 1 ELSE 0 END;
ALTER TABLE simulations DROP COLUMN retest;
ALTER TABLE simulations RENAME COLUMN retest_flag TO retest;
