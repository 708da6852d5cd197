//! Being written.

use leptos::prelude::*;

#[component]
pub fn AgentsPage() -> impl IntoView {
    view! { <h1>"AgentsPage"</h1> }
}
