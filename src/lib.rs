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
pub mod snippets;

/// Applies the stored theme, then mounts the dashboard on `<body>`.
pub fn start() {
    report_panics();
    // Before the first view, so even the sign-in screen has the chosen theme.
    components::theme_toggle::apply_stored_theme();
    leptos::mount::mount_to_body(app::App);
}

/// A panic in wasm surfaces only as "RuntimeError: unreachable" and leaves the page frozen.
/// This logs what panicked and where (so a bug report or a failing browser test names it)
/// and tells the user to reload, since nothing on the page answers any more.
fn report_panics() {
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&format!("The dashboard panicked: {info}").into());
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let (Ok(notice), Some(body)) = (document.create_element("div"), document.body()) else {
            return;
        };
        notice.set_class_name("panic-notice");
        let _ = notice.set_attribute("role", "alert");
        notice.set_text_content(Some(
            "The dashboard hit a bug and stopped responding. Reload the page to go on; \
             nothing you saved is lost.",
        ));
        let _ = body.append_child(&notice);
    }));
}
