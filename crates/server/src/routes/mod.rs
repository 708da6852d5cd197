//! One module per resource, each with a `router()` that `app.rs` merges.

pub mod account;
pub mod agents;
pub mod benchmarks;
pub mod conversations;
pub mod health;
pub mod insights;
pub mod openapi;
pub mod optimizations;
pub mod otel;
pub mod sdk;
pub mod settings;
pub mod usage;
pub mod webhooks;
