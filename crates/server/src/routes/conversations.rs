//! Conversations, and the same endpoints under the SDK's name for them, `/runs`.

use axum::extract::{MatchedPath, Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use converra_api::conversations::{
    AppendMessages, Conversation, ConversationFilter, ConversationSource, ConversationStatus,
    CreateConversation, InsightsStatus, Message, Role,
};
use converra_api::webhooks::ConversationCreated;
use converra_api::{Data, List, Paging};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery};
use crate::limits::shared_turn::{ensure_conversation_quota_shared, SharedCheck};
use crate::limits::{ensure_agent_quota, ensure_conversation_quota};
use crate::state::AppState;
use crate::store::accounts::AccountRecord;
use crate::store::agents::{self as agent_store, NewAgent, VersionOrigin};
use crate::store::conversations::{self as conversation_store, Appended, NewConversation};
use crate::store::insights::{queue_insights, queue_insights_of_new};
use crate::store::notify::Channel;
use crate::store::paging::PageRequest;
use crate::store::slots::Slot;
use crate::store::sql::lock_named;
use crate::store::usage::{add_usage_in, UsageDelta};
use crate::transcript::parse_transcript;
use crate::validate::Checks;

pub fn router() -> Router<AppState> {
    let mut router = Router::new();
    for base in ["/conversations", "/runs"] {
        router = router
            .route(base, get(list_conversations).post(create_conversation))
            .route(&format!("{base}/{{id}}"), get(get_conversation))
            .route(&format!("{base}/{{id}}/messages"), post(append_messages));
    }
    router
}

const MAX_MESSAGES: usize = 10_000;
const MAX_MESSAGE_CHARS: usize = 200_000;
/// The most tokens one message may report for its prompt or its completion: far above any
/// model's context, and low enough that sums over conversations and days stay exact.
const MAX_MESSAGE_TOKENS: u64 = 1_000_000_000;

fn check_messages(checks: &mut Checks, messages: &[Message]) {
    if messages.len() > MAX_MESSAGES {
        checks.fail(
            "messages",
            format!("at most {MAX_MESSAGES} messages per request"),
        );
    }
    for (i, message) in messages.iter().enumerate() {
        if message.content.chars().count() > MAX_MESSAGE_CHARS {
            checks.fail(
                format!("messages[{i}].content"),
                format!("must be at most {MAX_MESSAGE_CHARS} characters"),
            );
        }
        for (j, call) in message.tool_calls.iter().flatten().enumerate() {
            if call.name.trim().is_empty() {
                checks.fail(
                    format!("messages[{i}].toolCalls[{j}].name"),
                    "must not be empty",
                );
            }
        }
        if let Some(usage) = message.usage {
            for (name, count) in [
                ("promptTokens", usage.prompt_tokens),
                ("completionTokens", usage.completion_tokens),
            ] {
                if count > MAX_MESSAGE_TOKENS {
                    checks.fail(
                        format!("messages[{i}].usage.{name}"),
                        format!("must be at most {MAX_MESSAGE_TOKENS}"),
                    );
                }
            }
        }
        if let Some(latency) = message.latency_ms {
            if !latency.is_finite() || latency < 0.0 {
                checks.fail(
                    format!("messages[{i}].latencyMs"),
                    "must be a non-negative number",
                );
            }
        }
    }
}

/// Where a new conversation's agent comes from.
#[derive(Debug, Clone)]
enum AgentRef {
    Id(String),
    Name(String),
}

