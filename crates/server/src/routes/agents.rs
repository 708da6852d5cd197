//! Agents: create, list, get, update, versions.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use converra_api::agents::VersionSource;
use converra_api::agents::{
    Agent, AgentFilter, AgentStatus, AgentVersion, CreateAgent, UpdateAgent,
};
use converra_api::webhooks::{AgentDeleted, AgentUpdated};
use converra_api::{Data, List, Paging};

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;
use crate::store::agents::{self as agent_store, AgentChange, NewAgent, VersionOrigin};
use crate::store::notify::Channel;
use crate::store::paging::PageRequest;
use crate::validate::Checks;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/agents", get(list_agents).post(create_agent))
        .route("/agents/{id}", get(get_agent).patch(update_agent))
        .route("/agents/{id}/versions", get(list_versions))
}

const MAX_PROMPT_CHARS: usize = CreateAgent::MAX_PROMPT_CHARS;
const MIN_TEMPERATURE: f64 = CreateAgent::TEMPERATURE_RANGE.0;
const MAX_TEMPERATURE: f64 = CreateAgent::TEMPERATURE_RANGE.1;
const MIN_TOKENS: u32 = CreateAgent::MAX_TOKENS_RANGE.0;
const MAX_TOKENS: u32 = CreateAgent::MAX_TOKENS_RANGE.1;

fn check_tags(checks: &mut Checks, tags: Option<&Vec<String>>) -> Option<Vec<String>> {
    let tags = tags?;
    if tags.len() > CreateAgent::MAX_TAGS {
        checks.fail("tags", format!("at most {} tags", CreateAgent::MAX_TAGS));
    }
    Some(
        tags.iter()
            .enumerate()
            .map(|(i, tag)| checks.text(&format!("tags[{i}]"), tag, CreateAgent::MAX_TAG_CHARS))
            .collect(),
    )
}

/// Checks a create request; `default_model` is the account's preferred model.
pub fn validate_create(input: &CreateAgent, default_model: &str) -> ApiResult<NewAgent> {
    let mut checks = Checks::default();
    let agent = NewAgent {
        name: checks.text("name", &input.name, CreateAgent::MAX_NAME_CHARS),
        content: checks.text("content", &input.content, MAX_PROMPT_CHARS),
        llm_model: checks
            .optional_text(
                "llmModel",
                input.llm_model.as_deref(),
                CreateAgent::MAX_MODEL_CHARS,
            )
            .unwrap_or_else(|| default_model.to_owned()),
        description: checks.optional_text(
            "description",
            input.description.as_deref(),
            CreateAgent::MAX_DESCRIPTION_CHARS,
        ),
        tags: check_tags(&mut checks, input.tags.as_ref()).unwrap_or_default(),
        status: input.status.unwrap_or(AgentStatus::Active),
        objective: checks.optional_text(
            "objective",
            input.objective.as_deref(),
            CreateAgent::MAX_OBJECTIVE_CHARS,
        ),
        constraints: checks.optional_text("constraints", input.constraints.as_deref(), 10_000),
        temperature: checks.range_f64(
            "temperature",
            input.temperature,
            MIN_TEMPERATURE,
            MAX_TEMPERATURE,
        ),
        top_p: checks.range_f64("topP", input.top_p, 0.0, 1.0),
        max_tokens: checks.range_u32("maxTokens", input.max_tokens, MIN_TOKENS, MAX_TOKENS),
        reasoning_effort: checks.one_of(
            "reasoningEffort",
            input.reasoning_effort.as_deref(),
            &CreateAgent::REASONING_EFFORTS,
        ),
    };
    checks.finish()?;
    Ok(agent)
}

fn validate_update(input: &UpdateAgent) -> ApiResult<AgentChange> {
    let mut checks = Checks::default();
    let change = AgentChange {
        name: checks.optional_text("name", input.name.as_deref(), CreateAgent::MAX_NAME_CHARS),
        content: checks.optional_text("content", input.content.as_deref(), MAX_PROMPT_CHARS),
        llm_model: checks.optional_text(
            "llmModel",
            input.llm_model.as_deref(),
            CreateAgent::MAX_MODEL_CHARS,
        ),
        description: checks.optional_text(
            "description",
            input.description.as_deref(),
            CreateAgent::MAX_DESCRIPTION_CHARS,
        ),
        tags: check_tags(&mut checks, input.tags.as_ref()),
        status: input.status,
        objective: checks.optional_text(
            "objective",
            input.objective.as_deref(),
            CreateAgent::MAX_OBJECTIVE_CHARS,
        ),
        constraints: checks.optional_text("constraints", input.constraints.as_deref(), 10_000),
        temperature: checks.range_f64(
            "temperature",
            input.temperature,
            MIN_TEMPERATURE,
            MAX_TEMPERATURE,
        ),
        top_p: checks.range_f64("topP", input.top_p, 0.0, 1.0),
        max_tokens: checks.range_u32("maxTokens", input.max_tokens, MIN_TOKENS, MAX_TOKENS),
        reasoning_effort: checks.one_of(
            "reasoningEffort",
            input.reasoning_effort.as_deref(),
            &CreateAgent::REASONING_EFFORTS,
        ),
    };
    checks.finish()?;
    Ok(change)
}

