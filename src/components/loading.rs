//! What a page shows while its data is on the way: grey placeholder rows in the shape of
//! what is coming, announced to screen readers once.

use leptos::prelude::*;

/// `rows` placeholder lines under an accessible "Loading …" status.
#[component]
pub fn Loading(
    /// What is loading, for the status text ("conversations").
    #[prop(into)]
    what: String,
    #[prop(default = 3)] rows: usize,
) -> impl IntoView {
    view! {
        <div class="loading" role="status" aria-live="polite">
            <span class="visually-hidden">{format!("Loading {what}…")}</span>
            {(0..rows).map(|_| view! { <div class="placeholder-row" aria-hidden="true"></div> }).collect_view()}
        </div>
    }
}
