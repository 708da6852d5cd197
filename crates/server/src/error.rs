//! `ApiError`: the only way a handler fails. It renders as the spec's error body with the
//! status that `ErrorCode::http_status` fixes for its code.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use converra_api::{ErrorBody, ErrorCode, FieldError};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Something the client can act on.
    #[error("{code}: {message}")]
    Client {
        code: ErrorCode,
        message: String,
        fields: Vec<FieldError>,
        retry_after_secs: Option<u64>,
    },
    /// A bug or an outage: logged in full, answered without internals.
    #[error(transparent)]
    Internal(anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError::Client {
            code,
            message: message.into(),
            fields: Vec::new(),
            retry_after_secs: None,
        }
    }

    /// 404 for a resource that does not exist in the caller's account (or at all: the two
    /// must be indistinguishable).
    pub fn not_found(what: &str, id: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} '{id}' not found"))
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    /// 400 `VALIDATION_ERROR` naming each invalid field.
    pub fn validation(fields: Vec<FieldError>) -> Self {
        let body = ErrorBody::validation(fields.clone());
        ApiError::Client {
            code: ErrorCode::ValidationError,
            message: body.error.message,
            fields,
            retry_after_secs: None,
        }
    }

    /// 400 `VALIDATION_ERROR` for one field.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    pub fn retry_after(mut self, secs: u64) -> Self {
        if let ApiError::Client {
            retry_after_secs, ..
        } = &mut self
        {
            *retry_after_secs = Some(secs);
        }
        self
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::Client { code, .. } => *code,
            ApiError::Internal(_) => ErrorCode::InternalError,
        }
    }
}

/// Seconds a client is asked to wait when the database cannot be reached.
const RETRY_AFTER_UNAVAILABLE_SECS: u64 = 5;

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        if database_unreachable(&err) {
            return unavailable(&err);
        }
        ApiError::Internal(anyhow::Error::new(err).context("database"))
    }
}

/// An error from deeper down: 503 when a database error somewhere in its chain says the
/// database is away, else internal.
impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> Self {
        let away = err
            .chain()
            .filter_map(|cause| cause.downcast_ref::<sqlx::Error>())
            .find(|cause| database_unreachable(cause));
        match away {
            Some(cause) => unavailable(cause),
            None => ApiError::Internal(err),
        }
    }
}

fn unavailable(err: &sqlx::Error) -> ApiError {
    tracing::warn!(error = %err, "the database cannot be reached");
    ApiError::new(
        ErrorCode::ServiceUnavailable,
        "The database cannot be reached just now; nothing was changed, try again",
    )
    .retry_after(RETRY_AFTER_UNAVAILABLE_SECS)
}

/// Whether `err` says the database is away (a lost or refused connection, a server shutting
/// down) rather than that the query was wrong. The pool reconnects by itself once it is back.
fn database_unreachable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // PostgreSQL's class 08 (connection exception) and 57P01..57P03 (shutting down,
        // crashed, starting up).
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(err: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match err {
            StoreError::NotFound { what, id } => ApiError::not_found(what, &id),
            StoreError::Conflict(message) => ApiError::conflict(message),
            StoreError::TooLarge(message) => ApiError::new(ErrorCode::PayloadTooLarge, message),
            StoreError::InvalidField { field, message } => ApiError::invalid_field(field, message),
            StoreError::Database(err) => err.into(),
            StoreError::Internal(err) => err.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.code();
        let status =
            StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let (body, retry_after) = match self {
            ApiError::Client {
                code,
                message,
                fields,
                retry_after_secs,
            } => {
                let body = if fields.is_empty() {
                    ErrorBody::new(code, message)
                } else {
                    ErrorBody::validation(fields)
                };
                (body, retry_after_secs)
            }
            ApiError::Internal(err) => {
                // The request id of the surrounding span ties this line to the answer.
                tracing::error!(error = format!("{err:#}"), "internal error");
                let body = ErrorBody::new(
                    ErrorCode::InternalError,
                    "An internal error occurred; it has been logged with this request's id",
                );
                (body, None)
            }
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(error: ApiError) -> (StatusCode, serde_json::Value) {
        let response = error.into_response();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn a_database_out_of_reach_answers_503_with_retry_after() {
        let lost = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        let eof = std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "eof");
        // Also when it comes up through a store function's anyhow chain, under context.
        let wrapped = ApiError::from(anyhow::Error::new(sqlx::Error::Io(eof)).context("loading"));
        for error in [
            ApiError::from(sqlx::Error::Io(lost)),
            ApiError::from(sqlx::Error::PoolTimedOut),
            wrapped,
        ] {
            let response = error.into_response();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(response.headers()["retry-after"], "5");
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(body["error"]["code"], "SERVICE_UNAVAILABLE");
        }
    }

    #[tokio::test]
    async fn an_internal_error_answers_500_with_a_generic_message() {
        let database: ApiError = sqlx::Error::Protocol("secret table layout".into()).into();
        let store: ApiError = crate::store::StoreError::Database(sqlx::Error::RowNotFound).into();
        let other = ApiError::Internal(
            anyhow::anyhow!("/var/lib/converra/converra.db").context("opening the store"),
        );
        for error in [database, store, other] {
            let (status, body) = body_of(error).await;
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
            assert_eq!(
                body,
                serde_json::json!({"error": {"code": "INTERNAL_ERROR",
                    "message": "An internal error occurred; it has been logged with this request's id"}})
            );
        }
    }

    #[tokio::test]
    async fn a_client_error_keeps_its_message() {
        let (status, body) = body_of(ApiError::conflict("Agent name taken")).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(body["error"]["message"], "Agent name taken");
    }
}
