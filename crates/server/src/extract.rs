//! Request extractors that fail with our error body rather than axum's plain text.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::StatusCode;
use converra_api::ErrorCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body: 415 without `application/json`, 400 `INVALID_JSON` when it does not parse,
/// 400 `VALIDATION_ERROR` naming the field when it parses into the wrong shape, 413 when
/// it is over the body limit.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json_content_type(req.headers().get(CONTENT_TYPE)) {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "Expected a body with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// An optional JSON body: no body at all (as SDKs send for `POST …/stop`) means
/// `T::default()`; a body present is held to everything [`ApiJson`] checks.
pub struct ApiJsonOrDefault<T>(pub T);

impl<S, T> FromRequest<S> for ApiJsonOrDefault<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Default,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let has_content_type = req.headers().contains_key(CONTENT_TYPE);
        let (parts, body) = req.into_parts();
        let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(body_rejection)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(ApiJsonOrDefault(T::default()));
        }
        if !has_content_type || !is_json_content_type(parts.headers.get(CONTENT_TYPE)) {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "Expected a body with Content-Type: application/json",
            ));
        }
        parse_json(&bytes).map(ApiJsonOrDefault)
    }
}

fn is_json_content_type(value: Option<&axum::http::HeaderValue>) -> bool {
    let Some(mime) = value.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = mime.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn body_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            ErrorCode::PayloadTooLarge,
            "The request body is larger than the server accepts",
        )
    } else {
        ApiError::new(ErrorCode::InvalidJson, "The request body could not be read")
    }
}

/// Parses JSON, telling a syntax error (`INVALID_JSON`) from a shape error
/// (`VALIDATION_ERROR` with the path of the offending field).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if let Err(err) = serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
        return Err(ApiError::new(
            ErrorCode::InvalidJson,
            format!("The request body is not valid JSON: {err}"),
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let field = if path == "." { "body".to_owned() } else { path };
        ApiError::invalid_field(field, serde_message(err.inner()))
    })
}

/// serde's message without its " at line 1 column 9" suffix, which means nothing to a caller
/// who sent the body from code.
fn serde_message(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// Query parameters, failing with `VALIDATION_ERROR`.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(query_rejection)
    }
}

fn query_rejection(rejection: QueryRejection) -> ApiError {
    let text = rejection.body_text();
    let detail = text
        .strip_prefix("Failed to deserialize query string: ")
        .unwrap_or(&text);
    ApiError::invalid_field("query", detail.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Probe {
        name: String,
        tags: Vec<String>,
    }

    #[test]
    fn syntax_errors_and_shape_errors_are_told_apart() {
        assert_eq!(
            parse_json::<Probe>(b"{nope").unwrap_err().code(),
            ErrorCode::InvalidJson
        );
        let err = parse_json::<Probe>(br#"{"name": "a", "tags": [1]}"#).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ValidationError);
        assert!(err.to_string().contains("tags[0]"), "{err}");
        let err = parse_json::<Probe>(br#"{"name": "a", "tags": [], "x": 1}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `x`"), "{err}");
    }

    #[test]
    fn json_content_types_are_recognised() {
        let ok =
            |s: &'static str| is_json_content_type(Some(&axum::http::HeaderValue::from_static(s)));
        assert!(ok("application/json"));
        assert!(ok("application/json; charset=utf-8"));
        assert!(ok("application/merge-patch+json"));
        assert!(!ok("text/plain"));
        assert!(!is_json_content_type(None));
    }
}
