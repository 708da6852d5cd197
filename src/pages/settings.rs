//! Being written.

use leptos::prelude::*;

#[component]
pub fn SettingsPage() -> impl IntoView {
    view! { <h1>"SettingsPage"</h1> }
}
