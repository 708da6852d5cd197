//! Reusable pieces of the dashboard.

pub mod empty_state;
pub mod error_panel;
pub mod loading;
pub mod theme_toggle;
