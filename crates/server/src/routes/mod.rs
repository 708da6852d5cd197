//! One module per resource, each with a `router()` that `app.rs` merges.

pub mod account;
pub mod agents;
pub mod conversations;
pub mod openapi;
pub mod sdk;
pub mod settings;
pub mod usage;
pub mod webhooks;
