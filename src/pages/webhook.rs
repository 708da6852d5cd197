//! Being written.

use leptos::prelude::*;

#[component]
pub fn WebhookPage() -> impl IntoView {
    view! { <h1>"WebhookPage"</h1> }
}
