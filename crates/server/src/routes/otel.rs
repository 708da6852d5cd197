//! OpenTelemetry ingest over OTLP/HTTP: `POST /otel/v1/traces` and `/otel/v1/logs`, so an
//! exporter pointed at `<base>/api/v1/otel` logs its agent's conversations. One export is one
//! request and one transaction: it is taken whole or not at all.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use converra_api::agents::normalize_prompt;
use converra_api::conversations::{
    Conversation, ConversationSource, ConversationStatus, InsightsStatus, Message,
};
use converra_api::webhooks::ConversationCreated;
use converra_api::ErrorCode;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::limits::{ensure_agent_quota, ensure_conversation_quota};
use crate::otel::decode::{decode, encode, inflate, DecodeError, Encoding};
use crate::otel::merge::{apply_figures, merge_turn, propagate_within_traces};
use crate::otel::{logs, spans, GroupKey, Turn};
use crate::state::AppState;
use crate::store::accounts::AccountRecord;
use crate::store::agents::{self as agent_store, AgentChange, NewAgent, VersionOrigin};
use crate::store::conversations::{self as conversation_store, NewConversation};
use crate::store::insights::queue_insights;
use crate::store::notify::Channel;
use crate::store::otel as otel_store;
use crate::store::sql::lock_named;
use crate::store::usage::{add_usage, UsageDelta};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/otel/v1/traces", post(export_traces))
        .route("/otel/v1/logs", post(export_logs))
}

/// The agent named when no span names one and the resource has no `service.name`.
const UNNAMED_AGENT: &str = "unknown_service";
/// The most refusal reasons one answer lists; the count covers them all.
const MAX_REASONS: usize = 5;

/// The body's encoding and its bytes, inflated when gzip.
fn read_body(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    limit: usize,
) -> ApiResult<(Encoding, Vec<u8>)> {
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let encoding = Encoding::from_content_type(content_type).ok_or_else(|| {
        ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "Expected Content-Type: application/x-protobuf or application/json (OTLP/HTTP)",
        )
    })?;
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("The export is larger than the {limit} bytes the server accepts"),
            )
        } else {
            ApiError::new(ErrorCode::ValidationError, "The export could not be read")
        }
    })?;
    let content_encoding = headers.get(CONTENT_ENCODING).and_then(|v| v.to_str().ok());
    let raw = inflate(&body, content_encoding, limit).map_err(decode_error)?;
    Ok((encoding, raw))
}

fn decode_error(error: DecodeError) -> ApiError {
    let code = match error {
        DecodeError::UnsupportedEncoding(_) => ErrorCode::UnsupportedMediaType,
        DecodeError::TooLarge(_) => ErrorCode::PayloadTooLarge,
        DecodeError::BadJson(_) => ErrorCode::InvalidJson,
        DecodeError::BadGzip(_) | DecodeError::BadProtobuf(_) | DecodeError::NotAnExport(_) => {
            ErrorCode::ValidationError
        }
    };
    ApiError::new(code, error.to_string())
}

fn otlp_response<T>(message: &T, encoding: Encoding) -> Response
where
    T: prost::Message + serde::Serialize,
{
    (
        [(
            CONTENT_TYPE,
            HeaderValue::from_static(encoding.content_type()),
        )],
        encode(message, encoding),
    )
        .into_response()
}

/// The reasons spans or records were refused, as one message.
fn refusal_message(reasons: &[String]) -> String {
    let mut message = reasons
        .iter()
        .take(MAX_REASONS)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if reasons.len() > MAX_REASONS {
        message.push_str(&format!("; and {} more", reasons.len() - MAX_REASONS));
    }
    message
}

/// Takes an OTLP trace export: spans in the GenAI conventions, OpenLLMetry or
/// OpenInference become conversations; spans without GenAI content are refused in
/// `partialSuccess` with their reason.
#[utoipa::path(post, path = "/otel/v1/traces", tag = "opentelemetry",
    request_body(description = "ExportTraceServiceRequest, protobuf or JSON (OTLP/HTTP), gzip or not",
        content(([u8] = "application/x-protobuf"), ("application/json"))),
    responses((status = 200, description = "ExportTraceServiceResponse, in the request's encoding"),
        (status = 400, body = converra_api::ErrorBody), (status = 401, body = converra_api::ErrorBody),
        (status = 403, body = converra_api::ErrorBody), (status = 413, body = converra_api::ErrorBody),
        (status = 415, body = converra_api::ErrorBody), (status = 429, body = converra_api::ErrorBody)))]
