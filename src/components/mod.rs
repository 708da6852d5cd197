//! Reusable pieces of the dashboard.

pub mod error_panel;
pub mod theme_toggle;
