//! Being written.

use leptos::prelude::*;

#[component]
pub fn ConversationsPage() -> impl IntoView {
    view! { <h1>"ConversationsPage"</h1> }
}