pub async fn export_traces(
    State(state): State<AppState>,
    Caller(account): Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let (encoding, raw) = read_body(&headers, body, state.config.body_limit)?;
    let request: ExportTraceServiceRequest = decode(&raw, encoding).map_err(decode_error)?;
    let keys = spans::span_keys(&request);
    let mut tx = state.store.begin_write().await?;
    take_ingest_turn(&mut tx, &account).await?;
    let seen = otel_store::seen_items(&mut tx, &account.id, &keys).await?;
    let reading = spans::read_traces(&request, &seen);
    let woken = ingest(&state, &mut tx, &account, reading.turns).await?;
    tx.commit().await?;
    woken.wake(&state);
    let partial_success = (!reading.rejected.is_empty()).then(|| ExportTracePartialSuccess {
        rejected_spans: i64::try_from(reading.rejected.len()).unwrap_or(i64::MAX),
        error_message: refusal_message(&reading.rejected),
    });
    Ok(otlp_response(
        &ExportTraceServiceResponse { partial_success },
        encoding,
    ))
}

/// An account's exports take turns (PostgreSQL; SQLite's one writer already orders them):
/// what an export adds depends on the spans and conversations earlier ones stored, so a
/// retried copy racing its original must see what the original wrote.
async fn take_ingest_turn(tx: &mut sqlx::AnyConnection, account: &AccountRecord) -> ApiResult<()> {
    lock_named(tx, &format!("otel-ingest:{}", account.id)).await?;
    Ok(())
}

/// Takes an OTLP log export whose records carry message content as events
/// (`gen_ai.user.message`, `gen_ai.choice`, …); other records are refused with their reason.
#[utoipa::path(post, path = "/otel/v1/logs", tag = "opentelemetry",
    request_body(description = "ExportLogsServiceRequest, protobuf or JSON (OTLP/HTTP), gzip or not",
        content(([u8] = "application/x-protobuf"), ("application/json"))),
    responses((status = 200, description = "ExportLogsServiceResponse, in the request's encoding"),
        (status = 400, body = converra_api::ErrorBody), (status = 401, body = converra_api::ErrorBody),
        (status = 403, body = converra_api::ErrorBody), (status = 413, body = converra_api::ErrorBody),
        (status = 415, body = converra_api::ErrorBody), (status = 429, body = converra_api::ErrorBody)))]
pub async fn export_logs(
    State(state): State<AppState>,
    Caller(account): Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let (encoding, raw) = read_body(&headers, body, state.config.body_limit)?;
    let request: ExportLogsServiceRequest = decode(&raw, encoding).map_err(decode_error)?;
    let keys = logs::record_keys(&request);
    let mut tx = state.store.begin_write().await?;
    take_ingest_turn(&mut tx, &account).await?;
    let seen = otel_store::seen_items(&mut tx, &account.id, &keys).await?;
    let reading = logs::read_logs(&request, &seen);
    let woken = ingest(&state, &mut tx, &account, reading.turns).await?;
    tx.commit().await?;
    woken.wake(&state);
    let partial_success = (!reading.rejected.is_empty()).then(|| ExportLogsPartialSuccess {
        rejected_log_records: i64::try_from(reading.rejected.len()).unwrap_or(i64::MAX),
        error_message: refusal_message(&reading.rejected),
    });
    Ok(otlp_response(
        &ExportLogsServiceResponse { partial_success },
        encoding,
    ))
}

/// What to wake once the export is committed.
#[derive(Default)]
struct Woken {
    jobs: bool,
    webhooks: bool,
}

impl Woken {
    fn wake(&self, state: &AppState) {
        if self.webhooks {
            state.wake(Channel::Webhooks);
        }
        if self.jobs {
            state.wake(Channel::Insights);
        }
    }
}

/// Turns grouped by the conversation they belong to, in the order each group first appears.
fn group_turns(mut turns: Vec<Turn>) -> Vec<(GroupKey, Vec<Turn>)> {
    propagate_within_traces(&mut turns);
    turns.sort_by_key(|t| (t.start_ns, t.end_ns));
    let mut groups: Vec<(GroupKey, Vec<Turn>)> = Vec::new();
    let mut index: HashMap<GroupKey, usize> = HashMap::new();
    for turn in turns {
        let key = turn
            .own_group()
            .unwrap_or_else(|| GroupKey::Trace(turn.trace_id.clone()));
        match index.get(&key) {
            Some(&i) => groups[i].1.push(turn),
            None => {
                index.insert(key.clone(), groups.len());
                groups.push((key, vec![turn]));
            }
        }
    }
    groups
}

