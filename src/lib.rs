//! The Converra dashboard: a Leptos single-page app that calls the REST API straight from
//! the browser. `main.rs` only calls [`start`]; the browser tests in `tests/` mount the
//! pieces of this library directly.

pub mod api;
pub mod app;
pub mod components;
pub mod format;
pub mod page_chunks;
pub mod pages;
pub mod query;
pub mod session;
pub mod signed_in;

/// Applies the stored theme, then mounts the dashboard on `<body>`.
pub fn start() {
    // Before the first view, so even the sign-in screen has the chosen theme.
    components::theme_toggle::apply_stored_theme();
    leptos::mount::mount_to_body(app::App);
}
