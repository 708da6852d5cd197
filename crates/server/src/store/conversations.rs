//! Conversations: insert, append, read, and the filtered, paged, searchable list.

use std::collections::HashMap;

use converra_api::conversations::{
    Conversation, ConversationFilter, ConversationLinks, ConversationSort, ConversationSource,
    ConversationStatus, InsightsStatus, Message, ToolDefinition,
};
use converra_api::Pagination;
use serde_json::{Map, Value};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::sql::{flag, read_flag};
use super::{Backend, SqlBuilder};

use super::agents::add_activity;
use super::paging::{PageRequest, Start};
use super::slots::Slot;
use super::Store;
use super::{StoreError, StoreResult};
use crate::clock::{parse_rfc3339, rfc3339};
use crate::ids::new_id;
use crate::search_snippet::folded_words;
use crate::search_snippet::snippet;
use crate::transcript::{fts_query, render_transcript, searchable_text, tsquery};

/// Conversations are forgotten by their idempotency key after this long.
pub const IDEMPOTENCY_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// The most messages one conversation holds. Every append rewrites and re-indexes the whole
/// transcript, so an unbounded one would make each write slower than the last.
pub const MAX_CONVERSATION_MESSAGES: usize = 5_000;

/// The most message content, in bytes of UTF-8, one conversation holds (5 MiB), for the
/// same reason.
pub const MAX_CONVERSATION_CONTENT_BYTES: usize = 5 * 1024 * 1024;

/// 413 unless `messages`, the whole transcript after the write, fits the limits above.
/// Called inside the write transaction, so concurrent appends cannot pass it together.
fn ensure_fits(messages: &[Message]) -> StoreResult<()> {
    if messages.len() > MAX_CONVERSATION_MESSAGES {
        return Err(StoreError::TooLarge(format!(
            "A conversation holds at most {MAX_CONVERSATION_MESSAGES} messages; this one would hold {}",
            messages.len()
        )));
    }
    let bytes: usize = messages.iter().map(|m| m.content.len()).sum();
    if bytes > MAX_CONVERSATION_CONTENT_BYTES {
        return Err(StoreError::TooLarge(format!(
            "A conversation holds at most 5 MiB ({MAX_CONVERSATION_CONTENT_BYTES} bytes) of message content; this one would hold {bytes} bytes"
        )));
    }
    Ok(())
}

/// A validated conversation to insert.
#[derive(Debug, Clone)]
pub struct NewConversation {
    pub agent_id: String,
    pub messages: Vec<Message>,
    pub status: ConversationStatus,
    pub source: ConversationSource,
    pub llm_model: Option<String>,
    pub company_name: Option<String>,
    pub title: Option<String>,
    pub session_id: Option<String>,
    pub user_id: Option<String>,
    pub trace_id: Option<String>,
    pub parent_trace_id: Option<String>,
    pub metadata: Map<String, Value>,
    pub tool_definitions: Option<Vec<ToolDefinition>>,
    pub idempotency_key: Option<String>,
    pub insights_status: InsightsStatus,
}

/// A validated append.
#[derive(Debug, Clone)]
pub struct Appended {
    pub messages: Vec<Message>,
    pub status: Option<ConversationStatus>,
    pub session_id: Option<String>,
    pub metadata: Option<Map<String, Value>>,
    pub tool_definitions: Option<Vec<ToolDefinition>>,
}

/// What the messages add up to, stored beside them so lists never parse transcripts.
pub struct MessageTotals {
    pub tokens: i64,
    pub has_failed_steps: bool,
}

pub fn totals(messages: &[Message]) -> MessageTotals {
    MessageTotals {
        // Saturating: stored counts are validated, but a sum that wrapped would turn negative
        // and make every list holding the conversation fail to read it.
        tokens: messages
            .iter()
            .filter_map(|m| m.usage)
            .map(|u| i64::try_from(u.prompt_tokens.saturating_add(u.completion_tokens)))
            .fold(0i64, |sum, tokens| {
                sum.saturating_add(tokens.unwrap_or(i64::MAX))
            }),
        has_failed_steps: messages
            .iter()
            .flat_map(|m| m.tool_calls.iter().flatten())
            .any(|call| call.error.is_some()),
    }
}