/// What every conversation of one export is written with.
struct Export<'a> {
    account: &'a AccountRecord,
    auto_insights: bool,
    preferred_llm: String,
    now: i64,
    woken: Woken,
}

/// Merges the export's turns into conversations inside the caller's transaction.
async fn ingest(
    state: &AppState,
    tx: &mut sqlx::AnyConnection,
    account: &AccountRecord,
    turns: Vec<Turn>,
) -> ApiResult<Woken> {
    if turns.is_empty() {
        return Ok(Woken::default());
    }
    let settings = state.store.settings(&account.id).await?;
    let mut export = Export {
        account,
        auto_insights: settings.insights.auto_generate,
        preferred_llm: settings.general.preferred_llm,
        now: state.clock.now_ms(),
        woken: Woken::default(),
    };
    for (key, turns) in group_turns(turns) {
        let current = match existing_conversation(tx, account, &key, &turns).await? {
            Some(id) => Some(conversation_store::conversation_in(tx, &account.id, &id).await?),
            None => None,
        };
        let mut messages = current
            .as_ref()
            .and_then(|c| c.messages.clone())
            .unwrap_or_default();
        let mut waiting = Vec::with_capacity(turns.len());
        for turn in &turns {
            let placed = merge_turn(&mut messages, turn);
            // Log events bring a span's content; its numbers may have come first.
            if !turn.output.is_empty() && turn.figures.is_empty() {
                if let Some(figures) =
                    otel_store::take_pending_figures(tx, &account.id, &turn.trace_id, &turn.span_id)
                        .await?
                {
                    apply_figures(&mut messages, &turn.span_id, &figures);
                }
            }
            waiting.push(!placed);
        }
        let conversation_id = match current {
            Some(current) => {
                extend_conversation(tx, &mut export, &current, &messages, &turns).await?;
                Some(current.id)
            }
            // Only numbers so far: nothing to show until their messages come.
            None if messages.is_empty() => None,
            None => Some(start_conversation(tx, &mut export, &key, messages, &turns).await?),
        };
        for (turn, waiting) in turns.iter().zip(waiting) {
            otel_store::record_items(
                tx,
                &account.id,
                &turn.item_keys,
                &turn.trace_id,
                conversation_id.as_deref(),
                waiting.then_some(&turn.figures),
                export.now,
            )
            .await?;
        }
    }
    Ok(export.woken)
}

/// The conversation a group's turns continue: the one under its key, else the one its trace
/// already went to.
async fn existing_conversation(
    tx: &mut sqlx::AnyConnection,
    account: &AccountRecord,
    key: &GroupKey,
    turns: &[Turn],
) -> ApiResult<Option<String>> {
    if let Some(id) = otel_store::conversation_by_key(tx, &account.id, &key.stored()).await? {
        return Ok(Some(id));
    }
    Ok(match key {
        GroupKey::Trace(trace) => otel_store::trace_conversation(tx, &account.id, trace).await?,
        // Log events that came before any span naming the conversation started one under
        // their trace: that one takes the conversation's key.
        GroupKey::Conversation(id) => {
            let trace = turns.first().map(|t| t.trace_id.as_str()).unwrap_or("");
            otel_store::adopt_trace_conversation(tx, &account.id, trace, id).await?
        }
    })
}

fn latest_model(turns: &[Turn]) -> Option<String> {
    turns.iter().rev().find_map(|t| t.figures.model.clone())
}

fn system_prompt(turns: &[Turn]) -> Option<String> {
    turns.iter().find_map(|t| t.system_prompt.clone())
}

/// Writes the grown transcript of a conversation already started.
async fn extend_conversation(
    tx: &mut sqlx::AnyConnection,
    export: &mut Export<'_>,
    current: &Conversation,
    messages: &[Message],
    turns: &[Turn],
) -> ApiResult<()> {
    let account = export.account;
    let tokens = conversation_store::rewrite_transcript(
        tx,
        &account.id,
        &current.id,
        messages,
        latest_model(turns).as_deref(),
        export.now,
    )
    .await?;
    if let Some(prompt) = system_prompt(turns) {
        follow_prompt(tx, account, &current.agent_id, &prompt, export.now).await?;
    }
    let delta = UsageDelta {
        tokens,
        ..UsageDelta::default()
    };
    add_usage(tx, &account.id, export.now, delta).await?;
    if export.auto_insights {
        queue_insights(tx, &account.id, &current.id, export.now).await?;
        export.woken.jobs = true;
    }
    Ok(())
}

