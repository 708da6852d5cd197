//! The error body every failure answers with: `{"error": {"code", "message", "details"?}}`,
//! and the one table from error code to HTTP status.

use serde::{Deserialize, Serialize};

/// Every error code of the API. The HTTP status of each is fixed by [`ErrorCode::http_status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    InvalidJson,
    ValidationError,
    Unauthorized,
    InvalidApiKey,
    LimitExceeded,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    RateLimited,
    ConcurrencyLimit,
    InternalError,
    /// The server did not finish the request in time; it may be retried.
    RequestTimeout,
    /// The server cannot reach its database just now; it may be retried.
    ServiceUnavailable,
    /// Not from the server: the dashboard's code for a request that never got an answer.
    NetworkError,
}

impl ErrorCode {
    /// The HTTP status this code is always sent with.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::InvalidJson | ErrorCode::ValidationError => 400,
            ErrorCode::Unauthorized | ErrorCode::InvalidApiKey => 401,
            ErrorCode::LimitExceeded => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::Conflict => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::RateLimited | ErrorCode::ConcurrencyLimit => 429,
            ErrorCode::InternalError => 500,
            ErrorCode::RequestTimeout | ErrorCode::ServiceUnavailable => 503,
            ErrorCode::NetworkError => 0,
        }
    }

    /// The code as it appears on the wire, e.g. `"INVALID_API_KEY"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidJson => "INVALID_JSON",
            ErrorCode::ValidationError => "VALIDATION_ERROR",
            ErrorCode::Unauthorized => "UNAUTHORIZED",
            ErrorCode::InvalidApiKey => "INVALID_API_KEY",
            ErrorCode::LimitExceeded => "LIMIT_EXCEEDED",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            ErrorCode::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::ConcurrencyLimit => "CONCURRENCY_LIMIT",
            ErrorCode::InternalError => "INTERNAL_ERROR",
            ErrorCode::RequestTimeout => "REQUEST_TIMEOUT",
            ErrorCode::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            ErrorCode::NetworkError => "NETWORK_ERROR",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One invalid field of a request, named by its JSON path (`messages[2].role`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// The inside of an error body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
    /// For `VALIDATION_ERROR`: `{"fields": [{"field", "message"}]}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

/// `{"error": {...}}`: the body of every non-2xx answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorBody {
            error: ErrorDetail {
                code,
                message: message.into(),
                details: None,
            },
        }
    }

    /// A `VALIDATION_ERROR` naming each invalid field.
    pub fn validation(fields: Vec<FieldError>) -> Self {
        let message = match fields.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            many => format!("{} fields are invalid", many.len()),
        };
        ErrorBody {
            error: ErrorDetail {
                code: ErrorCode::ValidationError,
                message,
                details: Some(serde_json::json!({ "fields": fields })),
            },
        }
    }

    /// The field errors of a `VALIDATION_ERROR`, if the body carries them.
    pub fn field_errors(&self) -> Vec<FieldError> {
        self.error
            .details
            .as_ref()
            .and_then(|d| d.get("fields"))
            .and_then(|f| serde_json::from_value(f.clone()).ok())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_the_spec_spells_them() {
        let body = ErrorBody::new(ErrorCode::InvalidApiKey, "The provided API key is invalid");
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"error": {"code": "INVALID_API_KEY", "message": "The provided API key is invalid"}})
        );
        for code in [ErrorCode::ConcurrencyLimit, ErrorCode::UnsupportedMediaType] {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }

    #[test]
    fn validation_body_names_each_field() {
        let body = ErrorBody::validation(vec![
            FieldError {
                field: "name".into(),
                message: "is required".into(),
            },
            FieldError {
                field: "content".into(),
                message: "is required".into(),
            },
        ]);
        assert_eq!(body.error.code.http_status(), 400);
        assert_eq!(body.field_errors().len(), 2);
        assert_eq!(body.error.message, "2 fields are invalid");
    }
}
