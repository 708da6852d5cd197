//! Agents and their versions.

use converra_api::agents::{
    normalize_prompt, Agent, AgentFilter, AgentStatus, AgentVersion, VersionSource,
};
use converra_api::Pagination;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::sql::optional_float;
use super::{Backend, SqlBuilder};

use super::paging::{push_newest_first, PageRequest, Start};
use super::slots::Slot;
use super::Store;
use super::{StoreError, StoreResult};
use crate::clock::rfc3339;
use crate::ids::new_id;

/// The SDK's hash of a prompt: hex SHA-256 of the normalized text.
pub fn content_hash(content: &str) -> String {
    hex::encode(Sha256::digest(normalize_prompt(content).as_bytes()))
}

/// A validated new agent.
#[derive(Debug, Clone)]
pub struct NewAgent {
    pub name: String,
    pub content: String,
    pub llm_model: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub status: AgentStatus,
    pub objective: Option<String>,
    pub constraints: Option<String>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub max_tokens: Option<u32>,
    pub reasoning_effort: Option<String>,
}

impl NewAgent {
    /// An active agent with only a name, a prompt and a model: what the SDK's traffic registers.
    pub fn from_prompt(name: String, content: String, llm_model: String) -> NewAgent {
        NewAgent {
            name,
            content,
            llm_model,
            description: None,
            tags: Vec::new(),
            status: AgentStatus::Active,
            objective: None,
            constraints: None,
            temperature: None,
            top_p: None,
            max_tokens: None,
            reasoning_effort: None,
        }
    }
}

/// A validated change; `None` leaves the field as it is.
#[derive(Debug, Clone, Default)]
pub struct AgentChange {
    pub name: Option<String>,
    pub content: Option<String>,
    pub llm_model: Option<String>,
    pub description: Option<String>,
    pub tags: Option<Vec<String>>,
    pub status: Option<AgentStatus>,
    pub objective: Option<String>,
    pub constraints: Option<String>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub max_tokens: Option<u32>,
    pub reasoning_effort: Option<String>,
}

/// Where a new version came from, for `GET /agents/:id/versions`.
#[derive(Debug, Clone)]
pub struct VersionOrigin {
    pub source: VersionSource,
    pub optimization_id: Option<String>,
    pub variant_id: Option<String>,
}

impl VersionOrigin {
    pub fn manual() -> Self {
        VersionOrigin {
            source: VersionSource::Manual,
            optimization_id: None,
            variant_id: None,
        }
    }

    pub fn sdk() -> Self {
        VersionOrigin {
            source: VersionSource::Sdk,
            optimization_id: None,
            variant_id: None,
        }
    }

    pub fn otel() -> Self {
        VersionOrigin {
            source: VersionSource::Otel,
            optimization_id: None,
            variant_id: None,
        }
    }
}

/// An agent's columns with its activity, summed over the slots creates count it in
/// ([`super::slots`]); read `FROM agents`.
const AGENT_COLUMNS: &str = "agents.*, \
    (SELECT CAST(COALESCE(SUM(s.conversations), 0) AS BIGINT) FROM agent_activity s \
     WHERE s.account_id = agents.account_id AND s.agent_id = agents.id) AS conversation_count, \
    (SELECT MAX(s.last_activity_at) FROM agent_activity s \
     WHERE s.account_id = agents.account_id AND s.agent_id = agents.id) AS last_activity_at";

/// Counts `conversations` more for the agent, in `slot`, and moves its latest activity to
/// `at_ms` (never back: instances' clocks differ by a little).
pub async fn add_activity(
    conn: &mut AnyConnection,
    account_id: &str,
    agent_id: &str,
    slot: Slot,
    conversations: i64,
    at_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO agent_activity (account_id, agent_id, slot, conversations, last_activity_at) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (account_id, agent_id, slot) DO UPDATE SET \
           conversations = agent_activity.conversations + excluded.conversations, \
           last_activity_at = CASE WHEN agent_activity.last_activity_at IS NULL \
             OR excluded.last_activity_at > agent_activity.last_activity_at \
             THEN excluded.last_activity_at ELSE agent_activity.last_activity_at END",
    )
    .bind(account_id)
    .bind(agent_id)
    .bind(slot.index())
    .bind(conversations)
    .bind(at_ms)
    .execute(conn)
    .await?;
    Ok(())
}