/// The columns a list shows: all but the transcript.
const SUMMARY_COLUMNS: &str = "c.id, c.agent_id, a.name AS agent_name, c.status, c.source, c.llm_model, c.company_name, \
    c.title, c.session_id, c.user_id, c.trace_id, c.parent_trace_id, c.metadata, c.message_count, c.total_tokens, \
    c.has_failed_steps, c.insights_status, c.quality_score, c.created_at, c.updated_at";

fn conversation_from_row(row: &AnyRow, with_transcript: bool) -> anyhow::Result<Conversation> {
    let status: String = row.try_get("status")?;
    let source: String = row.try_get("source")?;
    let insights_status: String = row.try_get("insights_status")?;
    let insights_status: InsightsStatus = insights_status.parse().map_err(anyhow::Error::msg)?;
    let metadata: String = row.try_get("metadata")?;
    let id: String = row.try_get("id")?;
    let (messages, tool_definitions, links) = if with_transcript {
        let messages: Vec<Message> = serde_json::from_str(&row.try_get::<String, _>("messages")?)?;
        let tool_definitions = row
            .try_get::<Option<String>, _>("tool_definitions")?
            .map(|t| serde_json::from_str(&t))
            .transpose()?;
        let links = ConversationLinks {
            append_messages: format!("{}/conversations/{id}/messages", converra_api::BASE_PATH),
        };
        (Some(messages), tool_definitions, Some(links))
    } else {
        (None, None, None)
    };
    Ok(Conversation {
        content: messages.as_deref().map(render_transcript),
        messages,
        tool_definitions,
        links,
        agent_id: row.try_get("agent_id")?,
        agent_name: row.try_get("agent_name")?,
        message_count: u32::try_from(row.try_get::<i64, _>("message_count")?)?,
        status: status.parse().map_err(anyhow::Error::msg)?,
        source: source.parse().map_err(anyhow::Error::msg)?,
        llm_model: row.try_get("llm_model")?,
        company_name: row.try_get("company_name")?,
        title: row.try_get("title")?,
        session_id: row.try_get("session_id")?,
        user_id: row.try_get("user_id")?,
        trace_id: row.try_get("trace_id")?,
        parent_trace_id: row.try_get("parent_trace_id")?,
        metadata: serde_json::from_str(&metadata)?,
        has_insights: insights_status == InsightsStatus::Ready,
        insights_status,
        quality_score: row.try_get("quality_score")?,
        total_tokens: u64::try_from(row.try_get::<i64, _>("total_tokens")?)?,
        has_failed_steps: read_flag(row, "has_failed_steps")?,
        created_at: rfc3339(row.try_get("created_at")?),
        updated_at: rfc3339(row.try_get("updated_at")?),
        snippet: None,
        id,
    })
}

/// One whole conversation of the account. In a write transaction on PostgreSQL it also
/// locks the row until the transaction ends, so concurrent appends and insights queue
/// behind each other instead of overwriting each other's transcript (SQLite's writer
/// already serializes them).
pub async fn conversation_in(
    conn: &mut AnyConnection,
    account_id: &str,
    id: &str,
) -> StoreResult<Conversation> {
    let lock = match Backend::of(conn) {
        Backend::Postgres => " FOR UPDATE OF c",
        Backend::Sqlite => "",
    };
    read_conversation(conn, account_id, id, lock).await
}

async fn read_conversation(
    conn: &mut AnyConnection,
    account_id: &str,
    id: &str,
    lock: &str,
) -> StoreResult<Conversation> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT c.*, a.name AS agent_name FROM conversations c JOIN agents a ON a.account_id = c.account_id AND a.id = c.agent_id \
         WHERE c.id = $1 AND c.account_id = $2{lock}"
    )))
    .bind(id)
    .bind(account_id)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(row) => Ok(conversation_from_row(&row, true)?),
        None => Err(StoreError::not_found("Conversation", id)),
    }
}