/// Agents of the account, newest first; `status`, `tag` and `search` narrow the list.
#[utoipa::path(get, path = "/agents", tag = "agents", params(AgentFilter, Paging),
    responses((status = 200, body = List<Agent>)))]
pub async fn list_agents(
    State(state): State<AppState>,
    Caller(account): Caller,
    ApiQuery(filter): ApiQuery<AgentFilter>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Json<List<Agent>>> {
    let page = PageRequest::from_query(&paging, Paging::DEFAULT_LIMIT)?;
    let (data, pagination) = state.store.list_agents(&account.id, &filter, &page).await?;
    Ok(Json(List { data, pagination }))
}

/// Registers an agent (version 1, source `manual`).
#[utoipa::path(post, path = "/agents", tag = "agents", request_body = CreateAgent,
    responses((status = 201, body = Data<Agent>), (status = 400, body = converra_api::ErrorBody),
        (status = 403, body = converra_api::ErrorBody), (status = 409, body = converra_api::ErrorBody)))]
pub async fn create_agent(
    State(state): State<AppState>,
    Caller(account): Caller,
    ApiJson(input): ApiJson<CreateAgent>,
) -> ApiResult<(StatusCode, Json<Data<Agent>>)> {
    let settings = state.store.settings(&account.id).await?;
    let new_agent = validate_create(&input, &settings.general.preferred_llm)?;
    let now = state.clock.now_ms();
    let mut tx = state.store.begin_write().await?;
    crate::limits::ensure_agent_quota(&mut tx, &account).await?;
    let agent = agent_store::insert_agent(
        &mut tx,
        &account.id,
        &new_agent,
        &VersionOrigin::manual(),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(Data::new(agent))))
}

#[utoipa::path(get, path = "/agents/{id}", tag = "agents", params(("id" = String, Path)),
    responses((status = 200, body = Data<Agent>), (status = 404, body = converra_api::ErrorBody)))]
pub async fn get_agent(
    State(state): State<AppState>,
    Caller(account): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Data<Agent>>> {
    Ok(Json(Data::new(state.store.agent(&account.id, &id).await?)))
}

/// Changes any field; a new prompt or model makes a new version (source `manual`). Taking
/// an agent out of `archived` checks the agent quota as a create does (403 when full).
#[utoipa::path(patch, path = "/agents/{id}", tag = "agents", params(("id" = String, Path)), request_body = UpdateAgent,
    responses((status = 200, body = Data<Agent>), (status = 400, body = converra_api::ErrorBody),
        (status = 403, body = converra_api::ErrorBody), (status = 404, body = converra_api::ErrorBody),
        (status = 409, body = converra_api::ErrorBody)))]
pub async fn update_agent(
    State(state): State<AppState>,
    Caller(account): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<UpdateAgent>,
) -> ApiResult<Json<Data<Agent>>> {
    let change = validate_update(&input)?;
    let now = state.clock.now_ms();
    let mut tx = state.store.begin_write().await?;
    let was_archived = agent_store::agent_in(&mut tx, &account.id, &id)
        .await?
        .status
        == AgentStatus::Archived;
    // An archived agent takes no place in the quota, so bringing one back is a create.
    if was_archived && change.status.is_some_and(|s| s != AgentStatus::Archived) {
        crate::limits::ensure_agent_quota(&mut tx, &account).await?;
    }
    let agent = agent_store::update_agent(
        &mut tx,
        &account.id,
        &id,
        &change,
        &VersionOrigin::manual(),
        now,
    )
    .await?;
    crate::store::webhooks::queue_event(
        &mut tx,
        &account.id,
        &AgentUpdated {
            agent_id: agent.id.clone(),
            name: agent.name.clone(),
            version: agent.version,
            source: VersionSource::Manual,
            optimization_id: None,
            variant_id: None,
            updated_at: agent.updated_at.clone(),
        },
        now,
    )
    .await?;
    // The API deletes no agent (its conversations and history stay); archiving is how one
    // leaves, so that is when subscribers hear `agent.deleted`.
    if agent.status == AgentStatus::Archived && !was_archived {
        crate::store::webhooks::queue_event(
            &mut tx,
            &account.id,
            &AgentDeleted {
                agent_id: agent.id.clone(),
                name: agent.name.clone(),
                archived_at: agent.updated_at.clone(),
            },
            now,
        )
        .await?;
    }
    tx.commit().await?;
    state.wake(Channel::Webhooks);
    Ok(Json(Data::new(agent)))
}

/// The versions of the agent's prompt, newest first, a page at a time (100 unless `limit`
/// says otherwise, so that most agents' whole history is one page).
#[utoipa::path(get, path = "/agents/{id}/versions", tag = "agents", params(("id" = String, Path), Paging),
    responses((status = 200, body = List<AgentVersion>), (status = 400, body = converra_api::ErrorBody),
        (status = 404, body = converra_api::ErrorBody)))]
pub async fn list_versions(
    State(state): State<AppState>,
    Caller(account): Caller,
    Path(id): Path<String>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Json<List<AgentVersion>>> {
    let page = PageRequest::from_query(&paging, Paging::MAX_LIMIT)?;
    let (data, pagination) = state
        .store
        .agent_versions_page(&account.id, &id, &page)
        .await?;
    Ok(Json(List { data, pagination }))
}