fn agent_from_row(row: &AnyRow) -> anyhow::Result<Agent> {
    let status: String = row.try_get("status")?;
    let tags: String = row.try_get("tags")?;
    let quality_sum: f64 = row.try_get("quality_sum")?;
    let quality_count: i64 = row.try_get("quality_count")?;
    let max_tokens: Option<i64> = row.try_get("max_tokens")?;
    let status: AgentStatus = status.parse().map_err(anyhow::Error::msg)?;
    Ok(Agent {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        content: row.try_get("content")?,
        llm_model: row.try_get("llm_model")?,
        description: row.try_get("description")?,
        tags: serde_json::from_str(&tags)?,
        status,
        is_active: status == AgentStatus::Active,
        conversation_count: u64::try_from(row.try_get::<i64, _>("conversation_count")?)?,
        last_optimized_at: row
            .try_get::<Option<i64>, _>("last_optimized_at")?
            .map(rfc3339),
        last_activity_at: row
            .try_get::<Option<i64>, _>("last_activity_at")?
            .map(rfc3339),
        objective: row.try_get("objective")?,
        constraints: row.try_get("constraints")?,
        temperature: row.try_get("temperature")?,
        top_p: row.try_get("top_p")?,
        max_tokens: max_tokens.and_then(|n| u32::try_from(n).ok()),
        reasoning_effort: row.try_get("reasoning_effort")?,
        version: u32::try_from(row.try_get::<i64, _>("version")?)?,
        content_hash: row.try_get("content_hash")?,
        avg_quality_score: (quality_count > 0).then(|| quality_sum / quality_count as f64),
        created_at: rfc3339(row.try_get("created_at")?),
        updated_at: rfc3339(row.try_get("updated_at")?),
    })
}

/// Reads one agent of the account inside a transaction.
pub async fn agent_in(
    conn: &mut AnyConnection,
    account_id: &str,
    agent_id: &str,
) -> StoreResult<Agent> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {AGENT_COLUMNS} FROM agents WHERE id = $1 AND account_id = $2"
    )))
    .bind(agent_id)
    .bind(account_id)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(row) => Ok(agent_from_row(&row)?),
        None => Err(StoreError::not_found("Agent", agent_id)),
    }
}

/// The agent of the account called `name`, if any.
pub async fn agent_by_name(
    conn: &mut AnyConnection,
    account_id: &str,
    name: &str,
) -> StoreResult<Option<Agent>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {AGENT_COLUMNS} FROM agents WHERE account_id = $1 AND name = $2"
    )))
    .bind(account_id)
    .bind(name)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| agent_from_row(&r)).transpose()?)
}

/// Inserts an agent and its version 1, inside the caller's transaction.
pub async fn insert_agent(
    conn: &mut AnyConnection,
    account_id: &str,
    agent: &NewAgent,
    origin: &VersionOrigin,
    now_ms: i64,
) -> StoreResult<Agent> {
    let id = new_id("agent");
    let hash = content_hash(&agent.content);
    let inserted = sqlx::query(
        "INSERT INTO agents (id, account_id, name, content, content_hash, llm_model, description, tags, status, \
         objective, constraints, temperature, top_p, max_tokens, reasoning_effort, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, CAST($12 AS DOUBLE PRECISION), \
         CAST($13 AS DOUBLE PRECISION), $14, $15, 1, $16, $16)",
    )
    .bind(&id)
    .bind(account_id)
    .bind(&agent.name)
    .bind(&agent.content)
    .bind(&hash)
    .bind(&agent.llm_model)
    .bind(&agent.description)
    .bind(serde_json::to_string(&agent.tags).map_err(anyhow::Error::from)?)
    .bind(agent.status.as_str())
    .bind(&agent.objective)
    .bind(&agent.constraints)
    .bind(optional_float(agent.temperature))
    .bind(optional_float(agent.top_p))
    .bind(agent.max_tokens.map(i64::from))
    .bind(&agent.reasoning_effort)
    .bind(now_ms)
    .execute(&mut *conn)
    .await;
    if let Err(err) = inserted {
        return Err(unique_name_conflict(err, &agent.name));
    }
    insert_version(
        conn,
        account_id,
        &id,
        1,
        &agent.content,
        &hash,
        &agent.llm_model,
        origin,
        now_ms,
    )
    .await?;
    agent_in(conn, account_id, &id).await
}

fn unique_name_conflict(err: sqlx::Error, name: &str) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(format!("An agent named '{name}' already exists"))
        }
        _ => err.into(),
    }
}

