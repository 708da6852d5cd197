//! The one way the dashboard shows a failed API call: its code and message.

use leptos::prelude::*;

use crate::api::ClientError;

#[component]
pub fn ErrorPanel(error: ClientError) -> impl IntoView {
    let status = (error.status != 0).then(|| format!("HTTP {}", error.status));
    view! {
        <div class="error-panel" role="alert">
            <strong class="error-code">{error.code.as_str()}</strong>
            {status.map(|s| view! { <span class="error-status">{s}</span> })}
            <p class="error-message">{error.message}</p>
        </div>
    }
}
