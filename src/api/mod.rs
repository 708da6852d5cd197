//! The typed REST client: one function per endpoint in the submodules, all going through
//! [`ApiClient`], which adds the key and turns every failure into a [`ClientError`].

pub mod account;

use converra_api::{ErrorBody, ErrorCode};
use gloo_net::http::{Request, Response};
use serde::de::DeserializeOwned;

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
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ClientError {}

impl ClientError {
    fn network(err: impl std::fmt::Display) -> Self {
        ClientError {
            status: 0,
            code: ErrorCode::NetworkError,
            message: format!("The API could not be reached ({err}). Check the API base URL."),
            retry_after: None,
        }
    }
}

/// Calls the API with one set of credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiClient {
    credentials: Credentials,
}

impl ApiClient {
    pub fn new(credentials: Credentials) -> Self {
        ApiClient { credentials }
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

    fn authorization(&self) -> String {
        format!("Bearer {}", self.credentials.api_key)
    }

    /// `GET path` and decode the JSON answer.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let response = Request::get(&self.url(path))
            .header("Authorization", &self.authorization())
            .send()
            .await
            .map_err(ClientError::network)?;
        decode(response).await
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
        });
    }
    Err(match serde_json::from_str::<ErrorBody>(&text) {
        Ok(body) => ClientError {
            status,
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
        },
    })
}