/// Starts a conversation from a group's first turns, registering its agent when new; counts
/// it, queues its insights and its `conversation.created` event. Returns its id.
async fn start_conversation(
    tx: &mut sqlx::AnyConnection,
    export: &mut Export<'_>,
    key: &GroupKey,
    messages: Vec<Message>,
    turns: &[Turn],
) -> ApiResult<String> {
    let account = export.account;
    let now = export.now;
    let agent_name = turns
        .iter()
        .find_map(|t| t.agent_name.clone())
        .or_else(|| turns.iter().find_map(|t| t.service_name.clone()))
        .unwrap_or_else(|| UNNAMED_AGENT.to_owned());
    let model = latest_model(turns);
    let agent_id = resolve_agent(
        tx,
        account,
        agent_name,
        system_prompt(turns).as_deref(),
        model
            .clone()
            .unwrap_or_else(|| export.preferred_llm.clone()),
        now,
    )
    .await?;
    ensure_conversation_quota(tx, account, now).await?;
    let new = NewConversation {
        agent_id,
        messages,
        status: ConversationStatus::Active,
        source: ConversationSource::Otel,
        llm_model: model,
        company_name: None,
        title: None,
        session_id: turns.iter().find_map(|t| t.conversation_id.clone()),
        user_id: None,
        trace_id: turns.first().map(|t| t.trace_id.clone()),
        parent_trace_id: None,
        metadata: serde_json::Map::new(),
        tool_definitions: None,
        idempotency_key: None,
        insights_status: if export.auto_insights {
            InsightsStatus::Pending
        } else {
            InsightsStatus::Skipped
        },
    };
    let (id, count) = conversation_store::insert_conversation_row(
        tx,
        &account.id,
        &new,
        Some(&key.stored()),
        now,
    )
    .await?;
    count.apply(tx).await?;
    let conversation = conversation_store::conversation_in(tx, &account.id, &id).await?;
    if export.auto_insights {
        queue_insights(tx, &account.id, &id, now).await?;
        export.woken.jobs = true;
    }
    let delta = UsageDelta {
        conversations: 1,
        tokens: i64::try_from(conversation.total_tokens).unwrap_or(i64::MAX),
        ..UsageDelta::default()
    };
    add_usage(tx, &account.id, now, delta).await?;
    export.woken.webhooks |= crate::store::webhooks::queue_event(
        tx,
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
    Ok(id)
}

/// The agent called `name`; an unknown name registers it (its content the system prompt
/// seen, if any), as `agentName` does for `POST /conversations`.
async fn resolve_agent(
    tx: &mut sqlx::AnyConnection,
    account: &AccountRecord,
    name: String,
    system_prompt: Option<&str>,
    model: String,
    now: i64,
) -> ApiResult<String> {
    if let Some(agent) = agent_store::agent_by_name(tx, &account.id, &name).await? {
        if let Some(prompt) = system_prompt {
            follow_prompt(tx, account, &agent.id, prompt, now).await?;
        }
        return Ok(agent.id);
    }
    ensure_agent_quota(tx, account).await?;
    let agent = NewAgent::from_prompt(name, system_prompt.unwrap_or_default().to_owned(), model);
    Ok(
        agent_store::insert_agent(tx, &account.id, &agent, &VersionOrigin::otel(), now)
            .await?
            .id,
    )
}

/// A system prompt that differs from the agent's content (beyond whitespace) becomes its
/// new version, with source `otel`.
async fn follow_prompt(
    tx: &mut sqlx::AnyConnection,
    account: &AccountRecord,
    agent_id: &str,
    prompt: &str,
    now: i64,
) -> ApiResult<()> {
    let agent = agent_store::agent_in(tx, &account.id, agent_id).await?;
    if normalize_prompt(&agent.content) == normalize_prompt(prompt) {
        return Ok(());
    }
    let change = AgentChange {
        content: Some(prompt.to_owned()),
        ..AgentChange::default()
    };
    agent_store::update_agent(
        tx,
        &account.id,
        agent_id,
        &change,
        &VersionOrigin::otel(),
        now,
    )
    .await?;
    Ok(())
}