/// The conversation created under this idempotency key in the last 24 hours. An older use
/// of the key is released so the key can start a new conversation.
pub async fn find_idempotent(
    conn: &mut AnyConnection,
    account_id: &str,
    key: &str,
    now_ms: i64,
) -> StoreResult<Option<Conversation>> {
    let row = sqlx::query(
        "SELECT id, created_at FROM conversations WHERE account_id = $1 AND idempotency_key = $2",
    )
    .bind(account_id)
    .bind(key)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let id: String = row.try_get("id")?;
    let created_at: i64 = row.try_get("created_at")?;
    if now_ms - created_at < IDEMPOTENCY_WINDOW_MS {
        return conversation_in(conn, account_id, &id).await.map(Some);
    }
    sqlx::query(
        "UPDATE conversations SET idempotency_key = NULL WHERE account_id = $1 AND id = $2",
    )
    .bind(account_id)
    .bind(&id)
    .execute(&mut *conn)
    .await?;
    Ok(None)
}

/// Inserts a conversation, its search text, and the agent's counters, inside the caller's
/// transaction; 413 when the transcript is over its limits.
pub async fn insert_conversation(
    conn: &mut AnyConnection,
    account_id: &str,
    new: &NewConversation,
    now_ms: i64,
) -> StoreResult<Conversation> {
    let (id, count) = insert_conversation_row(conn, account_id, new, None, now_ms).await?;
    count.apply(conn).await?;
    conversation_in(conn, account_id, &id).await
}

/// One more conversation for an agent's counters, to apply in the transaction that
/// inserted it. Applied last, just before the commit, it holds its counter row (which other
/// creates counting in the same slot update) for the shortest time.
#[must_use = "the agent's counters must count the conversation in the same transaction"]
pub struct AgentCount {
    account_id: String,
    agent_id: String,
    slot: Slot,
    at_ms: i64,
}

impl AgentCount {
    pub async fn apply(self, conn: &mut AnyConnection) -> sqlx::Result<()> {
        add_activity(
            conn,
            &self.account_id,
            &self.agent_id,
            self.slot,
            1,
            self.at_ms,
        )
        .await
    }
}

/// Inserts a conversation and its search text and returns its id, with the count its
/// agent's counters are still to take; `otel_key` ties it to the spans that build it.
pub async fn insert_conversation_row(
    conn: &mut AnyConnection,
    account_id: &str,
    new: &NewConversation,
    otel_key: Option<&str>,
    now_ms: i64,
) -> StoreResult<(String, AgentCount)> {
    ensure_fits(&new.messages)?;
    let id = new_id("conv");
    let sums = totals(&new.messages);
    let variant_id = new.metadata.get("variantId").and_then(Value::as_str);
    let optimization_id = new.metadata.get("optimizationId").and_then(Value::as_str);
    sqlx::query(
        "INSERT INTO conversations (id, account_id, agent_id, status, llm_model, company_name, title, session_id, \
         user_id, trace_id, parent_trace_id, metadata, tool_definitions, messages, message_count, total_tokens, \
         has_failed_steps, insights_status, variant_id, optimization_id, idempotency_key, source, otel_key, \
         created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $24)",
    )
    .bind(&id)
    .bind(account_id)
    .bind(&new.agent_id)
    .bind(new.status.as_str())
    .bind(&new.llm_model)
    .bind(&new.company_name)
    .bind(&new.title)
    .bind(&new.session_id)
    .bind(&new.user_id)
    .bind(&new.trace_id)
    .bind(&new.parent_trace_id)
    .bind(json(&new.metadata)?)
    .bind(new.tool_definitions.as_ref().map(json).transpose()?)
    .bind(json(&new.messages)?)
    .bind(i64::try_from(new.messages.len()).unwrap_or(i64::MAX))
    .bind(sums.tokens)
    .bind(flag(sums.has_failed_steps))
    .bind(new.insights_status.as_str())
    .bind(variant_id)
    .bind(optimization_id)
    .bind(&new.idempotency_key)
    .bind(new.source.as_str())
    .bind(otel_key)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    index_text(
        conn,
        account_id,
        &id,
        &searchable_text(new.title.as_deref(), &new.messages),
        false,
    )
    .await?;
    let count = AgentCount {
        account_id: account_id.to_owned(),
        agent_id: new.agent_id.clone(),
        slot: Slot::of(Backend::of(conn), &id),
        at_ms: now_ms,
    };
    Ok((id, count))
}

/// A wire value as the text of a JSON column.
fn json<T: serde::Serialize>(value: &T) -> anyhow::Result<String> {
    Ok(serde_json::to_string(value)?)
}

