-- An event is one outbox row, written in the request that causes it; the webhook worker
-- fans it out into one delivery per subscribed webhook and stamps `fanned_out_at`.
-- NULL marks an event still to fan out. The default of 0 counts every earlier event, and
-- any an older instance writes with its deliveries (during an upgrade), as fanned out.
ALTER TABLE webhook_events ADD COLUMN fanned_out_at BIGINT DEFAULT 0;
CREATE INDEX webhook_events_to_fan_out ON webhook_events (created_at, id)
    WHERE fanned_out_at IS NULL;