fn validate_create(
    input: CreateConversation,
    source: ConversationSource,
) -> ApiResult<(AgentRef, NewConversation)> {
    let mut checks = Checks::default();
    let agent = match (&input.agent_id, &input.agent_name) {
        (Some(id), _) => Some(AgentRef::Id(id.clone())),
        (None, Some(name)) => Some(AgentRef::Name(checks.text("agentName", name, 200))),
        (None, None) => {
            checks.fail("agentId", "agentId or agentName is required");
            None
        }
    };
    let messages = match (input.messages, &input.content) {
        (Some(messages), _) if !messages.is_empty() => messages,
        (_, Some(content)) if !content.trim().is_empty() => parse_transcript(content)
            .unwrap_or_else(|| {
                checks.fail(
                    "content",
                    "must be a transcript of 'User: …' / 'Assistant: …' lines",
                );
                Vec::new()
            }),
        _ => {
            checks.fail("messages", "messages or content is required");
            Vec::new()
        }
    };
    check_messages(&mut checks, &messages);
    let new = NewConversation {
        agent_id: String::new(),
        status: input.status.unwrap_or(ConversationStatus::Completed),
        source,
        llm_model: checks.optional_text("llmModel", input.llm_model.as_deref(), 100),
        company_name: checks.optional_text("companyName", input.company_name.as_deref(), 200),
        title: checks.optional_text("title", input.title.as_deref(), 500),
        session_id: checks.optional_text("sessionId", input.session_id.as_deref(), 200),
        user_id: checks.optional_text("userId", input.user_id.as_deref(), 200),
        trace_id: checks.optional_text("traceId", input.trace_id.as_deref(), 200),
        parent_trace_id: checks.optional_text(
            "parentTraceId",
            input.parent_trace_id.as_deref(),
            200,
        ),
        metadata: input.metadata.unwrap_or_default(),
        tool_definitions: input.tool_definitions,
        idempotency_key: checks.optional_text(
            "idempotencyKey",
            input.idempotency_key.as_deref(),
            200,
        ),
        insights_status: InsightsStatus::Pending,
        messages,
    };
    checks.finish()?;
    // `checks.finish` fails whenever no agent reference was given.
    let agent = agent
        .ok_or_else(|| ApiError::invalid_field("agentId", "agentId or agentName is required"))?;
    Ok((agent, new))
}

/// The agent a new conversation belongs to; an unknown name registers the agent with the
/// conversation's system prompt (source `sdk`).
async fn resolve_agent(
    tx: &mut sqlx::AnyConnection,
    account: &AccountRecord,
    agent: AgentRef,
    new: &NewConversation,
    default_model: &str,
    now: i64,
) -> ApiResult<String> {
    match agent {
        AgentRef::Id(id) => Ok(agent_store::agent_in(tx, &account.id, &id).await?.id),
        AgentRef::Name(name) => {
            // Most conversations name a known agent: found without waiting for a lock.
            if let Some(agent) = agent_store::agent_by_name(tx, &account.id, &name).await? {
                return Ok(agent.id);
            }
            // Two first conversations of a new agent register it once.
            lock_named(tx, &format!("agent-name:{}:{name}", account.id)).await?;
            if let Some(agent) = agent_store::agent_by_name(tx, &account.id, &name).await? {
                return Ok(agent.id);
            }
            ensure_agent_quota(tx, account).await?;
            let system_prompt = new
                .messages
                .iter()
                .find(|m| m.role == Role::System)
                .map(|m| m.content.clone())
                .unwrap_or_default();
            let model = new
                .llm_model
                .clone()
                .unwrap_or_else(|| default_model.to_owned());
            let agent = NewAgent::from_prompt(name, system_prompt, model);
            Ok(
                agent_store::insert_agent(tx, &account.id, &agent, &VersionOrigin::sdk(), now)
                    .await?
                    .id,
            )
        }
    }
}

/// Logs a conversation. Answered only once it is committed; a repeated `idempotencyKey`
/// within 24 hours returns the first conversation. Under `/runs`, the SDK's name, the
/// conversation's source is `sdk`; under `/conversations`, `api`.
#[utoipa::path(post, path = "/conversations", tag = "conversations", request_body = CreateConversation,
    responses((status = 200, body = Data<Conversation>), (status = 400, body = converra_api::ErrorBody),
        (status = 403, body = converra_api::ErrorBody), (status = 404, body = converra_api::ErrorBody),
        (status = 413, body = converra_api::ErrorBody)))]
