//! Insights in the database: the durable queue, ready insights with the numbers aggregates
//! need as columns, their issues and steps, and the reads agent insights are built from.

use converra_api::conversations::{InsightsStatus, Message};
use converra_api::insights::{Metric, Severity};
use sqlx::{AnyConnection, Row};

use super::leases::LEASE_MS;
use super::sql::{commit_without_waiting_for_disk, flag, lock_conversation, read_flag};
use super::{Backend, SqlBuilder, Store};
use crate::engine::records::{ConversationFacts, InsightRow, IssueRow, StepRow};
use crate::engine::{ConversationAnalysis, IssueKind, MetricScores};
use crate::ids::new_id;

/// The metric columns of `conversation_insights`, in [`Metric::ALL`] order.
pub const METRIC_COLUMNS: [&str; 11] = [
    "success_score",
    "ai_relevancy",
    "sentiment_metric",
    "hallucination_score",
    "repetition_score",
    "consistency_score",
    "natural_language_score",
    "context_retention_score",
    "verbosity_score",
    "task_completion",
    "clarity",
];

/// Attempts before insights are marked failed.
pub const MAX_ATTEMPTS: i64 = 5;

/// Queues a conversation for (new) insights inside the caller's transaction. Call
/// `AppState::wake` after the commit.
pub async fn queue_insights(
    conn: &mut AnyConnection,
    account_id: &str,
    conversation_id: &str,
    now_ms: i64,
) -> sqlx::Result<()> {
    queue_insights_of_new(conn, account_id, conversation_id, now_ms).await?;
    sqlx::query(
        "UPDATE conversations SET insights_status = 'pending', insights_attempts = 0, \
         insights_error_code = NULL, insights_error = NULL WHERE account_id = $1 AND id = $2",
    )
    .bind(account_id)
    .bind(conversation_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Queues a conversation inserted in the caller's transaction with its insights `pending`
/// for its first insights: its row needs no reset. Call `AppState::wake` after the commit.
pub async fn queue_insights_of_new(
    conn: &mut AnyConnection,
    account_id: &str,
    conversation_id: &str,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO insights_jobs (conversation_id, account_id, next_attempt_at, created_at) VALUES ($1, $2, $3, $3) \
         ON CONFLICT (account_id, conversation_id) DO UPDATE SET next_attempt_at = excluded.next_attempt_at, \
         generation = insights_jobs.generation + 1, lease_owner = NULL, lease_expires_at = NULL",
    )
    .bind(conversation_id)
    .bind(account_id)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A conversation due for insights, with what the engine needs.
#[derive(Debug, Clone)]
pub struct InsightsJob {
    pub conversation_id: String,
    pub account_id: String,
    pub agent_id: String,
    pub agent_prompt: String,
    pub messages: Vec<Message>,
    pub attempts: i64,
    pub conversation_created_at: i64,
    /// Which queueing this is: only the newest may write its result.
    pub generation: i64,
}

/// Why a conversation has no insights (yet), for `GET /conversations/:id/insights`.
#[derive(Debug, Clone)]
pub struct InsightsLifecycle {
    pub status: InsightsStatus,
    pub attempts: i64,
    pub error_code: Option<String>,
    pub error: Option<String>,
    pub next_attempt_at: Option<i64>,
}

/// Stored insights with the fleet's average per metric.
#[derive(Debug, Clone)]
pub struct StoredInsights {
    pub id: String,
    pub engine: String,
    pub analysis: ConversationAnalysis,
    pub created_at: i64,
    pub updated_at: i64,
}

fn parse_snake<T: serde::de::DeserializeOwned>(text: &str) -> anyhow::Result<T> {
    Ok(serde_json::from_value(serde_json::Value::String(
        text.to_owned(),
    ))?)
}

fn snake<T: serde::Serialize>(value: &T) -> anyhow::Result<String> {
    match serde_json::to_value(value)? {
        serde_json::Value::String(s) => Ok(s),
        other => anyhow::bail!("expected a string enum, got {other}"),
    }
}

impl Store {
    /// Up to `limit` conversations whose insights are due at `now_ms`, for this process to
    /// read. On PostgreSQL they are leased to it, skipping those another live process
    /// holds (rows another claim holds locked are skipped, not waited for). SQLite has one
    /// process, whose one insights worker reads each batch to its end before it claims
    /// the next: a lease there would only cost every batch a write, and an fsync.
    pub async fn claim_due_insights(
        &self,
        now_ms: i64,
        limit: i64,
    ) -> anyhow::Result<Vec<InsightsJob>> {
        const JOBS: &str = "SELECT j.conversation_id, j.account_id, j.generation, c.agent_id, c.messages, \
             c.insights_attempts, c.created_at, a.content \
             FROM insights_jobs j JOIN conversations c ON c.account_id = j.account_id AND c.id = j.conversation_id JOIN agents a ON a.account_id = c.account_id AND a.id = c.agent_id";
        let rows = match self.backend() {
            Backend::Sqlite => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{JOBS} WHERE j.next_attempt_at <= $1 \
                     ORDER BY j.next_attempt_at, j.conversation_id LIMIT $2"
                )))
                .bind(now_ms)
                .bind(limit)
                .fetch_all(self.pool())
                .await?
            }
            Backend::Postgres => {
                let mut tx = self.begin_write().await?;
                // A lease lost in a crash only lets the job be claimed again.
                commit_without_waiting_for_disk(&mut tx).await?;
                let claimed: Vec<(String, String)> = sqlx::query_as(
                    "UPDATE insights_jobs SET lease_owner = $1, lease_expires_at = $2 \
                     WHERE (account_id, conversation_id) IN ( \
                     SELECT account_id, conversation_id FROM insights_jobs WHERE next_attempt_at <= $3 \
                     AND (lease_expires_at IS NULL OR lease_expires_at < $3) \
                     ORDER BY next_attempt_at, conversation_id LIMIT $4 FOR UPDATE SKIP LOCKED) \
                     RETURNING account_id, conversation_id",
                )
                .bind(self.instance_id())
                .bind(now_ms + LEASE_MS)
                .bind(now_ms)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
                if claimed.is_empty() {
                    tx.commit().await?;
                    return Ok(Vec::new());
                }
                let mut query = SqlBuilder::new(format!(
                    "{JOBS} WHERE (j.account_id, j.conversation_id) IN ("
                ));
                for (n, (account_id, conversation_id)) in claimed.iter().enumerate() {
                    query
                        .push(if n == 0 { "(" } else { ", (" })
                        .push_bind(account_id.clone())
                        .push(", ")
                        .push_bind(conversation_id.clone())
                        .push(")");
                }
                query.push(") ORDER BY j.next_attempt_at, j.conversation_id");
                let rows = query.build().fetch_all(&mut *tx).await?;
                tx.commit().await?;
                rows
            }
        };
        rows.iter()
            .map(|row| {
                Ok(InsightsJob {
                    conversation_id: row.try_get("conversation_id")?,
                    account_id: row.try_get("account_id")?,
                    agent_id: row.try_get("agent_id")?,
                    agent_prompt: row.try_get("content")?,
                    messages: serde_json::from_str(&row.try_get::<String, _>("messages")?)?,
                    attempts: row.try_get("insights_attempts")?,
                    conversation_created_at: row.try_get("created_at")?,
                    generation: row.try_get("generation")?,
                })
            })
            .collect()
    }

    /// When the next queued insights fall due, if any are queued.
    pub async fn next_insights_due(&self) -> sqlx::Result<Option<i64>> {
        sqlx::query_scalar("SELECT MIN(next_attempt_at) FROM insights_jobs")
            .fetch_one(self.pool())
            .await
    }

    pub async fn insights_lifecycle(
        &self,
        account_id: &str,
        conversation_id: &str,
    ) -> anyhow::Result<InsightsLifecycle> {
        let row = sqlx::query(
            "SELECT c.insights_status, c.insights_attempts, c.insights_error_code, c.insights_error, j.next_attempt_at \
             FROM conversations c LEFT JOIN insights_jobs j ON j.account_id = c.account_id AND j.conversation_id = c.id \
             WHERE c.account_id = $1 AND c.id = $2",
        )
        .bind(account_id)
        .bind(conversation_id)
        .fetch_one(self.pool())
        .await?;
        Ok(InsightsLifecycle {
            status: row
                .try_get::<String, _>("insights_status")?
                .parse()
                .map_err(anyhow::Error::msg)?,
            attempts: row.try_get("insights_attempts")?,
            error_code: row.try_get("insights_error_code")?,
            error: row.try_get("insights_error")?,
            next_attempt_at: row.try_get("next_attempt_at")?,
        })
    }

    pub async fn stored_insights(
        &self,
        account_id: &str,
        conversation_id: &str,
    ) -> anyhow::Result<Option<StoredInsights>> {
        let row = sqlx::query(
            "SELECT id, engine, analysis, created_at, updated_at FROM conversation_insights \
             WHERE account_id = $1 AND conversation_id = $2",
        )
        .bind(account_id)
        .bind(conversation_id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            Ok(StoredInsights {
                id: row.try_get("id")?,
                engine: row.try_get("engine")?,
                analysis: serde_json::from_str(&row.try_get::<String, _>("analysis")?)?,
                created_at: row.try_get("created_at")?,
                updated_at: row.try_get("updated_at")?,
            })
        })
        .transpose()
    }

    /// The account's mean of each metric over its ready insights: the benchmark a
    /// conversation's metrics are shown against.
    pub async fn fleet_metric_means(&self, account_id: &str) -> sqlx::Result<Option<MetricScores>> {
        let mut query = SqlBuilder::new("SELECT COUNT(*) AS n");
        for column in METRIC_COLUMNS {
            query.push(format!(", AVG({column}) AS {column}"));
        }
        query.push(" FROM conversation_insights WHERE account_id = ");
        query.push_bind(account_id);
        let row = query.build().fetch_one(self.pool()).await?;
        if row.try_get::<i64, _>("n")? == 0 {
            return Ok(None);
        }
        let mut means = MetricScores::default();
        for (metric, column) in Metric::ALL.into_iter().zip(METRIC_COLUMNS) {
            means.set(metric, row.try_get(column)?);
        }
        Ok(Some(means))
    }

    /// Analysed conversations of the account (of one agent, or all) created in `[from, to)`.
    pub async fn insight_rows(
        &self,
        account_id: &str,
        agent_id: Option<&str>,
        from_ms: i64,
        to_ms: i64,
    ) -> anyhow::Result<Vec<InsightRow>> {
        let mut query = SqlBuilder::new(
            "SELECT conversation_id, agent_id, conversation_created_at, quality_score, task_completed, sentiment, \
             sentiment_score, analysis",
        );
        for column in METRIC_COLUMNS {
            query.push(format!(", {column}"));
        }
        query.push(" FROM conversation_insights WHERE account_id = ");
        query.push_bind(account_id);
        if let Some(agent_id) = agent_id {
            query.push(" AND agent_id = ");
            query.push_bind(agent_id);
        }
        query.push(" AND conversation_created_at >= ");
        query.push_bind(from_ms);
        query.push(" AND conversation_created_at < ");
        query.push_bind(to_ms);
        let rows = query.build().fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| {
                let mut metrics = MetricScores::default();
                for (metric, column) in Metric::ALL.into_iter().zip(METRIC_COLUMNS) {
                    metrics.set(metric, row.try_get(column)?);
                }
                let analysis: ConversationAnalysis =
                    serde_json::from_str(&row.try_get::<String, _>("analysis")?)?;
                Ok(InsightRow {
                    conversation_id: row.try_get("conversation_id")?,
                    agent_id: row.try_get("agent_id")?,
                    conversation_created_at: row.try_get("conversation_created_at")?,
                    quality_score: row.try_get("quality_score")?,
                    task_completed: read_flag(row, "task_completed")?,
                    sentiment: parse_snake(&row.try_get::<String, _>("sentiment")?)?,
                    sentiment_score: row.try_get("sentiment_score")?,
                    metrics,
                    topics: analysis.topics,
                })
            })
            .collect()
    }

    /// Issues found in the account's conversations (of one agent, or all) in `[from, to)`.
    pub async fn issue_rows(
        &self,
        account_id: &str,
        agent_id: Option<&str>,
        from_ms: i64,
        to_ms: i64,
    ) -> anyhow::Result<Vec<IssueRow>> {
        let rows = sqlx::query(
            "SELECT conversation_id, agent_id, conversation_created_at, kind, severity FROM conversation_issues \
             WHERE account_id = $1 AND ($2 IS NULL OR agent_id = $2) AND conversation_created_at >= $3 \
             AND conversation_created_at < $4 ORDER BY conversation_created_at DESC, conversation_id",
        )
        .bind(account_id)
        .bind(agent_id)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(IssueRow {
                    conversation_id: row.try_get("conversation_id")?,
                    agent_id: row.try_get("agent_id")?,
                    conversation_created_at: row.try_get("conversation_created_at")?,
                    kind: parse_snake(&row.try_get::<String, _>("kind")?)?,
                    severity: parse_snake(&row.try_get::<String, _>("severity")?)?,
                })
            })
            .collect()
    }

    /// Diagnosed steps of an agent's conversations in `[from, to)`, newest first.
    pub async fn step_rows(
        &self,
        account_id: &str,
        agent_id: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> anyhow::Result<Vec<StepRow>> {
        let rows = sqlx::query(
            "SELECT conversation_id, conversation_created_at, name, failed, error, root_cause FROM conversation_steps \
             WHERE account_id = $1 AND agent_id = $2 AND conversation_created_at >= $3 AND conversation_created_at < $4 \
             ORDER BY conversation_created_at DESC, conversation_id, position",
        )
        .bind(account_id)
        .bind(agent_id)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(StepRow {
                    conversation_id: row.try_get("conversation_id")?,
                    conversation_created_at: row.try_get("conversation_created_at")?,
                    name: row.try_get("name")?,
                    failed: read_flag(row, "failed")?,
                    error: row.try_get("error")?,
                    root_cause: row
                        .try_get::<Option<String>, _>("root_cause")?
                        .map(|s| parse_snake(&s))
                        .transpose()?,
                })
            })
            .collect()
    }

    /// Status, size and time of an agent's conversations in `[from, to)`.
    pub async fn conversation_facts(
        &self,
        account_id: &str,
        agent_id: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> sqlx::Result<Vec<ConversationFacts>> {
        let rows = sqlx::query(
            "SELECT status, message_count, created_at FROM conversations WHERE account_id = $1 AND agent_id = $2 \
             AND created_at >= $3 AND created_at < $4",
        )
        .bind(account_id)
        .bind(agent_id)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ConversationFacts {
                    status: row.try_get("status")?,
                    message_count: row.try_get("message_count")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// Queues insights for an agent's newest `limit` conversations; with `force` false,
    /// those whose insights are ready are skipped. Returns (considered, queued).
    pub async fn queue_agent_insights(
        &self,
        account_id: &str,
        agent_id: &str,
        force: bool,
        limit: i64,
        now_ms: i64,
    ) -> anyhow::Result<(u32, u32)> {
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(
            "SELECT id, insights_status FROM conversations WHERE account_id = $1 AND agent_id = $2 \
             ORDER BY created_at DESC, id DESC LIMIT $3",
        )
        .bind(account_id)
        .bind(agent_id)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let mut queued = 0;
        for row in &rows {
            let status: String = row.try_get("insights_status")?;
            if !force && status == "ready" {
                continue;
            }
            let id: String = row.try_get("id")?;
            queue_insights(&mut tx, account_id, &id, now_ms).await?;
            queued += 1;
        }
        tx.commit().await?;
        Ok((u32::try_from(rows.len()).unwrap_or(u32::MAX), queued))
    }
}

/// Whether `job` is still the conversation's newest queueing (nothing re-queued it while
/// it ran).
async fn is_current(conn: &mut AnyConnection, job: &InsightsJob) -> sqlx::Result<bool> {
    let generation: Option<i64> = sqlx::query_scalar(
        "SELECT generation FROM insights_jobs WHERE account_id = $1 AND conversation_id = $2",
    )
    .bind(&job.account_id)
    .bind(&job.conversation_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(generation == Some(job.generation))
}

/// A conversation's reading as it stands.
struct PreviousReading {
    id: String,
    created_at: i64,
    quality_score: f64,
}

/// Locks the conversation (PostgreSQL; SQLite's writer already serializes) and reads, in one
/// statement, whether `job` is still its newest queueing (`None` when it is stale) and, if
/// so, the reading it replaces (`Some(None)` when there is none).
async fn lock_if_current(
    conn: &mut AnyConnection,
    job: &InsightsJob,
) -> sqlx::Result<Option<Option<PreviousReading>>> {
    let lock = match Backend::of(conn) {
        Backend::Postgres => " FOR UPDATE OF c",
        Backend::Sqlite => "",
    };
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT j.generation, i.id, i.created_at, i.quality_score FROM conversations c \
         LEFT JOIN insights_jobs j ON j.account_id = c.account_id AND j.conversation_id = c.id \
         LEFT JOIN conversation_insights i ON i.account_id = c.account_id AND i.conversation_id = c.id \
         WHERE c.account_id = $1 AND c.id = $2{lock}"
    )))
    .bind(&job.account_id)
    .bind(&job.conversation_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    if row.try_get::<Option<i64>, _>("generation")? != Some(job.generation) {
        return Ok(None);
    }
    let Some(id) = row.try_get::<Option<String>, _>("id")? else {
        return Ok(Some(None));
    };
    Ok(Some(Some(PreviousReading {
        id,
        created_at: row.try_get("created_at")?,
        quality_score: row.try_get("quality_score")?,
    })))
}

/// Stores a reading and returns the insights' id; `None`, writing nothing, when the job is
/// stale: the conversation was queued again while it ran, and the newer job will read it.
pub async fn save_insights(
    conn: &mut AnyConnection,
    job: &InsightsJob,
    engine: &str,
    analysis: &ConversationAnalysis,
    now_ms: i64,
) -> anyhow::Result<Option<String>> {
    let Some(previous) = lock_if_current(conn, job).await? else {
        return Ok(None);
    };
    let (id, created_at) = match &previous {
        Some(reading) => (reading.id.clone(), reading.created_at),
        None => (new_id("ins"), now_ms),
    };
    // A reading's issues and steps are written with it: a first reading replaces nothing.
    if previous.is_some() {
        for table in [
            "conversation_insights",
            "conversation_issues",
            "conversation_steps",
        ] {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE account_id = $1 AND conversation_id = $2"
            )))
            .bind(&job.account_id)
            .bind(&job.conversation_id)
            .execute(&mut *conn)
            .await?;
        }
    }
    let mut insert = SqlBuilder::new(
        "INSERT INTO conversation_insights (conversation_id, id, account_id, agent_id, conversation_created_at, engine, \
         analysis, quality_score, gated_score, task_completed, sentiment, sentiment_score, created_at, updated_at",
    );
    for column in METRIC_COLUMNS {
        insert.push(format!(", {column}"));
    }
    insert.push(") VALUES (");
    {
        let mut values = insert.separated(", ");
        values.push_bind(&job.conversation_id);
        values.push_bind(&id);
        values.push_bind(&job.account_id);
        values.push_bind(&job.agent_id);
        values.push_bind(job.conversation_created_at);
        values.push_bind(engine);
        values.push_bind(serde_json::to_string(analysis)?);
        values.push_bind(analysis.quality_score);
        values.push_bind(analysis.gated_score);
        values.push_bind(flag(analysis.task_completed));
        values.push_bind(snake(&analysis.sentiment)?);
        values.push_bind(analysis.sentiment_score);
        values.push_bind(created_at);
        values.push_bind(now_ms);
        for metric in Metric::ALL {
            values.push_bind(analysis.metrics.get(metric));
        }
    }
    insert.push(")");
    insert.build().execute(&mut *conn).await?;

    // One row per kind, at its worst severity.
    let mut worst: std::collections::BTreeMap<IssueKind, Severity> = Default::default();
    for issue in &analysis.issues {
        let entry = worst.entry(issue.kind).or_insert(issue.severity);
        *entry = (*entry).max(issue.severity);
    }
    if !worst.is_empty() {
        let mut insert = SqlBuilder::new(
            "INSERT INTO conversation_issues (conversation_id, account_id, agent_id, conversation_created_at, \
             kind, severity) VALUES ",
        );
        for (n, (kind, severity)) in worst.iter().enumerate() {
            insert.push(if n == 0 { "(" } else { ", (" });
            let mut values = insert.separated(", ");
            values.push_bind(&job.conversation_id);
            values.push_bind(&job.account_id);
            values.push_bind(&job.agent_id);
            values.push_bind(job.conversation_created_at);
            values.push_bind(snake(kind)?);
            values.push_bind(severity.as_str());
            insert.push(")");
        }
        insert.build().execute(&mut *conn).await?;
    }
    if !analysis.steps.is_empty() {
        let mut insert = SqlBuilder::new(
            "INSERT INTO conversation_steps (conversation_id, position, account_id, agent_id, conversation_created_at, \
             name, failed, error, root_cause) VALUES ",
        );
        for (position, step) in analysis.steps.iter().enumerate() {
            insert.push(if position == 0 { "(" } else { ", (" });
            let mut values = insert.separated(", ");
            values.push_bind(&job.conversation_id);
            values.push_bind(i64::try_from(position).unwrap_or(i64::MAX));
            values.push_bind(&job.account_id);
            values.push_bind(&job.agent_id);
            values.push_bind(job.conversation_created_at);
            values.push_bind(&step.name);
            values.push_bind(flag(
                step.status == converra_api::insights::StepStatus::Failed,
            ));
            values.push_bind(&step.error);
            values.push_bind(step.root_cause.map(|c| c.as_str()));
            insert.push(")");
        }
        insert.build().execute(&mut *conn).await?;
    }
    sqlx::query(
        "UPDATE conversations SET insights_status = 'ready', quality_score = $1, issue_count = $2, \
         insights_error_code = NULL, insights_error = NULL WHERE account_id = $3 AND id = $4",
    )
    .bind(analysis.quality_score)
    .bind(i64::try_from(worst.len()).unwrap_or(i64::MAX))
    .bind(&job.account_id)
    .bind(&job.conversation_id)
    .execute(&mut *conn)
    .await?;
    // The agent's running average: replace the old score, if any, with the new one.
    let (sum_delta, count_delta) = match previous {
        Some(reading) => (analysis.quality_score - reading.quality_score, 0),
        None => (analysis.quality_score, 1),
    };
    sqlx::query(
        "UPDATE agents SET quality_sum = quality_sum + $1, quality_count = quality_count + $2 \
         WHERE account_id = $3 AND id = $4",
    )
    .bind(sum_delta)
    .bind(count_delta)
    .bind(&job.account_id)
    .bind(&job.agent_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM insights_jobs WHERE account_id = $1 AND conversation_id = $2")
        .bind(&job.account_id)
        .bind(&job.conversation_id)
        .execute(&mut *conn)
        .await?;
    Ok(Some(id))
}

