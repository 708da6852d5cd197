//! A button that copies a text to the clipboard and says, visibly and to screen readers,
//! whether that worked.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CopyState {
    Idle,
    Copied,
    Failed,
}

/// Copies `text` with `navigator.clipboard`. When the browser refuses (no permission, an
/// insecure origin), it says so, and the text stays on screen to copy by hand.
#[component]
pub fn CopyButton(
    #[prop(into)] text: Signal<String>,
    /// The button's text ("Copy", "Copy secret").
    #[prop(into, default = "Copy".to_owned())]
    label: String,
) -> impl IntoView {
    let state = RwSignal::new(CopyState::Idle);
    let copy = move |_| {
        let value = text.get_untracked();
        spawn_local(async move {
            let copied = write_to_clipboard(&value).await;
            // The page may have moved on meanwhile; a disposed signal is simply not set.
            let _ = state.try_set(if copied {
                CopyState::Copied
            } else {
                CopyState::Failed
            });
            gloo_timers::future::sleep(Duration::from_secs(3)).await;
            let _ = state.try_set(CopyState::Idle);
        });
    };
    view! {
        <span class="copy-button">
            <button type="button" class="secondary" on:click=copy>
                {move || match state.get() {
                    CopyState::Copied => "Copied".to_owned(),
                    _ => label.clone(),
                }}
            </button>
            <span class="copy-status" role="status">
                {move || match state.get() {
                    CopyState::Idle => "",
                    CopyState::Copied => "Copied to the clipboard.",
                    CopyState::Failed => "The browser refused to copy; select the text and copy it by hand.",
                }}
            </span>
        </span>
    }
}

/// Puts `text` on the clipboard; false where the browser does not allow it.
pub async fn write_to_clipboard(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let promise = window.navigator().clipboard().write_text(text);
    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
}