/// Gives the search index a conversation's text (replacing what it had when `replace`).
async fn index_text(
    conn: &mut AnyConnection,
    account_id: &str,
    id: &str,
    text: &str,
    replace: bool,
) -> sqlx::Result<()> {
    if Backend::of(conn) == Backend::Postgres {
        sqlx::query(
            "INSERT INTO conversation_search (account_id, conversation_id, body) \
             VALUES ($1, $2, to_tsvector('simple', $3)) \
             ON CONFLICT (account_id, conversation_id) DO UPDATE SET body = excluded.body",
        )
        .bind(account_id)
        .bind(id)
        .bind(folded_words(text))
        .execute(&mut *conn)
        .await?;
        return Ok(());
    }
    if replace {
        sqlx::query("DELETE FROM conversations_fts WHERE rowid = (SELECT rowid FROM conversations WHERE id = $1)")
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("INSERT INTO conversations_fts (rowid, body) SELECT rowid, $2 FROM conversations WHERE id = $1")
        .bind(id)
        .bind(text)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Appends messages inside the caller's transaction; 409 once the conversation is completed,
/// 413 when the transcript would outgrow its limits.
/// Returns the conversation after the append and the tokens the new messages carry.
pub async fn append_messages(
    conn: &mut AnyConnection,
    account_id: &str,
    id: &str,
    appended: &Appended,
    now_ms: i64,
) -> StoreResult<(Conversation, i64)> {
    let current = conversation_in(conn, account_id, id).await?;
    if current.status == ConversationStatus::Completed {
        return Err(StoreError::Conflict(format!(
            "Conversation '{id}' is completed; messages can no longer be appended"
        )));
    }
    let mut messages = current.messages.unwrap_or_default();
    messages.extend(appended.messages.iter().cloned());
    ensure_fits(&messages)?;
    let sums = totals(&messages);
    let added_tokens = totals(&appended.messages).tokens;
    let mut metadata = current.metadata;
    if let Some(extra) = &appended.metadata {
        metadata.extend(extra.clone());
    }
    let tool_definitions = appended
        .tool_definitions
        .clone()
        .or(current.tool_definitions);
    sqlx::query(
        "UPDATE conversations SET messages = $1, message_count = $2, total_tokens = $3, has_failed_steps = $4, \
         status = $5, session_id = $6, metadata = $7, tool_definitions = $8, updated_at = $9 \
         WHERE account_id = $10 AND id = $11",
    )
    .bind(json(&messages)?)
    .bind(i64::try_from(messages.len()).unwrap_or(i64::MAX))
    .bind(sums.tokens)
    .bind(flag(sums.has_failed_steps))
    .bind(appended.status.unwrap_or(current.status).as_str())
    .bind(appended.session_id.clone().or(current.session_id))
    .bind(json(&metadata)?)
    .bind(tool_definitions.as_ref().map(json).transpose()?)
    .bind(now_ms)
    .bind(account_id)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    index_text(
        conn,
        account_id,
        id,
        &searchable_text(current.title.as_deref(), &messages),
        true,
    )
    .await?;
    let slot = Slot::of(Backend::of(conn), id);
    add_activity(conn, account_id, &current.agent_id, slot, 0, now_ms).await?;
    Ok((conversation_in(conn, account_id, id).await?, added_tokens))
}

/// Replaces a conversation's transcript with one that grew (OpenTelemetry merges new spans
/// into the whole transcript), whatever its status, inside the caller's transaction; 413
/// past the limits. Returns the tokens the transcript gained.
pub async fn rewrite_transcript(
    conn: &mut AnyConnection,
    account_id: &str,
    id: &str,
    messages: &[Message],
    llm_model: Option<&str>,
    now_ms: i64,
) -> StoreResult<i64> {
    ensure_fits(messages)?;
    let current = conversation_in(conn, account_id, id).await?;
    let sums = totals(messages);
    let before = i64::try_from(current.total_tokens).unwrap_or(i64::MAX);
    sqlx::query(
        "UPDATE conversations SET messages = $1, message_count = $2, total_tokens = $3, has_failed_steps = $4, \
         llm_model = COALESCE(llm_model, $5), updated_at = $6 WHERE account_id = $7 AND id = $8",
    )
    .bind(json(&messages)?)
    .bind(i64::try_from(messages.len()).unwrap_or(i64::MAX))
    .bind(sums.tokens)
    .bind(flag(sums.has_failed_steps))
    .bind(llm_model)
    .bind(now_ms)
    .bind(account_id)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    index_text(
        conn,
        account_id,
        id,
        &searchable_text(current.title.as_deref(), messages),
        true,
    )
    .await?;
    let slot = Slot::of(Backend::of(conn), id);
    add_activity(conn, account_id, &current.agent_id, slot, 0, now_ms).await?;
    Ok(sums.tokens.saturating_sub(before).max(0))
}

impl Store {
    /// The titles of the account's conversations among `ids` (one read); an id not found, or
    /// untitled, has none.
    pub async fn conversation_titles(
        &self,
        account_id: &str,
        ids: &[String],
    ) -> sqlx::Result<HashMap<String, Option<String>>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut query = SqlBuilder::new("SELECT id, title FROM conversations WHERE account_id = ");
        query.push_bind(account_id.to_owned()).push(" AND id IN (");
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                query.push(", ");
            }
            query.push_bind(id.clone());
        }
        query.push(")");
        let rows = query.build().fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| Ok((row.try_get("id")?, row.try_get("title")?)))
            .collect()
    }

    pub async fn conversation(&self, account_id: &str, id: &str) -> StoreResult<Conversation> {
        let mut conn = self.pool().acquire().await?;
        read_conversation(&mut conn, account_id, id, "").await
    }

    /// A page of the account's conversations, without transcripts.
    /// How many conversations the account (or one of its agents) holds, from the agents'
    /// counters that every insert keeps in its transaction: a page of the whole list is
    /// not preceded by counting every row.
    async fn conversations_counted_by_agents(
        &self,
        account_id: &str,
        agent_id: Option<&str>,
    ) -> sqlx::Result<i64> {
        let mut query = SqlBuilder::new(
            "SELECT CAST(COALESCE(SUM(conversations), 0) AS BIGINT) FROM agent_activity WHERE account_id = ",
        );
        query.push_bind(account_id.to_owned());
        if let Some(agent_id) = agent_id {
            query
                .push(" AND agent_id = ")
                .push_bind(agent_id.to_owned());
        }
        query.build_query_scalar().fetch_one(self.pool()).await
    }

    pub async fn list_conversations(
        &self,
        account_id: &str,
        filter: &ConversationFilter,
        page: &PageRequest,
    ) -> StoreResult<(Vec<Conversation>, Pagination)> {
        let sort = filter.sort.unwrap_or_default();
        let time_ordered = matches!(
            sort,
            ConversationSort::NewestFirst | ConversationSort::OldestFirst
        );
        if !time_ordered && matches!(page.start, Start::After { .. }) {
            return Err(StoreError::InvalidField {
                field: "cursor",
                message: "cursors page the time orders; page quality orders with offset",
            });
        }
        let bounds = TimeBounds::from_filter(filter)?;

        let backend = self.backend();
        let to_query = match backend {
            Backend::Sqlite => fts_query,
            Backend::Postgres => tsquery,
        };
        let query = match filter.q.as_deref().map(to_query).transpose() {
            Ok(query) => query.flatten(),
            Err(message) => {
                return Err(StoreError::InvalidField {
                    field: "q",
                    message,
                })
            }
        };
        let (search, few_matches) = match query {
            Some(query) => {
                let (search, few_matches) = self.plan_search(account_id, query).await?;
                (Some(search), few_matches)
            }
            None => (None, None),
        };
        let from = match search {
            // CROSS JOIN keeps SQLite from reordering: the word index drives.
            Some(Search::FromMatches(_)) => {
                "conversations_fts f CROSS JOIN conversations c ON c.rowid = f.rowid"
            }
            _ => "conversations c",
        };
        // The total is counted while the page is read, on another connection: a search
        // with many matches spends most of its time counting them.
        let total = async {
            if search.is_none() && narrows_by_agent_alone(filter) {
                return Ok(self
                    .conversations_counted_by_agents(account_id, filter.agent_id.as_deref())
                    .await?);
            }
            if narrows_by_words_alone(filter) {
                if let Some(matches) = few_matches {
                    return Ok(matches);
                }
                if let Some(Search::PostgresWithinList(tsquery)) = &search {
                    let mut count = SqlBuilder::new("SELECT COUNT(*) FROM (");
                    push_postgres_matches(&mut count, account_id, tsquery);
                    count.push(") AS matches");
                    return Ok(count.build_query_scalar().fetch_one(self.pool()).await?);
                }
            }
            let mut count = SqlBuilder::new(format!("SELECT COUNT(*) FROM {from} WHERE "));
            push_filter(&mut count, account_id, filter, &bounds, search.as_ref());
            Ok::<i64, StoreError>(count.build_query_scalar().fetch_one(self.pool()).await?)
        };

        let mut query = SqlBuilder::new(format!(
            "SELECT {SUMMARY_COLUMNS} FROM {from} JOIN agents a ON a.account_id = c.account_id AND a.id = c.agent_id WHERE "
        ));
        push_filter(&mut query, account_id, filter, &bounds, search.as_ref());
        if let Start::After { key, id } = &page.start {
            let op = if sort == ConversationSort::OldestFirst {
                ">"
            } else {
                "<"
            };
            query
                .push(format!(" AND (c.created_at {op} "))
                .push_bind(*key)
                .push(" OR (c.created_at = ")
                .push_bind(*key)
                .push(format!(" AND c.id {op} "))
                .push_bind(id.clone())
                .push("))");
        }
        query.push(match sort {
            ConversationSort::NewestFirst => " ORDER BY c.created_at DESC, c.id DESC",
            ConversationSort::OldestFirst => " ORDER BY c.created_at ASC, c.id ASC",
            ConversationSort::BestFirst => {
                " ORDER BY c.quality_score DESC NULLS LAST, c.created_at DESC, c.id DESC"
            }
            ConversationSort::WorstFirst => {
                " ORDER BY c.quality_score ASC NULLS LAST, c.created_at DESC, c.id DESC"
            }
        });
        query.push(" LIMIT ").push_bind(i64::from(page.limit) + 1);
        if let Start::Offset(offset) = page.start {
            query
                .push(" OFFSET ")
                .push_bind(i64::try_from(offset).unwrap_or(i64::MAX));
        }
        let page_read = async {
            let rows = query.build().fetch_all(self.pool()).await?;
            let mut conversations = rows
                .iter()
                .map(|r| conversation_from_row(r, false))
                .collect::<anyhow::Result<Vec<_>>>()?;
            if let (Some(q), Some(_)) = (filter.q.as_deref(), &search) {
                // The row past the page only tells whether another page follows.
                let shown = conversations.len().min(page.limit as usize);
                self.attach_snippets(account_id, &mut conversations[..shown], q)
                    .await?;
            }
            Ok(conversations)
        };
        let (total, mut conversations) = tokio::try_join!(total, page_read)?;
        let mut pagination =
            page.finish(&mut conversations, u64::try_from(total).unwrap_or(0), |c| {
                (parse_rfc3339(&c.created_at).unwrap_or(0), c.id.clone())
            });
        if !time_ordered {
            pagination.next_cursor = None;
        }
        Ok((conversations, pagination))
    }

    /// Marks where `q` matched each listed conversation, found again in the text the index
    /// was given: in what was said, or else in the title.
    async fn attach_snippets(
        &self,
        account_id: &str,
        conversations: &mut [Conversation],
        q: &str,
    ) -> StoreResult<()> {
        if conversations.is_empty() {
            return Ok(());
        }
        let mut query =
            SqlBuilder::new("SELECT id, title, messages FROM conversations WHERE account_id = ");
        query.push_bind(account_id.to_owned()).push(" AND id IN (");
        let mut ids = query.separated(", ");
        for conversation in conversations.iter() {
            ids.push_bind(conversation.id.clone());
        }
        query.push(")");
        let mut texts = std::collections::HashMap::new();
        for row in query.build().fetch_all(self.pool()).await? {
            let messages: Vec<Message> =
                serde_json::from_str(&row.try_get::<String, _>("messages")?)
                    .map_err(anyhow::Error::from)?;
            let title: Option<String> = row.try_get("title")?;
            let id: String = row.try_get("id")?;
            texts.insert(id, (title, searchable_text(None, &messages)));
        }
        for conversation in conversations {
            // What was said first: the title shows beside the snippet anyway.
            conversation.snippet = texts.get(&conversation.id).and_then(|(title, said)| {
                snippet(said, q).or_else(|| title.as_deref().and_then(|t| snippet(t, q)))
            });
        }
        Ok(())
    }
}

