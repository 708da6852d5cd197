//! The server's HTTP tests, one module per resource, in one binary so they link once.

mod common;

mod agents;
mod auth;
mod benchmarks;
mod conversations;
mod dashboard;
mod demo;
mod fairness;
mod health;
mod insights;
mod instances;
mod limits;
mod metrics;
mod model_calls;
mod model_engine;
mod model_world;
mod operator;
mod optimization_world;
mod optimizations;
mod otel;
mod process;
mod reflective_world;
mod schema;
mod settings;
mod usage;
mod validation_retest;
mod webhooks;
