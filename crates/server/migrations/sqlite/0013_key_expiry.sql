-- A key may carry an expiry (`keys create --expires-in 90d`): past it, it answers 401.
ALTER TABLE api_keys ADD COLUMN expires_at BIGINT;
