//! `GET /openapi.json`: OpenAPI 3.1 generated from the wire types and the route annotations.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Converra API", description = "Agents, conversations, insights and optimizations."),
    servers((url = "/api/v1")),
    paths(super::account::get_account, super::usage::get_usage,
        super::settings::get_settings, super::settings::update_settings,
        super::webhooks::list_webhooks, super::webhooks::create_webhook,
        super::webhooks::delete_webhook, super::webhooks::list_deliveries,
        super::webhooks::redeliver,
        super::agents::list_agents, super::agents::create_agent, super::agents::get_agent,
        super::agents::update_agent, super::agents::list_versions,
        super::conversations::list_conversations, super::conversations::create_conversation,
        super::conversations::get_conversation, super::conversations::append_messages,
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

pub fn router() -> Router<AppState> {
    Router::new().route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
}