pub async fn create_conversation(
    State(state): State<AppState>,
    Caller(account): Caller,
    path: MatchedPath,
    ApiJson(input): ApiJson<CreateConversation>,
) -> ApiResult<Json<Data<Conversation>>> {
    let source = if path.as_str().ends_with("/runs") {
        ConversationSource::Sdk
    } else {
        ConversationSource::Api
    };
    let (agent, mut new) = validate_create(input, source)?;
    let settings = state.store.settings(&account.id).await?;
    if !settings.insights.auto_generate {
        new.insights_status = InsightsStatus::Skipped;
    }
    let now = state.clock.now_ms();
    let model = settings.general.preferred_llm.as_str();
    let attempt =
        |new, turn| insert_created(&state, &account, agent.clone(), new, model, now, turn);
    let created = match attempt(new.clone(), Turn::Shared).await? {
        Some(created) => created,
        None => attempt(new, Turn::Alone).await?.ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("a quota check alone asked to be redone"))
        })?,
    };
    if created.deliveries_queued {
        state.wake(Channel::Webhooks);
    }
    if created.insights_queued {
        state.wake(Channel::Insights);
    }
    Ok(Json(Data::new(created.conversation)))
}

/// How a create takes its account's turn at the quota check ([`shared_turn`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Turn {
    /// Shared while the account is far from its limit, on PostgreSQL.
    Shared,
    Alone,
}

/// A conversation committed, or found by its idempotency key.
struct Created {
    conversation: Conversation,
    deliveries_queued: bool,
    insights_queued: bool,
}

/// Inserts the conversation in one transaction and commits it. `None` when a shared quota
/// check found the account too near its limit: nothing was kept, and the create is to be
/// redone with [`Turn::Alone`].
async fn insert_created(
    state: &AppState,
    account: &AccountRecord,
    agent: AgentRef,
    mut new: NewConversation,
    default_model: &str,
    now: i64,
    turn: Turn,
) -> ApiResult<Option<Created>> {
    let mut tx = state.store.begin_write().await?;
    if let Some(key) = &new.idempotency_key {
        // A retry racing its first request waits for it, then finds what it created
        // (PostgreSQL; SQLite's one writer already orders them).
        lock_named(&mut tx, &format!("idempotency:{}:{key}", account.id)).await?;
        if let Some(existing) =
            conversation_store::find_idempotent(&mut tx, &account.id, key, now).await?
        {
            tx.commit().await?;
            return Ok(Some(Created {
                conversation: existing,
                deliveries_queued: false,
                insights_queued: false,
            }));
        }
    }
    new.agent_id = resolve_agent(&mut tx, account, agent, &new, default_model, now).await?;
    let (id, agent_count) =
        conversation_store::insert_conversation_row(&mut tx, &account.id, &new, None, now).await?;
    let insights_queued = new.insights_status == InsightsStatus::Pending;
    if insights_queued {
        queue_insights_of_new(&mut tx, &account.id, &id, now).await?;
    }
    let conversation = conversation_store::conversation_in(&mut tx, &account.id, &id).await?;
    let deliveries_queued = crate::store::webhooks::queue_event(
        &mut tx,
        &account.id,
        &ConversationCreated {
            conversation_id: conversation.id.clone(),
            agent_id: conversation.agent_id.clone(),
            agent_name: conversation.agent_name.clone(),
            status: conversation.status,
            message_count: conversation.message_count,
            created_at: conversation.created_at.clone(),
        },
        now,
    )
    .await?;
    // Last before the commit: the quota check, the usage row and the agent's counter row are
    // held until the commit, which on PostgreSQL waits for the disk; what comes before them
    // does not hold up the account's other creates. Over quota, the transaction is dropped
    // and nothing above is kept.
    match state.store.max_in_flight(&mut tx).await? {
        Some(in_flight) if turn == Turn::Shared => {
            let check = ensure_conversation_quota_shared(&mut tx, account, now, in_flight).await?;
            if check == SharedCheck::NeedsTurnAlone {
                return Ok(None);
            }
        }
        _ => ensure_conversation_quota(&mut tx, account, now).await?,
    }
    let delta = UsageDelta {
        conversations: 1,
        tokens: i64::try_from(conversation.total_tokens).unwrap_or(i64::MAX),
        ..UsageDelta::default()
    };
    let slot = Slot::of(state.store.backend(), &id);
    add_usage_in(&mut tx, &account.id, now, delta, slot).await?;
    agent_count.apply(&mut tx).await?;
    tx.commit().await?;
    Ok(Some(Created {
        conversation,
        deliveries_queued,
        insights_queued,
    }))
}

