//! One module per resource, each with a `router()` that `app.rs` merges.

pub mod account;
pub mod openapi;
