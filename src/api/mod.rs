//! The typed REST client: one function per endpoint in the submodules, all going through
//! [`ApiClient`], which adds the key, waits out a 429 per `Retry-After`, records the
//! rate-limit headroom, aborts a page's requests when the page is left ([`PageRequests`])
//! and turns every failure into a [`ClientError`].

pub mod account;
pub mod agents;
pub mod benchmarks;
pub mod conversations;
pub mod insights;
pub mod optimizations;
pub mod settings;
pub mod usage;
pub mod webhooks;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use converra_api::{ErrorBody, ErrorCode, FieldError};
use gloo_net::http::{Method, RequestBuilder, Response};
use leptos::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use web_sys::{AbortController, AbortSignal};

use crate::session::Credentials;

/// A failed call, as the user should read it: the API's code and message.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientError {
    /// The HTTP status; 0 when no answer came back.
    pub status: u16,
    pub code: ErrorCode,
    pub message: String,
    /// Seconds to wait before retrying, from `Retry-After` on a 429.
    pub retry_after: Option<u64>,
    /// For `VALIDATION_ERROR`: each invalid field, named by its JSON path.
    pub fields: Vec<FieldError>,
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ClientError {}

impl ClientError {
    /// The fields a `VALIDATION_ERROR` names, each with the server's words as a sentence
    /// ("Must be at most 200 characters."): the body's `details.fields`, or, when it has
    /// none, the one field a `"field: message"` message names.
    pub fn field_errors(&self) -> Vec<FieldError> {
        if self.code != ErrorCode::ValidationError {
            return Vec::new();
        }
        if !self.fields.is_empty() {
            return self
                .fields
                .iter()
                .map(|f| FieldError {
                    field: f.field.clone(),
                    message: as_sentence(&f.message),
                })
                .collect();
        }
        self.message
            .split_once(": ")
            .filter(|(field, _)| is_field_path(field))
            .map(|(field, message)| FieldError {
                field: field.to_owned(),
                message: as_sentence(message),
            })
            .into_iter()
            .collect()
    }

    /// The first of [`Self::field_errors`] that a form shows among `form_fields`, worded as
    /// the server's ("The server says: …"); the others stay in the error panel.
    pub fn form_field_error(&self, form_fields: &[&str]) -> Option<FieldError> {
        self.field_errors()
            .into_iter()
            .find(|f| form_fields.contains(&f.field.as_str()))
            .map(|f| FieldError {
                message: format!("The server says: {}", f.message),
                field: f.field,
            })
    }

    fn network(err: impl std::fmt::Display) -> Self {
        ClientError {
            status: 0,
            code: ErrorCode::NetworkError,
            message: format!("The API could not be reached ({err}). Check the API base URL."),
            retry_after: None,
            fields: Vec::new(),
        }
    }
}

/// A JSON path as the API names fields: `name`, `llm.apiKey`, `messages[2].role`.
fn is_field_path(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._[]".contains(c))
}

/// `"must not be empty"` → `"Must not be empty."`
fn as_sentence(text: &str) -> String {
    let text = text.trim().trim_end_matches('.');
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

/// The rate-limit headers of the latest answer: how much of the minute's budget is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitHeadroom {
    pub limit: u64,
    pub remaining: u64,
    /// Unix seconds at which the window resets.
    pub reset: u64,
}

thread_local! {
    // The browser runs one thread; the latest headroom is a fact about the whole session.
    static LAST_HEADROOM: Cell<Option<RateLimitHeadroom>> = const { Cell::new(None) };
}

/// The headroom the latest API answer reported, if it carried the headers.
pub fn last_rate_limit() -> Option<RateLimitHeadroom> {
    LAST_HEADROOM.with(Cell::get)
}

thread_local! {
    // Where the shell shows "waiting N s" while a call waits out a 429; unset in component
    // tests, which then simply wait.
    static RATE_LIMIT_NOTICE: Cell<Option<RwSignal<Option<u64>>>> = const { Cell::new(None) };
}

/// Names the signal the shell shows the 429 notice from (seconds left, or `None`).
pub fn show_rate_limit_waits_in(notice: RwSignal<Option<u64>>) {
    RATE_LIMIT_NOTICE.with(|cell| cell.set(Some(notice)));
}

/// How many times one call waits out a 429 before giving up with the error.
const RATE_LIMIT_RETRIES: u32 = 3;
/// A `Retry-After` longer than this is reported, not waited out.
const LONGEST_WAIT_SECS: u64 = 60;

thread_local! {
    /// The abort controller of every page still open, by [`PageRequests`] id. Kept here, not
    /// in the client, because a client lives in signals, which need `Send` values.
    static PAGE_CONTROLLERS: RefCell<HashMap<u64, AbortController>> = RefCell::new(HashMap::new());
    static NEXT_PAGE: Cell<u64> = const { Cell::new(0) };
}

/// The requests of one page (or any piece with an owner), aborted together when it is
/// cleaned up, so a page that is left stops fetching what no one will see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequests(u64);

