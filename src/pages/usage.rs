//! Being written.

use leptos::prelude::*;

#[component]
pub fn UsagePage() -> impl IntoView {
    view! { <h1>"UsagePage"</h1> }
}
