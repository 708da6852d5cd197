//! Being written.

use leptos::prelude::*;

#[component]
pub fn AgentPage() -> impl IntoView {
    view! { <h1>"AgentPage"</h1> }
}
