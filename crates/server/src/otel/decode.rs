//! OTLP/HTTP bodies: protobuf or JSON, gzip-compressed or not.

use std::io::Read;

use serde::de::DeserializeOwned;

/// The two encodings OTLP/HTTP defines; an answer goes back in the request's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    /// From `Content-Type`; `None` for anything else.
    pub fn from_content_type(content_type: Option<&str>) -> Option<Encoding> {
        let essence = content_type?.split(';').next()?.trim().to_ascii_lowercase();
        match essence.as_str() {
            "application/x-protobuf" | "application/protobuf" => Some(Encoding::Protobuf),
            "application/json" => Some(Encoding::Json),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

/// Why a body could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// A `Content-Encoding` other than gzip or identity.
    UnsupportedEncoding(String),
    /// Gzip that does not inflate.
    BadGzip(String),
    /// The inflated body is over the limit.
    TooLarge(usize),
    BadProtobuf(String),
    /// Not JSON at all.
    BadJson(String),
    /// JSON, but not an export request.
    NotAnExport(String),
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::UnsupportedEncoding(encoding) => write!(
                f,
                "Content-Encoding '{encoding}' is not supported; send gzip or an uncompressed body"
            ),
            DecodeError::BadGzip(reason) => write!(f, "The gzip body does not inflate: {reason}"),
            DecodeError::TooLarge(limit) => write!(
                f,
                "The uncompressed export is larger than the {limit} bytes the server accepts"
            ),
            DecodeError::BadProtobuf(reason) => {
                write!(f, "The body is not a valid OTLP protobuf message: {reason}")
            }
            DecodeError::BadJson(reason) => write!(f, "The body is not valid JSON: {reason}"),
            DecodeError::NotAnExport(reason) => {
                write!(f, "The body is not an OTLP JSON export request: {reason}")
            }
        }
    }
}

/// Inflates a gzip body (when `Content-Encoding` says so) up to `limit` bytes.
pub fn inflate(
    body: &[u8],
    content_encoding: Option<&str>,
    limit: usize,
) -> Result<Vec<u8>, DecodeError> {
    let encoding = content_encoding.unwrap_or("identity").trim();
    if encoding.is_empty() || encoding.eq_ignore_ascii_case("identity") {
        return Ok(body.to_vec());
    }
    if !encoding.eq_ignore_ascii_case("gzip") {
        return Err(DecodeError::UnsupportedEncoding(encoding.to_owned()));
    }
    let mut inflated = Vec::new();
    // One byte past the limit tells "exactly at the limit" from "over it" without reading
    // a bomb to its end.
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    flate2::read::GzDecoder::new(body)
        .take(cap)
        .read_to_end(&mut inflated)
        .map_err(|e| DecodeError::BadGzip(e.to_string()))?;
    if inflated.len() > limit {
        return Err(DecodeError::TooLarge(limit));
    }
    Ok(inflated)
}

/// Decodes an export request in either encoding.
pub fn decode<T>(body: &[u8], encoding: Encoding) -> Result<T, DecodeError>
where
    T: prost::Message + Default + DeserializeOwned,
{
    match encoding {
        Encoding::Protobuf => T::decode(body).map_err(|e| DecodeError::BadProtobuf(e.to_string())),
        Encoding::Json => {
            serde_json::from_slice::<serde::de::IgnoredAny>(body)
                .map_err(|e| DecodeError::BadJson(e.to_string()))?;
            serde_json::from_slice(body).map_err(|e| DecodeError::NotAnExport(e.to_string()))
        }
    }
}

/// Encodes an answer in the request's encoding.
pub fn encode<T>(message: &T, encoding: Encoding) -> Vec<u8>
where
    T: prost::Message + serde::Serialize,
{
    match encoding {
        Encoding::Protobuf => message.encode_to_vec(),
        Encoding::Json => {
            // Serializing the generated types cannot fail: no map has non-string keys.
            let mut value = serde_json::to_value(message).unwrap_or_default();
            // OTLP JSON leaves unset fields out rather than writing them as null.
            if let serde_json::Value::Object(fields) = &mut value {
                fields.retain(|_, v| !v.is_null());
            }
            value.to_string().into_bytes()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(bytes).expect("gzip in memory");
        encoder.finish().expect("gzip in memory")
    }

    #[test]
    fn content_types_pick_the_encoding() {
        assert_eq!(
            Encoding::from_content_type(Some("application/x-protobuf")),
            Some(Encoding::Protobuf)
        );
        assert_eq!(
            Encoding::from_content_type(Some("application/json; charset=utf-8")),
            Some(Encoding::Json)
        );
        assert_eq!(Encoding::from_content_type(Some("text/plain")), None);
        assert_eq!(Encoding::from_content_type(None), None);
    }

    #[test]
    fn gzip_inflates_within_the_limit_only() {
        let body = vec![b'a'; 1000];
        assert_eq!(inflate(&gzip(&body), Some("gzip"), 1000), Ok(body.clone()));
        assert_eq!(
            inflate(&gzip(&body), Some("gzip"), 999),
            Err(DecodeError::TooLarge(999))
        );
        assert!(matches!(
            inflate(b"not gzip", Some("gzip"), 1000),
            Err(DecodeError::BadGzip(_))
        ));
        assert!(matches!(
            inflate(b"x", Some("br"), 1000),
            Err(DecodeError::UnsupportedEncoding(_))
        ));
    }

    #[test]
    fn malformed_bodies_are_errors() {
        assert!(matches!(
            decode::<ExportTraceServiceRequest>(b"\xff\xff\xff", Encoding::Protobuf),
            Err(DecodeError::BadProtobuf(_))
        ));
        assert!(matches!(
            decode::<ExportTraceServiceRequest>(b"{", Encoding::Json),
            Err(DecodeError::BadJson(_))
        ));
        assert!(matches!(
            decode::<ExportTraceServiceRequest>(br#"{"resourceSpans": "x"}"#, Encoding::Json),
            Err(DecodeError::NotAnExport(_))
        ));
    }
}