fn validate_append(input: AppendMessages) -> ApiResult<Appended> {
    let mut checks = Checks::default();
    if input.messages.is_empty() {
        checks.fail("messages", "must hold at least one message");
    }
    check_messages(&mut checks, &input.messages);
    if let Some(status) = input.status {
        if !matches!(
            status,
            ConversationStatus::Active | ConversationStatus::Completed
        ) {
            checks.fail("status", "must be active or completed");
        }
    }
    let appended = Appended {
        session_id: checks.optional_text("sessionId", input.session_id.as_deref(), 200),
        messages: input.messages,
        status: input.status,
        metadata: input.metadata,
        tool_definitions: input.tool_definitions,
    };
    checks.finish()?;
    Ok(appended)
}

/// Appends messages; `status: completed` closes the conversation (409 afterwards). A
/// conversation holds at most 5,000 messages and 5 MiB of content (413 past either).
#[utoipa::path(post, path = "/conversations/{id}/messages", tag = "conversations", params(("id" = String, Path)),
    request_body = AppendMessages,
    responses((status = 200, body = Data<Conversation>), (status = 404, body = converra_api::ErrorBody),
        (status = 409, body = converra_api::ErrorBody), (status = 413, body = converra_api::ErrorBody)))]
pub async fn append_messages(
    State(state): State<AppState>,
    Caller(account): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<AppendMessages>,
) -> ApiResult<Json<Data<Conversation>>> {
    let appended = validate_append(input)?;
    let auto_insights = state
        .store
        .settings(&account.id)
        .await?
        .insights
        .auto_generate;
    let now = state.clock.now_ms();
    let mut tx = state.store.begin_write().await?;
    // New messages make earlier insights stale; queued first so the answer shows `pending`.
    // A failed append rolls the queueing back with it.
    if auto_insights {
        conversation_store::conversation_in(&mut tx, &account.id, &id).await?;
        queue_insights(&mut tx, &account.id, &id, now).await?;
    }
    let (conversation, tokens) =
        conversation_store::append_messages(&mut tx, &account.id, &id, &appended, now).await?;
    if tokens > 0 {
        add_usage_in(
            &mut tx,
            &account.id,
            now,
            UsageDelta {
                tokens,
                ..UsageDelta::default()
            },
            Slot::of(state.store.backend(), &id),
        )
        .await?;
    }
    tx.commit().await?;
    if auto_insights {
        state.wake(Channel::Insights);
    }
    Ok(Json(Data::new(conversation)))
}

#[utoipa::path(get, path = "/conversations/{id}", tag = "conversations", params(("id" = String, Path)),
    responses((status = 200, body = Data<Conversation>), (status = 404, body = converra_api::ErrorBody)))]
pub async fn get_conversation(
    State(state): State<AppState>,
    Caller(account): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Data<Conversation>>> {
    Ok(Json(Data::new(
        state.store.conversation(&account.id, &id).await?,
    )))
}

/// Conversations without their transcripts, newest first, filtered and paged.
#[utoipa::path(get, path = "/conversations", tag = "conversations", params(ConversationFilter, Paging),
    responses((status = 200, body = List<Conversation>), (status = 400, body = converra_api::ErrorBody)))]
pub async fn list_conversations(
    State(state): State<AppState>,
    Caller(account): Caller,
    ApiQuery(filter): ApiQuery<ConversationFilter>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Json<List<Conversation>>> {
    let page = PageRequest::from_query(&paging, Paging::DEFAULT_LIMIT)?;
    let (data, pagination) = state
        .store
        .list_conversations(&account.id, &filter, &page)
        .await?;
    Ok(Json(List { data, pagination }))
}
