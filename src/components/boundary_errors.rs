//! What an `<ErrorBoundary>` shows: each caught error as the shared error panel, with the
//! API's code and message when it was a failed API call.

use converra_api::ErrorCode;
use leptos::error::Errors;
use leptos::prelude::*;

use crate::api::ClientError;
use crate::components::error_panel::ErrorPanel;

/// The panel for one caught error: a [`ClientError`] as it is, anything else as an
/// internal error with its text.
pub fn client_error_of(error: &leptos::error::Error) -> ClientError {
    match error.downcast_ref::<ClientError>() {
        Some(client_error) => client_error.clone(),
        None => ClientError {
            status: 0,
            code: ErrorCode::InternalError,
            message: error.to_string(),
            retry_after: None,
            fields: Vec::new(),
        },
    }
}

/// The `fallback` of an `<ErrorBoundary>`: `fallback=|errors| view! { <BoundaryErrors errors/> }`.
#[component]
pub fn BoundaryErrors(errors: ArcRwSignal<Errors>) -> impl IntoView {
    move || {
        errors
            .get()
            .into_iter()
            .map(|(_, error)| view! { <ErrorPanel error=client_error_of(&error)/> })
            .collect_view()
    }
}
