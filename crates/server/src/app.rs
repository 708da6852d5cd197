//! The router: every resource's routes merged under `/api/v1`, the layers around them, and
//! the dashboard's static files.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use axum::routing::{any, get};
use axum::serve::ListenerExt as _;
use axum::Router;
use converra_api::ErrorCode;
use tokio::net::TcpListener;
use tower_http::cors::{Any, CorsLayer};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::error::ApiError;
use crate::extract::NUL_REFUSED;
use crate::state::AppState;
use crate::{auth, routes};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let authed = Router::new()
        .merge(routes::account::router())
        .merge(routes::agents::router())
        .merge(routes::benchmarks::router())
        .merge(routes::conversations::router())
        .merge(routes::insights::router())
        .merge(routes::optimizations::router())
        .merge(routes::otel::router())
        .merge(routes::sdk::router())
        .merge(routes::usage::router())
        .merge(routes::settings::router())
        .merge(routes::webhooks::router())
        // Route layers wrap the ones before them: auth runs first, then the rate limit,
        // then the check of the URI.
        .route_layer(axum::middleware::from_fn(refuse_nul_in_uri))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::limits::enforce_rate_limit,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_api_key,
        ));
    let api = Router::new()
        .merge(routes::openapi::router())
        .merge(authed)
        .fallback(unknown_endpoint)
        .method_not_allowed_fallback(method_not_allowed)
        // Inside the routing, where the matched route template is known.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            count_request,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.config.body_limit,
            refuse_oversized_body,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.config.request_timeout,
            abandon_slow_request,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(
            state.config.body_limit,
        ))
        .layer(cors());

    // Paths under /api that are no endpoint: counted in the metrics under this route.
    let unknown = Router::new()
        .route("/api", any(unknown_endpoint))
        .route("/api/{*rest}", any(unknown_endpoint))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            count_request,
        ));
    let mut app = Router::new()
        .nest(converra_api::BASE_PATH, api)
        .merge(routes::health::router())
        .merge(unknown);
    if let Some(dist) = &state.config.dist {
        app = app.fallback_service(crate::dashboard::service(
            dist,
            &state.config.dashboard_connect_src,
        ));
    }
    app.layer(
        tower::ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRandomRequestId))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(request_span)
                    .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
            )
            .layer(PropagateRequestIdLayer::new(REQUEST_ID)),
    )
    .with_state(state)
}

/// The route of a request no route matched: one label, whatever the path, so a scan of
/// random paths cannot grow the metrics. (Unknown paths under `/api` match `/api/{*rest}`.)
const UNMATCHED_ROUTE: &str = "unmatched";

/// Middleware: counts each API request under its route template (`/api/v1/agents/{id}`,
/// never the path itself, so ids do not multiply the series) and times it.
pub async fn count_request(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED_ROUTE, MatchedPath::as_str)
        .to_owned();
    let response = next.run(request).await;
    state.metrics.record_request(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// The metrics listener's routes (`--metrics-addr`, apart from the API): `GET /metrics`
/// alone.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(state)
}

async fn scrape(State(state): State<AppState>) -> Response {
    let now = state.clock.now_ms();
    match state.store.queue_stats(now).await {
        Ok(queues) => (
            [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
            state.metrics.render(&queues),
        )
            .into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "reading queue depths for /metrics failed");
            ApiError::from(err).into_response()
        }
    }
}

/// Seconds a client is asked to wait before retrying a request that timed out.
const RETRY_AFTER_TIMEOUT_SECS: u64 = 5;

/// Answers 503 `REQUEST_TIMEOUT` when a request runs past `limit`, so that a stuck request
/// holds neither the client nor a connection for ever. Writes are transactions, so an
/// abandoned one commits whole or not at all.
async fn abandon_slow_request(
    axum::extract::State(limit): axum::extract::State<std::time::Duration>,
    request: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            ErrorCode::RequestTimeout,
            format!(
                "The request did not finish within {} s and was abandoned; try again",
                limit.as_secs()
            ),
        )
        .retry_after(RETRY_AFTER_TIMEOUT_SECS)
        .into_response(),
    }
}

/// 400 when the path or the query holds an encoded NUL (`%00`): no id or filter contains
/// one, and PostgreSQL cannot take it in a text parameter.
async fn refuse_nul_in_uri(
    request: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let uri = request.uri();
    let field = if uri.path().contains("%00") {
        Some("path")
    } else if uri.query().is_some_and(|q| q.contains("%00")) {
        Some("query")
    } else {
        None
    };
    match field {
        Some(field) => ApiError::invalid_field(field, NUL_REFUSED).into_response(),
        None => next.run(request).await,
    }
}

fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            axum::http::header::AUTHORIZATION,
            axum::http::header::CONTENT_TYPE,
        ])
        .expose_headers([
            REQUEST_ID,
            HeaderName::from_static("x-ratelimit-limit"),
            HeaderName::from_static("x-ratelimit-remaining"),
            HeaderName::from_static("x-ratelimit-reset"),
            HeaderName::from_static("retry-after"),
        ])
}

fn request_span(request: &Request) -> tracing::Span {
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id,
        account = tracing::field::Empty,
    )
}

/// Refuses a body whose declared length is over the limit before reading any of it; a body
/// without a length (chunked) is cut at the limit by `DefaultBodyLimit` as it is read.
async fn refuse_oversized_body(
    axum::extract::State(limit): axum::extract::State<usize>,
    request: Request,
    next: axum::middleware::Next,
) -> Result<axum::response::Response, ApiError> {
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("The request body is larger than the {limit} bytes the server accepts"),
        ));
    }
    Ok(next.run(request).await)
}

async fn unknown_endpoint() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "No such endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        "This endpoint does not take that method",
    )
}

#[derive(Clone)]
struct MakeRandomRequestId;

impl MakeRequestId for MakeRandomRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&crate::ids::new_id("req"))
            .ok()
            .map(RequestId::new)
    }
}

/// Serves `state` on `listener` until `shutdown` resolves; requests in flight finish first.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = router(state.clone());
    let usage_flusher = crate::jobs::usage::start_flusher(&state);
    let webhook_worker = crate::jobs::webhooks::start(&state)?;
    let workers = crate::jobs::Workers::start(&state).await?;
    let wakeups = crate::jobs::wakeups::start(&state);
    // A response may leave in more than one small write; with Nagle's algorithm on, a small
    // write that follows an unacknowledged one waits for the client's delayed ACK (up to
    // 40 ms). An HTTP server wants every write out at once.
    let listener = listener.tap_io(|stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::warn!(%error, "could not set TCP_NODELAY on a connection");
        }
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    // After the last request in flight, so its count is flushed too.
    usage_flusher.stop().await;
    workers.stop().await;
    webhook_worker.stop().await;
    if let Some(wakeups) = wakeups {
        wakeups.stop().await;
    }
    state.store.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;
    use std::time::Duration;
    use tower::ServiceExt as _;

    fn app(limit: Duration) -> Router {
        Router::new()
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(3_600)).await;
                    "late"
                }),
            )
            .route("/quick", get(|| async { "on time" }))
            .layer(axum::middleware::from_fn_with_state(
                limit,
                abandon_slow_request,
            ))
    }

    async fn call(path: &str) -> axum::response::Response {
        app(Duration::from_millis(50))
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_request_past_its_deadline_is_abandoned_with_503_and_retry_after() {
        let response = call("/slow").await;
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()["retry-after"], "5");
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["code"], "REQUEST_TIMEOUT", "{body}");
        assert_eq!(call("/quick").await.status(), 200);
    }
}