#[allow(clippy::too_many_arguments)] // one row's columns
async fn insert_version(
    conn: &mut AnyConnection,
    account_id: &str,
    agent_id: &str,
    version: u32,
    content: &str,
    hash: &str,
    llm_model: &str,
    origin: &VersionOrigin,
    now_ms: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO agent_versions (account_id, agent_id, version, content, content_hash, llm_model, \
         source, optimization_id, variant_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(account_id)
    .bind(agent_id)
    .bind(i64::from(version))
    .bind(content)
    .bind(hash)
    .bind(llm_model)
    .bind(origin.source.as_str())
    .bind(&origin.optimization_id)
    .bind(&origin.variant_id)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Applies a change inside the caller's transaction. A new `content` or `llmModel` makes a
/// new version; other fields change in place. Returns the agent after the change.
pub async fn update_agent(
    conn: &mut AnyConnection,
    account_id: &str,
    agent_id: &str,
    change: &AgentChange,
    origin: &VersionOrigin,
    now_ms: i64,
) -> StoreResult<Agent> {
    let current = agent_in(conn, account_id, agent_id).await?;
    let content = change
        .content
        .clone()
        .unwrap_or_else(|| current.content.clone());
    let llm_model = change
        .llm_model
        .clone()
        .unwrap_or_else(|| current.llm_model.clone());
    let new_version = content != current.content || llm_model != current.llm_model;
    let version = if new_version {
        current.version + 1
    } else {
        current.version
    };
    let hash = content_hash(&content);
    let name = change.name.clone().unwrap_or_else(|| current.name.clone());
    let tags = change.tags.clone().unwrap_or_else(|| current.tags.clone());
    let updated = sqlx::query(
        "UPDATE agents SET name = $1, content = $2, content_hash = $3, llm_model = $4, description = $5, \
         tags = $6, status = $7, objective = $8, constraints = $9, \
         temperature = CAST($10 AS DOUBLE PRECISION), top_p = CAST($11 AS DOUBLE PRECISION), \
         max_tokens = $12, reasoning_effort = $13, version = $14, updated_at = $15 \
         WHERE id = $16 AND account_id = $17",
    )
    .bind(&name)
    .bind(&content)
    .bind(&hash)
    .bind(&llm_model)
    .bind(change.description.clone().or(current.description))
    .bind(serde_json::to_string(&tags).map_err(anyhow::Error::from)?)
    .bind(change.status.unwrap_or(current.status).as_str())
    .bind(change.objective.clone().or(current.objective))
    .bind(change.constraints.clone().or(current.constraints))
    .bind(optional_float(change.temperature.or(current.temperature)))
    .bind(optional_float(change.top_p.or(current.top_p)))
    .bind(change.max_tokens.or(current.max_tokens).map(i64::from))
    .bind(change.reasoning_effort.clone().or(current.reasoning_effort))
    .bind(i64::from(version))
    .bind(now_ms)
    .bind(agent_id)
    .bind(account_id)
    .execute(&mut *conn)
    .await;
    if let Err(err) = updated {
        return Err(unique_name_conflict(err, &name));
    }
    if new_version {
        insert_version(
            conn, account_id, agent_id, version, &content, &hash, &llm_model, origin, now_ms,
        )
        .await?;
    }
    agent_in(conn, account_id, agent_id).await
}

/// The agent whose current or earlier prompt has this content hash (the newest agent first).
pub async fn agent_by_hash(
    conn: &mut AnyConnection,
    account_id: &str,
    hash: &str,
) -> StoreResult<Option<Agent>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {AGENT_COLUMNS} FROM agents WHERE agents.account_id = $1 AND (agents.content_hash = $2 OR EXISTS \
         (SELECT 1 FROM agent_versions v WHERE v.account_id = agents.account_id AND v.agent_id = agents.id \
         AND v.content_hash = $2)) \
         ORDER BY (agents.content_hash = $2) DESC, agents.created_at DESC LIMIT 1",
    )))
    .bind(account_id)
    .bind(hash)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| agent_from_row(&r)).transpose()?)
}

impl Store {
    pub async fn agent(&self, account_id: &str, agent_id: &str) -> StoreResult<Agent> {
        let mut conn = self.pool().acquire().await?;
        agent_in(&mut conn, account_id, agent_id).await
    }

