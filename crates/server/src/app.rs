//! The router: every resource's routes merged under `/api/v1`, the layers around them, and
//! the dashboard's static files.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method};
use axum::routing::any;
use axum::Router;
use converra_api::ErrorCode;
use tokio::net::TcpListener;
use tower_http::cors::{Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::clock::SharedClock;
use crate::error::ApiError;
use crate::store::Store;
use crate::{auth, routes};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: SharedClock,
    pub config: Arc<ServerConfig>,
}

impl AppState {
    /// The state of a server over `store`; in-memory parts (rate-limit windows, wake-ups of
    /// background workers) start empty.
    pub fn new(store: Store, clock: SharedClock, config: ServerConfig) -> AppState {
        AppState {
            store,
            clock,
            config: Arc::new(config),
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
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            dist: None,
            body_limit: 1024 * 1024,
        }
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let authed = Router::new().merge(routes::account::router()).route_layer(
        axum::middleware::from_fn_with_state(state.clone(), auth::require_api_key),
    );
    let api = Router::new()
        .merge(routes::openapi::router())
        .merge(authed)
        .fallback(unknown_endpoint)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(RequestBodyLimitLayer::new(state.config.body_limit))
        .layer(cors());

    let mut app = Router::new()
        .nest(converra_api::BASE_PATH, api)
        .route("/api", any(unknown_endpoint))
        .route("/api/{*rest}", any(unknown_endpoint));
    if let Some(dist) = &state.config.dist {
        // Any other path is a dashboard route: index.html, so deep links work.
        let dashboard = ServeDir::new(dist).fallback(ServeFile::new(dist.join("index.html")));
        app = app.fallback_service(dashboard);
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
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    state.store.close().await;
    Ok(())
}
