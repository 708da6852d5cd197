//! One module per page.

pub mod agent;
pub mod agent_insights;
pub mod agents;
pub mod benchmark;
pub mod benchmark_new;
pub mod benchmarks;
pub mod conversation;
pub mod conversations;
pub mod fleet;
pub mod optimization;
pub mod optimization_new;
pub mod optimizations;
pub mod settings;
pub mod sign_in;
pub mod step_failures;
pub mod usage;
pub mod webhook;