    /// Every prompt hash of the account (current and earlier versions) to its agent.
    pub async fn agent_hashes(&self, account_id: &str) -> StoreResult<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT content_hash, agent_id FROM agent_versions WHERE account_id = $1 ORDER BY created_at",
        )
        .bind(account_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<sqlx::Result<_>>()
            .map_err(Into::into)
    }

    pub async fn list_agents(
        &self,
        account_id: &str,
        filter: &AgentFilter,
        page: &PageRequest,
    ) -> StoreResult<(Vec<Agent>, Pagination)> {
        let mut count = SqlBuilder::new("SELECT COUNT(*) FROM agents WHERE ");
        push_agent_filter(&mut count, self.backend(), account_id, filter);
        let total: i64 = count.build_query_scalar().fetch_one(self.pool()).await?;

        let mut query = SqlBuilder::new(format!("SELECT {AGENT_COLUMNS} FROM agents WHERE "));
        push_agent_filter(&mut query, self.backend(), account_id, filter);
        push_newest_first(&mut query, "agents", page);
        let rows = query.build().fetch_all(self.pool()).await?;
        let mut agents = rows
            .iter()
            .map(agent_from_row)
            .collect::<anyhow::Result<Vec<_>>>()?;
        let created = |a: &Agent| crate::clock::parse_rfc3339(&a.created_at).unwrap_or(0);
        let pagination = page.finish(&mut agents, u64::try_from(total).unwrap_or(0), |a| {
            (created(a), a.id.clone())
        });
        Ok((agents, pagination))
    }

    pub async fn agent_versions(
        &self,
        account_id: &str,
        agent_id: &str,
    ) -> StoreResult<Vec<AgentVersion>> {
        let mut conn = self.pool().acquire().await?;
        agent_in(&mut conn, account_id, agent_id).await?;
        let rows =
            sqlx::query("SELECT * FROM agent_versions WHERE account_id = $1 AND agent_id = $2 ORDER BY version DESC")
                .bind(account_id)
                .bind(agent_id)
                .fetch_all(&mut *conn)
                .await?;
        rows.iter()
            .map(version_from_row)
            .collect::<anyhow::Result<_>>()
            .map_err(Into::into)
    }
}

impl Store {
    /// A page of the agent's versions, newest first; a cursor names the last version seen.
    pub async fn agent_versions_page(
        &self,
        account_id: &str,
        agent_id: &str,
        page: &PageRequest,
    ) -> StoreResult<(Vec<AgentVersion>, Pagination)> {
        let mut conn = self.pool().acquire().await?;
        agent_in(&mut conn, account_id, agent_id).await?;
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM agent_versions WHERE account_id = $1 AND agent_id = $2",
        )
        .bind(account_id)
        .bind(agent_id)
        .fetch_one(&mut *conn)
        .await?;
        let mut query = SqlBuilder::new("SELECT * FROM agent_versions WHERE account_id = ");
        query
            .push_bind(account_id)
            .push(" AND agent_id = ")
            .push_bind(agent_id);
        if let Start::After { key, .. } = &page.start {
            query.push(" AND version < ").push_bind(*key);
        }
        query
            .push(" ORDER BY version DESC LIMIT ")
            .push_bind(i64::from(page.limit) + 1);
        if let Start::Offset(offset) = page.start {
            query
                .push(" OFFSET ")
                .push_bind(i64::try_from(offset).unwrap_or(i64::MAX));
        }
        let mut versions = query
            .build()
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(version_from_row)
            .collect::<anyhow::Result<Vec<_>>>()?;
        let pagination = page.finish(&mut versions, u64::try_from(total).unwrap_or(0), |v| {
            (i64::from(v.version), agent_id.to_owned())
        });
        Ok((versions, pagination))
    }
}

fn version_from_row(row: &AnyRow) -> anyhow::Result<AgentVersion> {
    let source: String = row.try_get("source")?;
    Ok(AgentVersion {
        version: u32::try_from(row.try_get::<i64, _>("version")?)?,
        content: row.try_get("content")?,
        llm_model: row.try_get("llm_model")?,
        content_hash: row.try_get("content_hash")?,
        source: source.parse().map_err(anyhow::Error::msg)?,
        optimization_id: row.try_get("optimization_id")?,
        variant_id: row.try_get("variant_id")?,
        created_at: rfc3339(row.try_get("created_at")?),
    })
}

fn push_agent_filter(
    query: &mut SqlBuilder,
    backend: Backend,
    account_id: &str,
    filter: &AgentFilter,
) {
    query.push("account_id = ").push_bind(account_id.to_owned());
    if let Some(status) = filter.status {
        query.push(" AND status = ").push_bind(status.as_str());
    }
    if let Some(tag) = &filter.tag {
        query
            .push(" AND ")
            .push(backend.json_array_contains("agents.tags"))
            .push_bind(tag.clone())
            .push(")");
    }
    if let Some(search) = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let pattern = format!(
            "%{}%",
            search
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        query
            .push(" AND (LOWER(name) LIKE ")
            .push_bind(pattern.clone())
            .push(" ESCAPE '\\' OR LOWER(COALESCE(description, '')) LIKE ")
            .push_bind(pattern.clone())
            .push(" ESCAPE '\\' OR LOWER(content) LIKE ")
            .push_bind(pattern)
            .push(" ESCAPE '\\')");
    }
}
