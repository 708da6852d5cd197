//! `GET /healthz` and `GET /readyz`, outside `/api/v1` and without a key, for load balancers
//! and orchestrators: the first says the process answers, the second that it can serve.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use converra_api::ErrorCode;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// 200 while the process runs; it asks nothing of the database.
async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// 200 when the database answers and its schema is this build's; else 503
/// `SERVICE_UNAVAILABLE` with `Retry-After`, so traffic goes to another instance meanwhile.
async fn readyz(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    if state.store.is_ready().await? {
        Ok(Json(json!({"status": "ready"})))
    } else {
        Err(ApiError::new(
            ErrorCode::ServiceUnavailable,
            "The database's schema is older than this server's; migrations have not finished",
        )
        .retry_after(5))
    }
}
