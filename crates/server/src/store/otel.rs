//! What OpenTelemetry ingest remembers: the spans and log records already taken (so a
//! retried export adds nothing), the conversation each went to, and a span's numbers that
//! arrived before its messages.

use std::collections::HashSet;

use sqlx::{AnyConnection, Row};

use super::SqlBuilder;

use super::StoreResult;
use crate::otel::{span_key, Figures, GroupKey};

/// SQLite binds at most 32,766 values; keys are looked up in slices well under it.
const KEYS_PER_QUERY: usize = 500;

/// Which of `keys` were taken by an earlier export.
pub async fn seen_items(
    conn: &mut AnyConnection,
    account_id: &str,
    keys: &[String],
) -> StoreResult<HashSet<String>> {
    let mut seen = HashSet::new();
    for slice in keys.chunks(KEYS_PER_QUERY) {
        let mut query = SqlBuilder::new("SELECT item_key FROM otel_items WHERE account_id = ");
        query
            .push_bind(account_id.to_owned())
            .push(" AND item_key IN (");
        let mut list = query.separated(", ");
        for key in slice {
            list.push_bind(key.clone());
        }
        query.push(")");
        for row in query.build().fetch_all(&mut *conn).await? {
            seen.insert(row.try_get("item_key")?);
        }
    }
    Ok(seen)
}

/// The conversation an earlier span or record of this trace went to.
pub async fn trace_conversation(
    conn: &mut AnyConnection,
    account_id: &str,
    trace_id: &str,
) -> StoreResult<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT conversation_id FROM otel_items WHERE account_id = $1 AND trace_id = $2 \
         AND conversation_id IS NOT NULL LIMIT 1",
    )
    .bind(account_id)
    .bind(trace_id)
    .fetch_optional(&mut *conn)
    .await?)
}

/// The conversation grouped under `otel_key`, if one was started.
pub async fn conversation_by_key(
    conn: &mut AnyConnection,
    account_id: &str,
    otel_key: &str,
) -> StoreResult<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM conversations WHERE account_id = $1 AND otel_key = $2")
            .bind(account_id)
            .bind(otel_key)
            .fetch_optional(&mut *conn)
            .await?,
    )
}

/// The conversation started under the trace, now keyed by `conversation_id` (its session
/// id too, unless it has one), if there is one.
pub async fn adopt_trace_conversation(
    conn: &mut AnyConnection,
    account_id: &str,
    trace_id: &str,
    conversation_id: &str,
) -> StoreResult<Option<String>> {
    Ok(sqlx::query_scalar(
        "UPDATE conversations SET otel_key = $1, session_id = COALESCE(session_id, $2) \
         WHERE account_id = $3 AND otel_key = $4 RETURNING id",
    )
    .bind(GroupKey::Conversation(conversation_id.to_owned()).stored())
    .bind(conversation_id)
    .bind(account_id)
    .bind(GroupKey::Trace(trace_id.to_owned()).stored())
    .fetch_optional(&mut *conn)
    .await?)
}

/// A span's numbers kept because its messages had not arrived, taken so they are applied once.
pub async fn take_pending_figures(
    conn: &mut AnyConnection,
    account_id: &str,
    trace_id: &str,
    span_id: &str,
) -> StoreResult<Option<Figures>> {
    let key = span_key(trace_id, span_id);
    let figures: Option<Option<String>> = sqlx::query_scalar(
        "SELECT figures FROM otel_items WHERE account_id = $1 AND item_key = $2",
    )
    .bind(account_id)
    .bind(&key)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(Some(figures)) = figures else {
        return Ok(None);
    };
    sqlx::query("UPDATE otel_items SET figures = NULL WHERE account_id = $1 AND item_key = $2")
        .bind(account_id)
        .bind(&key)
        .execute(&mut *conn)
        .await?;
    Ok(Some(
        serde_json::from_str(&figures).map_err(anyhow::Error::from)?,
    ))
}

/// Remembers the items of one turn, with the numbers still waiting for their messages.
pub async fn record_items(
    conn: &mut AnyConnection,
    account_id: &str,
    keys: &[String],
    trace_id: &str,
    conversation_id: Option<&str>,
    pending: Option<&Figures>,
    now_ms: i64,
) -> StoreResult<()> {
    let pending = pending
        .map(serde_json::to_string)
        .transpose()
        .map_err(anyhow::Error::from)?;
    for key in keys {
        sqlx::query(
            "INSERT INTO otel_items (account_id, item_key, trace_id, conversation_id, figures, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_id, item_key) DO NOTHING",
        )
        .bind(account_id)
        .bind(key)
        .bind(trace_id)
        .bind(conversation_id)
        .bind(&pending)
        .bind(now_ms)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
