//! Reusable pieces of the dashboard. A page never imports another page: what two pages
//! share lives here.

pub mod agent_form;
pub mod agent_subpage_head;
pub mod benchmark_winner;
pub mod boundary_errors;
pub mod charts;
pub mod command_palette;
pub mod confirm;
pub mod conversation_insights;
pub mod copy_button;
pub mod diff;
pub mod disclosure;
pub mod empty_state;
pub mod error_panel;
pub mod export;
pub mod first_conversation;
pub mod form_fields;
pub mod insight_parts;
pub mod keyboard;
pub mod loading;
pub mod markdown;
pub mod optimization_charts;
pub mod optimization_evidence;
pub mod optimization_progress;
pub mod optimization_stats;
pub mod page_title;
pub mod poll;
pub mod progress_bar;
pub mod saved_views;
pub mod search_snippet;
pub mod simulation_dialog;
pub mod status_badge;
pub mod theme_toggle;
pub mod timestamp;
pub mod transcript;
pub mod variant_card;
