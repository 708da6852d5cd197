//! `GET /conversations`, `GET /conversations/:id`, its insights and their regeneration, and
//! the agent list the conversation filters offer.

use converra_api::agents::Agent;
use converra_api::conversations::{Conversation, InsightsStatus};
use converra_api::{Data, List};
use serde::Deserialize;
use serde_json::Value;

use super::{ApiClient, ClientError};
use crate::components::query::{build_query, encode_component, ConversationQuery};

/// One page of conversations (without transcripts) for a view of the list.
pub async fn list_conversations(
    client: &ApiClient,
    query: &ConversationQuery,
    limit: u32,
) -> Result<List<Conversation>, ClientError> {
    client
        .get(&format!("/conversations{}", query.to_api_query(limit)))
        .await
}

/// One conversation with its messages.
pub async fn get_conversation(client: &ApiClient, id: &str) -> Result<Conversation, ClientError> {
    client
        .get::<Data<Conversation>>(&format!("/conversations/{}", encode_component(id)))
        .await
        .map(|d| d.data)
}

/// Every agent's id and name, for the agent filter: pages of 100 by cursor, at most 1,000.
pub async fn list_agent_choices(client: &ApiClient) -> Result<Vec<Agent>, ClientError> {
    let mut agents = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let mut pairs = vec![("limit", "100".to_owned())];
        if let Some(cursor) = cursor.take() {
            pairs.push(("cursor", cursor));
        }
        let page: List<Agent> = client
            .get(&format!("/agents{}", build_query(pairs)))
            .await?;
        agents.extend(page.data);
        match page.pagination.next_cursor {
            Some(next) if page.pagination.has_more => cursor = Some(next),
            _ => break,
        }
    }
    Ok(agents)
}

/// A conversation's insights: ready (the whole analysis, read generically for now), or the
/// reason they are not.
#[derive(Debug, Clone, PartialEq)]
pub enum ConversationInsights {
    Ready(Value),
    NotReady(InsightsNotReady),
}

/// `GET /conversations/:id/insights` while the insights are not there.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InsightsNotReady {
    pub conversation_id: String,
    /// `pending`, `skipped` or `failed`.
    pub status: InsightsStatus,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub retry_count: Option<u32>,
    #[serde(default)]
    pub next_retry_at: Option<String>,
}

impl ConversationInsights {
    /// Tells the two shapes apart: a not-ready answer has a `status` other than `ready` and
    /// no `metrics`.
    pub fn from_value(data: Value) -> Self {
        let not_ready = data.get("metrics").is_none()
            && data
                .get("status")
                .and_then(Value::as_str)
                .is_some_and(|s| s != "ready");
        if not_ready {
            if let Ok(parsed) = serde_json::from_value::<InsightsNotReady>(data.clone()) {
                return ConversationInsights::NotReady(parsed);
            }
        }
        ConversationInsights::Ready(data)
    }
}

pub async fn get_insights(
    client: &ApiClient,
    conversation_id: &str,
) -> Result<ConversationInsights, ClientError> {
    client
        .get::<Data<Value>>(&format!(
            "/conversations/{}/insights",
            encode_component(conversation_id)
        ))
        .await
        .map(|d| ConversationInsights::from_value(d.data))
}

/// `POST /conversations/:id/insights/regenerate` → `{conversationId, status: "queued"}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegenerateQueued {
    pub conversation_id: String,
    pub status: String,
}

pub async fn regenerate_insights(
    client: &ApiClient,
    conversation_id: &str,
) -> Result<RegenerateQueued, ClientError> {
    client
        .post::<Value>(
            &format!(
                "/conversations/{}/insights/regenerate",
                encode_component(conversation_id)
            ),
            &serde_json::json!({}),
        )
        .await
        .and_then(|body| {
            // The spec shows the bare object; accept it inside `data` as well.
            let inner = body.get("data").cloned().unwrap_or(body);
            serde_json::from_value(inner).map_err(|err| ClientError {
                status: 202,
                code: converra_api::ErrorCode::InternalError,
                message: format!("The API answered in an unexpected shape: {err}"),
                retry_after: None,
            })
        })
}

/// Every page of a view, 100 rows a request, up to `max_rows`; `progress` hears the row
/// count after each page. Time orders walk by cursor, quality orders by offset.
pub async fn list_all_conversations(
    client: &ApiClient,
    query: &ConversationQuery,
    max_rows: usize,
    progress: impl Fn(usize, u64),
) -> Result<Vec<Conversation>, ClientError> {
    const PAGE: u32 = converra_api::Paging::MAX_LIMIT;
    let mut page_query = query.first_page();
    let mut rows: Vec<Conversation> = Vec::new();
    while rows.len() < max_rows {
        let page = list_conversations(client, &page_query, PAGE).await?;
        let fetched = page.data.len();
        rows.extend(page.data);
        progress(rows.len().min(max_rows), page.pagination.total);
        if !page.pagination.has_more || fetched == 0 {
            break;
        }
        match page.pagination.next_cursor {
            Some(cursor) if crate::components::query::sort_pages_by_cursor(query.sort) => {
                page_query.cursor = Some(cursor);
            }
            _ => {
                page_query.cursor = None;
                page_query.offset =
                    Some(page_query.offset.unwrap_or(0) + u64::try_from(fetched).unwrap_or(0));
            }
        }
    }
    rows.truncate(max_rows);
    Ok(rows)
}