/// How a full-text search runs. Few matches: start from them and look each up. Many: walk
/// the account's conversations newest first and keep those in the match set, which stops
/// as soon as a page is full instead of sorting every match. The choice comes from counting
/// the account's matches first, up to [`SEARCH_FROM_MATCHES_MAX`]: neither planner can
/// guess how many conversations a query matches, and walking 100,000 conversations for 20
/// matches costs a hundred times more than looking the 20 up.
enum Search {
    FromMatches(String),
    WithinList(String),
    PostgresFromMatches(String),
    PostgresWithinList(String),
}

/// Up to this many of the account's matches a search starts from the matches.
const SEARCH_FROM_MATCHES_MAX: i64 = 2_000;

impl Store {
    /// Chooses the plan from the account's own matches, so another tenant's text never
    /// changes it. Also returns how many the account has when they are few (the list's
    /// total when nothing else narrows it).
    async fn plan_search(
        &self,
        account_id: &str,
        query: String,
    ) -> StoreResult<(Search, Option<i64>)> {
        let mut count = SqlBuilder::new("SELECT COUNT(*) FROM (");
        match self.backend() {
            Backend::Sqlite => {
                count
                    .push(
                        "SELECT f.rowid FROM conversations_fts f CROSS JOIN conversations c \
                         ON c.rowid = f.rowid WHERE f.body MATCH ",
                    )
                    .push_bind(query.clone())
                    .push(" AND c.account_id = ")
                    .push_bind(account_id.to_owned());
            }
            Backend::Postgres => push_postgres_matches(&mut count, account_id, &query),
        }
        count
            .push(" LIMIT ")
            .push_bind(SEARCH_FROM_MATCHES_MAX + 1)
            .push(") AS matches");
        let matches: i64 = count.build_query_scalar().fetch_one(self.pool()).await?;
        let few = matches <= SEARCH_FROM_MATCHES_MAX;
        let search = match (self.backend(), few) {
            (Backend::Sqlite, true) => Search::FromMatches(query),
            (Backend::Sqlite, false) => Search::WithinList(query),
            (Backend::Postgres, true) => Search::PostgresFromMatches(query),
            (Backend::Postgres, false) => Search::PostgresWithinList(query),
        };
        Ok((search, few.then_some(matches)))
    }
}

