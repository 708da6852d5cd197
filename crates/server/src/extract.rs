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

/// Why text holding U+0000 is refused: no field means anything by it, and PostgreSQL cannot
/// store it.
pub const NUL_REFUSED: &str = "must not contain the character U+0000 (NUL)";

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
        ensure_object(&bytes)?;
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
        // `null` is the absent body the schema allows, spelled out.
        if bytes.trim_ascii() == b"null" {
            return Ok(ApiJsonOrDefault(T::default()));
        }
        ensure_object(&bytes)?;
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

/// 400 unless the body is a JSON object, as every request body of the API is: serde would
/// also read a struct from an array, by position.
fn ensure_object(bytes: &[u8]) -> Result<(), ApiError> {
    match bytes.trim_ascii_start().first() {
        Some(b'{') => Ok(()),
        // Not JSON at all: `parse_json` says how.
        Some(b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n') => {
            Err(ApiError::invalid_field("body", "must be a JSON object"))
        }
        _ => Ok(()),
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
    if has_nul_escape(bytes) {
        return Err(ApiError::invalid_field("body", NUL_REFUSED));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).or_else(|err| {
        // JSON has one number type: `2.0` is the integer 2 to a JSON Schema, which serde's
        // integer fields refuse. Tried only after the body as sent failed, so a valid
        // body pays nothing for it.
        whole_numbers_as_integers(bytes)
            .and_then(|value| serde_json::from_value(value).ok())
            .ok_or_else(|| {
                let path = err.path().to_string();
                let field = if path == "." { "body".to_owned() } else { path };
                ApiError::invalid_field(field, serde_message(err.inner()))
            })
    })
}

/// Whether valid JSON text holds a NUL character, which it can only spell `\u0000`
/// (an escaped backslash before `u0000` is text, not an escape).
fn has_nul_escape(bytes: &[u8]) -> bool {
    let mut i = 0;
    while let Some(offset) = bytes[i..].iter().position(|b| *b == b'\\') {
        let escape = i + offset;
        if bytes.get(escape + 1..escape + 6) == Some(b"u0000".as_slice()) {
            return true;
        }
        // Past the escaped character, so `\\u0000` is read as `\\` then text.
        i = escape + 2;
        if i >= bytes.len() {
            return false;
        }
    }
    false
}

/// The body with every float that is a whole number in the range of `i64` written as an
/// integer; `None` when it holds none.
fn whole_numbers_as_integers(bytes: &[u8]) -> Option<serde_json::Value> {
    fn rewrite(value: &mut serde_json::Value) -> bool {
        match value {
            serde_json::Value::Number(n) if n.is_f64() => {
                let f = n.as_f64().unwrap_or(f64::NAN);
                // Whole and below 2^63 in size: an `i64` holds it exactly.
                if f.fract() == 0.0 && f.abs() < 9.223_372_036_854_776e18 {
                    *value = serde_json::Value::from(f as i64);
                    return true;
                }
                false
            }
            serde_json::Value::Array(items) => {
                items.iter_mut().fold(false, |any, v| rewrite(v) | any)
            }
            serde_json::Value::Object(map) => {
                map.values_mut().fold(false, |any, v| rewrite(v) | any)
            }
            _ => false,
        }
    }
    let mut value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    rewrite(&mut value).then_some(value)
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

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Limits {
        limit: u32,
        share: f64,
    }

    /// JSON has one number type: `2.0` is a whole number a JSON Schema calls an integer.
    #[test]
    fn whole_floats_fill_integer_fields_and_fractions_are_still_refused() {
        assert_eq!(
            parse_json::<Limits>(br#"{"limit": 20.0, "share": 0.5}"#).unwrap(),
            Limits {
                limit: 20,
                share: 0.5
            }
        );
        let err = parse_json::<Limits>(br#"{"limit": 20.5, "share": 1.0}"#).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ValidationError);
        assert!(err.to_string().contains("limit"), "{err}");
        assert!(parse_json::<Limits>(br#"{"limit": 1e300, "share": 1}"#).is_err());
    }

    #[test]
    fn a_nul_character_is_found_only_where_json_spells_one() {
        assert!(has_nul_escape(br#"{"name": "a\u0000b"}"#));
        assert!(
            !has_nul_escape(br#"{"name": "a\\u0000b"}"#),
            "an escaped backslash, then text"
        );
        assert!(has_nul_escape(br#"{"name": "a\\\u0000"}"#));
        assert!(!has_nul_escape(br#"{"name": "a\n\u0001"}"#));
        assert!(!has_nul_escape(br"\"));
        let err = parse_json::<Probe>(br#"{"name": "a\u0000", "tags": []}"#).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ValidationError);
        assert!(err.to_string().contains("U+0000"), "{err}");
    }

    #[test]
    fn a_body_must_be_an_object_not_an_array_read_by_position() {
        assert!(ensure_object(br#" {"name": "a"}"#).is_ok());
        let err = ensure_object(br#"["a", []]"#).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ValidationError);
        assert!(err.to_string().contains("body"), "{err}");
        assert!(ensure_object(b"42").is_err());
        // Not JSON at all is left to the parser, which says so.
        assert!(ensure_object(b"<xml/>").is_ok());
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