/// Records a failed attempt: retried later with backoff while the error is transient and
/// attempts remain, else the insights are marked failed. Returns whether it will retry.
pub async fn record_insights_failure(
    conn: &mut AnyConnection,
    job: &InsightsJob,
    code: &str,
    message: &str,
    retry_at: Option<i64>,
) -> sqlx::Result<bool> {
    lock_conversation(conn, &job.account_id, &job.conversation_id).await?;
    if !is_current(conn, job).await? {
        // The newer job is due now and starts its attempts afresh.
        return Ok(true);
    }
    let attempts = job.attempts + 1;
    let retry_at = retry_at.filter(|_| attempts < MAX_ATTEMPTS);
    sqlx::query(
        "UPDATE conversations SET insights_attempts = $1, insights_error_code = $2, insights_error = $3, \
         insights_status = $4 WHERE account_id = $5 AND id = $6",
    )
    .bind(attempts)
    .bind(code)
    .bind(message)
    .bind(if retry_at.is_some() { "pending" } else { "failed" })
    .bind(&job.account_id)
    .bind(&job.conversation_id)
    .execute(&mut *conn)
    .await?;
    match retry_at {
        Some(at) => {
            sqlx::query(
                "UPDATE insights_jobs SET next_attempt_at = $1, lease_owner = NULL, \
                 lease_expires_at = NULL WHERE account_id = $2 AND conversation_id = $3",
            )
            .bind(at)
            .bind(&job.account_id)
            .bind(&job.conversation_id)
            .execute(&mut *conn)
            .await?;
        }
        None => {
            sqlx::query("DELETE FROM insights_jobs WHERE account_id = $1 AND conversation_id = $2")
                .bind(&job.account_id)
                .bind(&job.conversation_id)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(retry_at.is_some())
}
