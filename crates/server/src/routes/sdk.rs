//! What the official SDK calls at start and when it meets a prompt.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use std::collections::BTreeMap;

use axum::extract::Path;
use converra_api::sdk::{
    ActiveVariant, ActiveVariantQuery, AgentMatch, MatchAgentRequest, SdkConfig, ServedVariant,
    TestingMode,
};
use converra_api::settings::DeploymentMode;
use converra_api::Data;

use crate::auth::Caller;
use crate::engine::rng::fnv1a;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiQuery};
use crate::limits::ensure_agent_quota;
use crate::state::AppState;
use crate::store::agents::{self as agent_store, content_hash, NewAgent, VersionOrigin};
use crate::store::optimizations::{OptimizationRecord, CONTROL_ID};
use crate::validate::Checks;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sdk/config", get(sdk_config))
        .route("/sdk/agents/match", post(match_agent))
        .route("/sdk/agents/{id}/active-variant", get(active_variant))
}

/// Percent of user sessions that get the variant while a winner is tested live.
const LIVE_VARIANT_SHARE: u32 = 50;

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
    let live = live_tests(&state, &account.id).await?;
    let active_optimizations: Vec<serde_json::Value> = live
        .iter()
        .map(|run| {
            serde_json::json!({
                "optimizationId": run.id,
                "agentId": run.wire.agent_id,
                "variantId": run.wire.results.as_ref().and_then(|r| r.winning_variant_id.clone()),
                "trafficSplit": {"baseline": 100 - LIVE_VARIANT_SHARE, "variant": LIVE_VARIANT_SHARE},
            })
        })
        .collect();
    Ok(Json(Data::new(SdkConfig {
        testing_mode: if live.is_empty() {
            TestingMode::Simulation
        } else {
            TestingMode::Proxy
        },
        capture_enabled: true,
        active_optimizations,
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

/// The runs whose winner serves live traffic: with `deploymentMode: semi-automatic`, a
/// completed optimization's winner is tested on half the agent's user sessions until it is
/// applied (or a newer optimization of the agent completes). In `manual` mode none is.
async fn live_tests(state: &AppState, account_id: &str) -> ApiResult<Vec<OptimizationRecord>> {
    let settings = state.store.settings(account_id).await?;
    if settings.optimization.deployment_mode != DeploymentMode::SemiAutomatic {
        return Ok(Vec::new());
    }
    Ok(state.store.live_optimizations(account_id).await?)
}

/// Which arm this session gets: a hash of the session, so the same session always gets the
/// same one. Background, eval and batch traffic always gets the baseline.
#[utoipa::path(get, path = "/sdk/agents/{id}/active-variant", tag = "sdk", params(("id" = String, Path), ActiveVariantQuery),
    responses((status = 200, body = Data<ActiveVariant>), (status = 400, body = converra_api::ErrorBody),
        (status = 404, body = converra_api::ErrorBody)))]
pub async fn active_variant(
    State(state): State<AppState>,
    Caller(account): Caller,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<ActiveVariantQuery>,
) -> ApiResult<Json<Data<ActiveVariant>>> {
    let mut checks = Checks::default();
    let traffic_type = checks
        .one_of(
            "trafficType",
            query.traffic_type.as_deref(),
            &ActiveVariantQuery::TRAFFIC_TYPES,
        )
        .unwrap_or_else(|| "user".to_owned());
    checks.optional_text("sessionId", query.session_id.as_deref(), 500);
    checks.finish()?;
    let agent = state.store.agent(&account.id, &id).await?;
    let live = live_tests(&state, &account.id).await?;
    let Some(run) = live.into_iter().find(|r| r.wire.agent_id == agent.id) else {
        return Ok(Json(Data::new(ActiveVariant {
            has_active_variant: false,
            assignment: "baseline".to_owned(),
            optimization_id: None,
            variant: None,
            traffic_split: None,
            in_test: Some(false),
            metadata: None,
        })));
    };
    let winner_id = run
        .wire
        .results
        .as_ref()
        .and_then(|r| r.winning_variant_id.clone())
        .unwrap_or_default();
    let winner = state
        .store
        .variants(&run.account_id, &run.id)
        .await?
        .into_iter()
        .find(|v| v.public_id() == winner_id);
    let session_key = query.session_id.unwrap_or_default();
    let session_hash = fnv1a(format!("{}:{session_key}", run.id).as_bytes());
    // Without a session there is nothing to keep sticky: such calls get the baseline.
    let to_variant = traffic_type == "user"
        && !session_key.is_empty()
        && (session_hash % 100) < u64::from(LIVE_VARIANT_SHARE);
    let (assignment, served_id, variant) = match (&winner, to_variant) {
        (Some(w), true) => (
            "variant",
            w.public_id().to_owned(),
            Some(ServedVariant {
                id: w.public_id().to_owned(),
                content: w.content.clone(),
            }),
        ),
        _ => ("baseline", CONTROL_ID.to_owned(), None),
    };
    let mut metadata = serde_json::Map::new();
    metadata.insert("variantId".into(), served_id.into());
    metadata.insert("optimizationId".into(), run.id.clone().into());
    metadata.insert("assignment".into(), assignment.into());
    metadata.insert("inTest".into(), true.into());
    metadata.insert("trafficType".into(), traffic_type.into());
    metadata.insert(
        "sessionKeyHash".into(),
        format!("{session_hash:016x}").into(),
    );
    Ok(Json(Data::new(ActiveVariant {
        has_active_variant: true,
        assignment: assignment.to_owned(),
        optimization_id: Some(run.id.clone()),
        variant,
        traffic_split: Some(BTreeMap::from([
            ("baseline".to_owned(), 100 - LIVE_VARIANT_SHARE),
            ("variant".to_owned(), LIVE_VARIANT_SHARE),
        ])),
        in_test: Some(true),
        metadata: Some(metadata),
    })))
}
