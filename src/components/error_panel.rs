//! The one way the dashboard shows a failed API call: its code and message, and for a
//! refused request every field the server named.

use leptos::prelude::*;

use crate::api::ClientError;

#[component]
pub fn ErrorPanel(error: ClientError) -> impl IntoView {
    let status = (error.status != 0).then(|| format!("HTTP {}", error.status));
    let fields = error.field_errors();
    // A single named field is already the whole message.
    let fields = (fields.len() > 1 || !error.fields.is_empty()).then(|| {
        view! {
            <ul class="error-fields">
                {fields.into_iter().map(|f| view! {
                    <li><code>{f.field}</code>" "{f.message}</li>
                }).collect_view()}
            </ul>
        }
    });
    view! {
        <div class="error-panel" role="alert">
            <strong class="error-code">{error.code.as_str()}</strong>
            {status.map(|s| view! { <span class="error-status">{s}</span> })}
            <p class="error-message">{error.message}</p>
            {fields}
        </div>
    }
}
