//! The Converra dashboard: a Leptos single-page app that calls the REST API straight from
//! the browser. `main.rs` only calls [`start`]; the browser tests in `tests/` mount the
//! pieces of this library directly.

pub mod api;
pub mod app;
pub mod components;
pub mod pages;
pub mod session;

/// Mounts the dashboard on `<body>`.
pub fn start() {
    leptos::mount::mount_to_body(app::App);
}
