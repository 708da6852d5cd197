//! The Converra REST API server. `main.rs` is only the command line; everything that
//! tests start in-process lives here.

pub mod app;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod dashboard;
pub mod demo;
pub mod egress;
pub mod engine;
pub mod error;
pub mod extract;
pub mod ids;
pub mod jobs;
pub mod limits;
pub mod metrics;
pub mod otel;
pub mod routes;
pub mod search_snippet;
pub mod state;
pub mod store;
pub mod transcript;
pub mod validate;
