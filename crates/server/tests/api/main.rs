//! The server's HTTP tests, one module per resource, in one binary so they link once.

mod common;

mod agents;
mod auth;
mod benchmarks;
mod conversations;
mod dashboard;
mod demo;
mod insights;
mod limits;
mod model_engine;
mod optimizations;
mod otel;
mod process;
mod settings;
mod usage;
mod webhooks;
