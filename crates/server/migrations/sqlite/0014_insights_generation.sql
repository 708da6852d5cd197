-- Each queueing of a conversation's insights is a new generation: a reading of an older
-- generation (the transcript grew while it ran) is dropped instead of overwriting the newer.
ALTER TABLE insights_jobs ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;
