//! Reusable pieces of the dashboard.

pub mod agent_subpage_head;
pub mod boundary_errors;
pub mod charts;
pub mod command_palette;
pub mod confirm;
pub mod conversation_insights;
pub mod copy_button;
pub mod diff;
pub mod empty_state;
pub mod error_panel;
pub mod export;
pub mod insight_parts;
pub mod keyboard;
pub mod loading;
pub mod markdown;
pub mod optimization_charts;
pub mod optimization_stats;
pub mod progress_bar;
pub mod query;
pub mod saved_views;
pub mod theme_toggle;
pub mod timestamp;
pub mod transcript;