impl PageRequests {
    /// A new set, aborted when the current reactive owner is cleaned up.
    pub fn new() -> Self {
        let id = NEXT_PAGE.with(|next| next.replace(next.get().wrapping_add(1)));
        if let Ok(controller) = AbortController::new() {
            PAGE_CONTROLLERS.with(|all| all.borrow_mut().insert(id, controller));
        }
        on_cleanup(move || {
            if let Some(controller) = PAGE_CONTROLLERS.with(|all| all.borrow_mut().remove(&id)) {
                controller.abort();
            }
        });
        PageRequests(id)
    }

    /// What a request of this page listens to; `None` once the page is gone.
    fn abort_signal(self) -> Option<AbortSignal> {
        PAGE_CONTROLLERS.with(|all| all.borrow().get(&self.0).map(AbortController::signal))
    }
}

impl Default for PageRequests {
    fn default() -> Self {
        Self::new()
    }
}

/// Calls the API with one set of credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiClient {
    credentials: Credentials,
    /// The page whose requests these are; leaving it aborts them.
    page: Option<PageRequests>,
}

impl ApiClient {
    pub fn new(credentials: Credentials) -> Self {
        ApiClient {
            credentials,
            page: None,
        }
    }

    /// The same client, its requests aborted when `page` is left.
    pub fn for_page(&self, page: PageRequests) -> Self {
        ApiClient {
            credentials: self.credentials.clone(),
            page: Some(page),
        }
    }

    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    fn url(&self, path: &str) -> String {
        format!(
            "{}{}",
            self.credentials.base_url.trim_end_matches('/'),
            path
        )
    }

    /// `GET path` and decode the JSON answer.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.send(Method::GET, path, None).await
    }

    /// `POST path` with a JSON body.
    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, ClientError> {
        self.send(Method::POST, path, Some(to_json(body)?)).await
    }

    /// `PATCH path` with a JSON body.
    pub async fn patch<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, ClientError> {
        self.send(Method::PATCH, path, Some(to_json(body)?)).await
    }

    /// `DELETE path`.
    pub async fn delete<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.send(Method::DELETE, path, None).await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<T, ClientError> {
        let mut attempt = 0;
        loop {
            let abort = self.page.and_then(PageRequests::abort_signal);
            let mut request = RequestBuilder::new(&self.url(path))
                .method(method.clone())
                .abort_signal(abort.as_ref())
                .header(
                    "Authorization",
                    &format!("Bearer {}", self.credentials.api_key),
                );
            let response = match &body {
                Some(json) => {
                    request
                        .header("Content-Type", "application/json")
                        .body(json.clone())
                        .map_err(ClientError::network)?
                        .send()
                        .await
                }
                None => {
                    request = request.header("Accept", "application/json");
                    request.send().await
                }
            }
            .map_err(ClientError::network)?;
            record_headroom(&response);
            match decode(response).await {
                Err(err)
                    if err.status == 429
                        && attempt < RATE_LIMIT_RETRIES
                        && err.retry_after.is_some_and(|s| s <= LONGEST_WAIT_SECS) =>
                {
                    attempt += 1;
                    wait_out(err.retry_after.unwrap_or(1)).await;
                }
                other => return other,
            }
        }
    }
}

fn to_json(body: &impl Serialize) -> Result<String, ClientError> {
    serde_json::to_string(body).map_err(|err| ClientError {
        status: 0,
        code: ErrorCode::ValidationError,
        message: format!("The request could not be encoded: {err}"),
        retry_after: None,
        fields: Vec::new(),
    })
}

/// Sleeps `seconds` (at least one), showing the shell's notice meanwhile.
async fn wait_out(seconds: u64) {
    let notice = RATE_LIMIT_NOTICE.with(Cell::get);
    let seconds = seconds.max(1);
    if let Some(signal) = notice {
        signal.set(Some(seconds));
    }
    gloo_timers::future::sleep(std::time::Duration::from_secs(seconds)).await;
    if let Some(signal) = notice {
        signal.set(None);
    }
}

fn record_headroom(response: &Response) {
    let header = |name: &str| -> Option<u64> { response.headers().get(name)?.parse().ok() };
    if let (Some(limit), Some(remaining), Some(reset)) = (
        header("x-ratelimit-limit"),
        header("x-ratelimit-remaining"),
        header("x-ratelimit-reset"),
    ) {
        LAST_HEADROOM.with(|cell| {
            cell.set(Some(RateLimitHeadroom {
                limit,
                remaining,
                reset,
            }))
        });
    }
}

/// A 2xx body as `T`; anything else as the API's error body, or a readable stand-in.
async fn decode<T: DeserializeOwned>(response: Response) -> Result<T, ClientError> {
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.parse().ok());
    let text = response.text().await.map_err(ClientError::network)?;
    if (200..300).contains(&status) {
        return serde_json::from_str(&text).map_err(|err| ClientError {
            status,
            code: ErrorCode::InternalError,
            message: format!("The API answered in an unexpected shape: {err}"),
            retry_after: None,
            fields: Vec::new(),
        });
    }
    Err(match serde_json::from_str::<ErrorBody>(&text) {
        Ok(body) => ClientError {
            status,
            fields: body.field_errors(),
            code: body.error.code,
            message: body.error.message,
            retry_after,
        },
        Err(_) => ClientError {
            status,
            code: ErrorCode::InternalError,
            message: format!(
                "The API answered {status} without an error body. Is the API base URL right?"
            ),
            retry_after,
            fields: Vec::new(),
        },
    })
}
