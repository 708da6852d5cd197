//! What the official SDK calls at start and when it meets a prompt.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use converra_api::sdk::{AgentMatch, MatchAgentRequest, SdkConfig, TestingMode};
use converra_api::Data;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::ApiJson;
use crate::limits::ensure_agent_quota;
use crate::store::agents::{self as agent_store, content_hash, NewAgent, VersionOrigin};
use crate::validate::Checks;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sdk/config", get(sdk_config))
        .route("/sdk/agents/match", post(match_agent))
}

/// The SDK's start-up configuration: which prompt hashes belong to which agents.
#[utoipa::path(get, path = "/sdk/config", tag = "sdk", responses((status = 200, body = Data<SdkConfig>)))]
pub async fn sdk_config(
    State(state): State<AppState>,
    Caller(account): Caller,
) -> ApiResult<Json<Data<SdkConfig>>> {
    let agent_hashes: std::collections::BTreeMap<String, String> = state
        .store
        .agent_hashes(&account.id)
        .await?
        .into_iter()
        .collect();
    Ok(Json(Data::new(SdkConfig {
        testing_mode: TestingMode::Simulation,
        capture_enabled: true,
        active_optimizations: Vec::new(),
        prompt_hashes: agent_hashes.clone(),
        agent_hashes,
    })))
}

/// Finds the agent whose current or earlier prompt has this content; an unknown prompt is
/// registered as a new agent (source `sdk`) and answered with `matched: false`.
#[utoipa::path(post, path = "/sdk/agents/match", tag = "sdk", request_body = MatchAgentRequest,
    responses((status = 200, body = Data<AgentMatch>), (status = 400, body = converra_api::ErrorBody)))]
pub async fn match_agent(
    State(state): State<AppState>,
    Caller(account): Caller,
    ApiJson(input): ApiJson<MatchAgentRequest>,
) -> ApiResult<Json<Data<AgentMatch>>> {
    let mut checks = Checks::default();
    let content = checks.text("content", &input.content, 100_000);
    checks.finish()?;
    let hash = content_hash(&content);
    let now = state.clock.now_ms();
    let mut tx = state.store.begin_write().await?;
    let (agent, matched) = match agent_store::agent_by_hash(&mut tx, &account.id, &hash).await? {
        Some(agent) => (agent, true),
        None => {
            ensure_agent_quota(&mut tx, &account).await?;
            let settings = state.store.settings(&account.id).await?;
            let mut new_agent = NewAgent::from_prompt(
                format!("Agent {}", &hash[..8]),
                content,
                settings.general.preferred_llm,
            );
            new_agent.description =
                Some("Registered by the SDK from a system prompt it met.".to_owned());
            new_agent.tags = vec!["sdk".to_owned()];
            (
                agent_store::insert_agent(
                    &mut tx,
                    &account.id,
                    &new_agent,
                    &VersionOrigin::sdk(),
                    now,
                )
                .await?,
                false,
            )
        }
    };
    tx.commit().await?;
    Ok(Json(Data::new(AgentMatch {
        prompt_id: agent.id.clone(),
        agent_id: agent.id,
        name: agent.name,
        content_hash: hash,
        matched,
    })))
}
