//! Being written.

use leptos::prelude::*;

#[component]
pub fn ConversationPage() -> impl IntoView {
    view! { <h1>"ConversationPage"</h1> }
}
