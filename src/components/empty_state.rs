//! What a list shows when it has nothing: what is missing and what to do next.

use leptos::prelude::*;

#[component]
pub fn EmptyState(
    #[prop(into)] title: String,
    /// The next step, in a sentence.
    #[prop(into)]
    hint: String,
    /// An action (a link or a button) that takes the next step.
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="empty-state">
            <h2>{title}</h2>
            <p class="muted">{hint}</p>
            {children.map(|c| c())}
        </div>
    }
}
