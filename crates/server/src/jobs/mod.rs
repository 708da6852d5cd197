//! Durable background work. Each job keeps its state in the database, so whatever was
//! queued before a restart is picked up after it.

pub mod webhooks;
