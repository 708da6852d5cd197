//! The router: every resource's routes merged under `/api/v1`, the layers around them, and
//! the dashboard's static files.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method};
use axum::routing::any;
use axum::serve::ListenerExt as _;
use axum::Router;
use converra_api::ErrorCode;
use tokio::net::TcpListener;
use tower_http::cors::{Any, CorsLayer};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::clock::SharedClock;
use crate::engine::model::ModelConfig;
use crate::engine::registry::{EngineRegistry, ModelDefaults};
use crate::engine::Engine;
use crate::error::ApiError;
use crate::store::Store;
use crate::{auth, routes};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: SharedClock,
    pub config: Arc<ServerConfig>,
    /// Rate-limit windows and requests counted but not yet written to `usage_daily`.
    pub limiter: Arc<crate::limits::RateLimiter>,
    /// Wakes the webhook worker after a commit that queued deliveries.
    pub webhook_wakeup: Arc<tokio::sync::Notify>,
    /// Wakes the insights, optimization and benchmark workers after a commit that queued work.
    pub jobs_wakeup: Arc<tokio::sync::Notify>,
    pub engines: Arc<EngineRegistry>,
}

impl AppState {
    /// Tells the webhook worker that deliveries were queued; call it after the commit.
    pub fn wake_webhooks(&self) {
        // A stored permit: a wake-up sent while the worker is busy is not lost.
        self.webhook_wakeup.notify_one();
    }

    /// Tells the background workers that work was queued; call it after the commit.
    pub fn wake_jobs(&self) {
        self.jobs_wakeup.notify_waiters();
        self.jobs_wakeup.notify_one();
    }

    /// The engine that serves this account now (its settings may change at any time).
    pub async fn engine_for(&self, account_id: &str) -> anyhow::Result<Arc<dyn Engine>> {
        let settings = self.store.settings(account_id).await?;
        let key = self.store.llm_api_key(account_id).await?;
        Ok(self.engines.for_settings(&settings.llm, key))
    }

    /// The state of a server over `store`; in-memory parts (rate-limit windows, wake-ups of
    /// background workers) start empty.
    pub fn new(store: Store, clock: SharedClock, config: ServerConfig) -> AppState {
        let config_model_defaults = config.model_defaults.clone();
        let config_tune_model = config.tune_model;
        AppState {
            store,
            clock,
            config: Arc::new(config),
            limiter: Arc::new(crate::limits::RateLimiter::new()),
            webhook_wakeup: Arc::new(tokio::sync::Notify::new()),
            jobs_wakeup: Arc::new(tokio::sync::Notify::new()),
            engines: Arc::new(EngineRegistry::new(
                config_model_defaults,
                config_tune_model,
            )),
        }
    }
}

/// Settings of a running server that come from the command line.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The dashboard's built files (`dist/`), served at `/` when set.
    pub dist: Option<PathBuf>,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Lets webhooks use plain http and private, loopback or link-local addresses: for
    /// local development and tests only, since it lets callers reach the server's network.
    pub allow_private_webhooks: bool,
    /// The first retry delay of a failed webhook delivery; each retry doubles it.
    pub webhook_retry_base_ms: u64,
    /// The first retry delay of failed insights; each retry doubles it.
    pub insights_retry_base_ms: u64,
    /// Origins besides this one the dashboard may call (its CSP `connect-src`): an API
    /// served elsewhere than the dashboard.
    pub dashboard_connect_src: Vec<String>,
    /// The model the server's flags name, for accounts whose settings name none.
    pub model_defaults: ModelDefaults,
    /// Adjusts every model client's configuration (tests shorten timeouts with it).
    pub tune_model: fn(&mut ModelConfig),
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            dist: None,
            body_limit: 1024 * 1024,
            allow_private_webhooks: false,
            webhook_retry_base_ms: 10_000,
            insights_retry_base_ms: 30_000,
            dashboard_connect_src: Vec::new(),
            model_defaults: ModelDefaults::default(),
            tune_model: |_| {},
        }
    }
}

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
        .merge(routes::sdk::router())
        .merge(routes::usage::router())
        .merge(routes::settings::router())
        .merge(routes::webhooks::router())
        // Route layers wrap the ones before them: auth runs first, then the rate limit.
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
        .layer(axum::middleware::from_fn_with_state(
            state.config.body_limit,
            refuse_oversized_body,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(
            state.config.body_limit,
        ))
        .layer(cors());

    let mut app = Router::new()
        .nest(converra_api::BASE_PATH, api)
        .route("/api", any(unknown_endpoint))
        .route("/api/{*rest}", any(unknown_endpoint));
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
    let usage_flusher = crate::limits::UsageFlusher::start(&state);
    let webhook_worker = crate::jobs::webhooks::WebhookWorker::start(&state)?;
    let workers = crate::jobs::Workers::start(&state).await?;
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
    state.store.close().await;
    Ok(())
}
