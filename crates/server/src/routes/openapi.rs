//! `GET /openapi.json`: OpenAPI 3.1 generated from the wire types and the route annotations.

use std::sync::LazyLock;

use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Converra API", description = "Agents, conversations, insights and optimizations."),
    servers((url = "/api/v1")),
    paths(super::account::get_account, super::usage::get_usage,
        super::settings::get_settings, super::settings::update_settings,
        super::webhooks::list_webhooks, super::webhooks::create_webhook,
        super::webhooks::delete_webhook, super::webhooks::list_deliveries,
        super::webhooks::redeliver, super::webhooks::send_test_event,
        super::agents::list_agents, super::agents::create_agent, super::agents::get_agent,
        super::agents::update_agent, super::agents::list_versions,
        super::conversations::list_conversations, super::conversations::create_conversation,
        super::conversations::get_conversation, super::conversations::append_messages,
        super::otel::export_traces, super::otel::export_logs,
        super::sdk::sdk_config, super::sdk::match_agent, super::sdk::active_variant,
        super::insights::conversation_insights, super::insights::regenerate_conversation_insights,
        super::insights::agent_insights, super::insights::regenerate_agent_insights,
        super::insights::step_failures, super::insights::deployments_impact,
        super::optimizations::list_optimizations, super::optimizations::create_optimization,
        super::optimizations::get_optimization, super::optimizations::list_variants,
        super::optimizations::apply_variant, super::optimizations::stop_optimization,
        super::optimizations::get_simulation,
        super::benchmarks::list_benchmarks, super::benchmarks::create_benchmark,
        super::benchmarks::get_benchmark, super::benchmarks::bulk_benchmarks),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The document as served, generated and serialized on first use: it depends only on the
/// code, and generating it walks every schema, too much work to repeat per request.
static OPENAPI_JSON: LazyLock<Result<Bytes, String>> = LazyLock::new(|| {
    serde_json::to_vec(&ApiDoc::openapi())
        .map(Bytes::from)
        .map_err(|err| err.to_string())
});

async fn openapi_json() -> ApiResult<impl IntoResponse> {
    let json = OPENAPI_JSON.as_ref().map_err(|err| {
        ApiError::Internal(anyhow::anyhow!("serializing the OpenAPI document: {err}"))
    })?;
    // Cloning `Bytes` shares the one buffer.
    Ok(([(CONTENT_TYPE, "application/json")], json.clone()))
}

pub fn router() -> Router<AppState> {
    Router::new().route("/openapi.json", get(openapi_json))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_document_is_serialized_once_and_served_as_the_same_bytes() {
        let first = axum::body::to_bytes(
            openapi_json().await.unwrap().into_response().into_body(),
            usize::MAX,
        )
        .await
        .unwrap();
        let second = axum::body::to_bytes(
            openapi_json().await.unwrap().into_response().into_body(),
            usize::MAX,
        )
        .await
        .unwrap();
        assert_eq!(first, second);
        // The same buffer, not an equal copy: the document was not built again.
        let cached = OPENAPI_JSON.as_ref().unwrap();
        assert_eq!(first.as_ptr(), cached.as_ptr());
        let doc: serde_json::Value = serde_json::from_slice(&first).unwrap();
        assert!(doc["paths"]["/webhooks"]["post"].is_object());
    }
}
