//! Serving the dashboard's build (`--dist`): every file as it is or as the brotli or gzip
//! copy the release build wrote beside it (scripts/precompress.mjs), `index.html` for any
//! other path so deep links work, all under the dashboard's Content-Security-Policy.
//!
//! Until `index.html` exists (the first `scripts/up.sh` serves the API while the dashboard
//! is still compiling), every dashboard path answers 503 with a page that says so and
//! reloads itself.
//!
//! Files whose names carry a hash of their contents (trunk's `main-<hash>.css`, the
//! `pkg-<hash>/` directory of wasm and its loader, `boot-<hash>.js`) never change, so
//! browsers may keep them for a year without asking again; everything else, `index.html`
//! first, is revalidated on every load so a new build is picked up at once.

use std::path::{Path, PathBuf};

use axum::extract::Request;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::Router;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// The service for every path outside the API.
pub fn service(dist: &Path, connect_src: &[String]) -> Router {
    let index = ServeFile::new(dist.join("index.html"))
        .precompressed_br()
        .precompressed_gzip();
    let files = ServeDir::new(dist)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(index);
    let policy = HeaderValue::from_str(&content_security_policy(connect_src))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
    Router::new().fallback_service(files).layer(
        tower::ServiceBuilder::new()
            .layer(SetResponseHeaderLayer::overriding(
                axum::http::header::CONTENT_SECURITY_POLICY,
                policy,
            ))
            .layer(SetResponseHeaderLayer::overriding(
                axum::http::header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ))
            .layer(SetResponseHeaderLayer::overriding(
                axum::http::header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ))
            .layer(axum::middleware::from_fn(cache_policy))
            .layer(axum::middleware::from_fn_with_state(
                dist.to_owned(),
                building_until_built,
            )),
    )
}

/// Seconds the building page waits before it reloads, and that `Retry-After` gives.
const BUILDING_RETRY_SECS: u32 = 5;

async fn building_until_built(
    axum::extract::State(dist): axum::extract::State<PathBuf>,
    request: Request,
    next: Next,
) -> Response {
    if dist.join("index.html").is_file() {
        return next.run(request).await;
    }
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"{BUILDING_RETRY_SECS}\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"color-scheme\" content=\"light dark\">\
         <title>Converra: the dashboard is being built</title></head><body>\
         <h1>The dashboard is still being built</h1>\
         <p>The API is already up under <code>/api/v1</code>. This page reloads itself \
         every {BUILDING_RETRY_SECS} seconds and shows the dashboard once its build \
         (<code>trunk build --release</code> into <code>{}</code>) has finished.</p>\
         </body></html>",
        html_escape(&dist.display().to_string())
    );
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, Html(page)).into_response();
    response.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        HeaderValue::from(BUILDING_RETRY_SECS),
    );
    response
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The dashboard's Content-Security-Policy: scripts only from this origin (no inline
/// script; wasm may compile), styles from this origin plus style attributes (the charts and
/// progress bars size elements with them), API calls only to this origin and `connect_src`.
pub fn content_security_policy(connect_src: &[String]) -> String {
    let mut connect = vec!["'self'".to_owned()];
    connect.extend(connect_src.iter().cloned());
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
         style-src-attr 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src {}; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'",
        connect.join(" ")
    )
}

async fn cache_policy(request: Request, next: Next) -> Response {
    let hashed = is_content_addressed(request.uri().path());
    let mut response = next.run(request).await;
    // A hashed path that does not exist is answered with index.html: that answer must not
    // be kept for a year under the file's name.
    let is_index = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|t| t.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    let policy = if hashed && response.status() == StatusCode::OK && !is_index {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static(policy));
    response
}

/// Whether the path's first segment is `name-<hash>` or `name-<hash>.ext`, the hash being
/// 12 to 16 hex digits (trunk drops leading zeros, so some of its hashes have 15).
fn is_content_addressed(path: &str) -> bool {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    let stem = first.split('.').next().unwrap_or("");
    stem.rsplit_once('-').is_some_and(|(name, hash)| {
        !name.is_empty()
            && (12..=16).contains(&hash.len())
            && hash.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

#[cfg(test)]
mod tests {
    use super::is_content_addressed;

    #[test]
    fn hashed_names_are_the_builds_own() {
        for path in [
            "/main-83ad45f26ce1f1fe.css",
            "/optimizations-cd267005339e347.css",
            "/boot-0f2bc59cc025145e.js",
            "/pkg-1ff6ed0ceea31672/converra-dashboard_bg.wasm",
            "/pkg-1ff6ed0ceea31672/__wasm_split.js",
        ] {
            assert!(is_content_addressed(path), "{path}");
        }
        for path in [
            "/",
            "/index.html",
            "/conversations",
            "/conversations/conv_KPRnqQE9zaJSe7nRrzIveYdw",
            "/agents/agent_0123456789abcdef",
            "/favicon.svg",
            "/pkg-xyz/converra-dashboard.js",
        ] {
            assert!(!is_content_addressed(path), "{path}");
        }
    }
}