/// `from` and `to` parsed once, so a bad date is a 400 rather than an empty list.
struct TimeBounds {
    from: Option<i64>,
    to: Option<i64>,
}

impl TimeBounds {
    fn from_filter(filter: &ConversationFilter) -> StoreResult<TimeBounds> {
        let parse = |field: &'static str, value: &Option<String>| -> StoreResult<Option<i64>> {
            value
                .as_deref()
                .map(|v| {
                    parse_rfc3339(v).ok_or_else(|| StoreError::InvalidField {
                        field,
                        message: "must be an RFC 3339 timestamp",
                    })
                })
                .transpose()
        };
        Ok(TimeBounds {
            from: parse("from", &filter.from)?,
            to: parse("to", &filter.to)?,
        })
    }
}

/// The WHERE conditions; a search that starts from the matches needs `f` in the FROM.
fn push_filter(
    query: &mut SqlBuilder,
    account_id: &str,
    filter: &ConversationFilter,
    bounds: &TimeBounds,
    search: Option<&Search>,
) {
    query
        .push("c.account_id = ")
        .push_bind(account_id.to_owned());
    if let Some(agent_id) = &filter.agent_id {
        query.push(" AND c.agent_id = ").push_bind(agent_id.clone());
    }
    if let Some(status) = filter.status {
        query.push(" AND c.status = ").push_bind(status.as_str());
    }
    if let Some(source) = filter.source {
        query.push(" AND c.source = ").push_bind(source.as_str());
    }
    match filter.has_insights {
        Some(true) => {
            query.push(" AND c.insights_status = 'ready'");
        }
        Some(false) => {
            query.push(" AND c.insights_status <> 'ready'");
        }
        None => {}
    }
    if let Some(has_issues) = filter.has_issues {
        // Only analysed conversations know whether they have issues.
        query.push(if has_issues {
            " AND c.issue_count > 0"
        } else {
            " AND c.issue_count = 0"
        });
    }
    if let Some(failed) = filter.has_failed_steps {
        query
            .push(" AND c.has_failed_steps = ")
            .push_bind(flag(failed));
    }
    if let Some(from) = bounds.from {
        query.push(" AND c.created_at >= ").push_bind(from);
    }
    if let Some(to) = bounds.to {
        query.push(" AND c.created_at < ").push_bind(to);
    }
    if let Some(min) = filter.min_quality {
        query.push(" AND c.quality_score >= ").push_bind(min);
    }
    if let Some(max) = filter.max_quality {
        query.push(" AND c.quality_score <= ").push_bind(max);
    }
    if let Some(session_id) = &filter.session_id {
        query
            .push(" AND c.session_id = ")
            .push_bind(session_id.clone());
    }
    match search {
        Some(Search::FromMatches(fts)) => {
            query.push(" AND f.body MATCH ").push_bind(fts.clone());
        }
        Some(Search::PostgresWithinList(tsquery)) => {
            query.push(" AND c.id IN (");
            push_postgres_matches(query, account_id, tsquery);
            query.push(")");
        }
        // The matches, gathered once into an array before the scan: the planner then looks
        // each one up instead of walking the list.
        Some(Search::PostgresFromMatches(tsquery)) => {
            query.push(" AND c.id = ANY(ARRAY(");
            push_postgres_matches(query, account_id, tsquery);
            query.push("))");
        }
        Some(Search::WithinList(fts)) => {
            query
                .push(" AND c.rowid IN (SELECT rowid FROM conversations_fts WHERE conversations_fts MATCH ")
                .push_bind(fts.clone())
                .push(")");
        }
        None => {}
    }
}

/// The ids of the account's conversations whose words match `tsquery` (PostgreSQL).
fn push_postgres_matches(query: &mut SqlBuilder, account_id: &str, tsquery: &str) {
    query
        .push("SELECT conversation_id FROM conversation_search WHERE account_id = ")
        .push_bind(account_id.to_owned())
        .push(" AND body @@ to_tsquery('simple', ")
        .push_bind(tsquery.to_owned())
        .push(")");
}

/// Whether `filter` narrows the list by nothing but (at most) an agent: then its total is
/// the agents' conversation counters.
fn narrows_by_agent_alone(filter: &ConversationFilter) -> bool {
    filter.q.is_none() && !narrows_by_more_than_agent_and_words(filter)
}

/// Whether `filter` narrows the list by nothing but the words of `q`: then its total is the
/// count of the account's search entries that match, without visiting the conversations.
fn narrows_by_words_alone(filter: &ConversationFilter) -> bool {
    filter.agent_id.is_none() && !narrows_by_more_than_agent_and_words(filter)
}

fn narrows_by_more_than_agent_and_words(filter: &ConversationFilter) -> bool {
    let ConversationFilter {
        agent_id: _,
        status,
        source,
        has_insights,
        from,
        to,
        q: _,
        min_quality,
        max_quality,
        session_id,
        has_failed_steps,
        has_issues,
        sort: _,
    } = filter;
    status.is_some()
        || source.is_some()
        || has_insights.is_some()
        || from.is_some()
        || to.is_some()
        || min_quality.is_some()
        || max_quality.is_some()
        || session_id.is_some()
        || has_failed_steps.is_some()
        || has_issues.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use converra_api::conversations::{Role, TokenUsage};

    #[test]
    fn token_totals_saturate_instead_of_wrapping_negative() {
        let mut message = Message::new(Role::Assistant, "hi".to_owned());
        message.usage = Some(TokenUsage {
            prompt_tokens: u64::MAX,
            completion_tokens: u64::MAX,
        });
        let messages = vec![message.clone(), message];
        assert_eq!(totals(&messages).tokens, i64::MAX);
    }
}
