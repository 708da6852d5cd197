//! Optimizations in the database: the run and its persisted progress, its variants with
//! their statistics, and every simulated conversation (so a restart resumes, not redoes).

use converra_api::conversations::Message;
use converra_api::optimizations::{
    JobError, Optimization, OptimizationFilter, OptimizationIntent, OptimizationMode,
    OptimizationPhase, OptimizationProgress, OptimizationResults, OptimizationStatus,
    OptimizationStrategy, SimulationPlan,
};
use converra_api::webhooks::OptimizationCompleted;
use converra_api::Pagination;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::leases::{take_lease, LeasedQueue};
use super::sql::{flag, lock_named, read_flag};
use super::SqlBuilder;

use super::paging::{push_newest_first, PageRequest};
use super::webhooks::queue_event;
use super::Store;
use super::{StoreError, StoreResult};
use crate::clock::{parse_rfc3339, rfc3339};
use crate::engine::optimizer::{ScoredSimulation, VariantReport};
use crate::engine::MetricScores;
use crate::ids::new_id;

/// The id every optimization's control carries.
pub const CONTROL_ID: &str = "var_control";

/// A validated optimization to insert.
#[derive(Debug, Clone)]
pub struct NewOptimization {
    pub agent_id: String,
    pub agent_version: u32,
    pub mode: OptimizationMode,
    pub variant_count: u32,
    pub strategy: OptimizationStrategy,
    pub max_iterations: u32,
    pub intent: Option<OptimizationIntent>,
    pub persona_ids: Vec<String>,
    pub plan: SimulationPlan,
    pub seed: u64,
    pub engine: String,
}

/// A run as the runner reads it.
/// Optimizations of one account running at once; the rest of its runs wait, queued, so
/// that the other accounts always find a runner (there are [`RUNNERS`]).
pub const RUNNING_PER_ACCOUNT: u32 = 2;
/// Optimizations running at once in the whole process.
pub const RUNNERS: u32 = 4;

#[derive(Debug, Clone)]
pub struct OptimizationRecord {
    pub id: String,
    pub account_id: String,
    pub wire: Optimization,
    pub seed: u64,
}

/// A variant as stored (the control is position 0, id `var_control` on the wire).
#[derive(Debug, Clone)]
pub struct VariantRecord {
    /// The row id (unique across optimizations).
    pub row_id: String,
    pub position: u32,
    pub name: String,
    pub content: String,
    pub change_summary: String,
    pub report: Option<VariantReport>,
}

impl VariantRecord {
    /// The id the API shows: `var_control` for the control, the row id otherwise.
    pub fn public_id(&self) -> &str {
        if self.position == 0 {
            CONTROL_ID
        } else {
            &self.row_id
        }
    }
}

/// A simulated conversation to store.
#[derive(Debug, Clone)]
pub struct NewSimulation {
    pub variant_row_id: String,
    pub cell: u32,
    pub persona_id: String,
    pub scenario_id: String,
    pub messages: Vec<Message>,
    pub metrics: MetricScores,
    pub overall: f64,
    pub task_completed: bool,
    pub tokens: u64,
    pub latency_ms: f64,
    /// Part of validation mode's retest of a winner, not of the test itself.
    pub retest: bool,
}

/// A stored simulated conversation with its transcript.
#[derive(Debug, Clone)]
pub struct SimulationTranscript {
    pub id: String,
    pub variant_row_id: String,
    pub persona_id: String,
    pub scenario_id: String,
    pub messages: Vec<Message>,
    pub metrics: MetricScores,
    pub overall: f64,
    pub task_completed: bool,
}

fn json<T: serde::Serialize>(value: &T) -> anyhow::Result<String> {
    Ok(serde_json::to_string(value)?)
}

fn parse<T: std::str::FromStr<Err = String>>(text: String) -> anyhow::Result<T> {
    text.parse().map_err(anyhow::Error::msg)
}

fn record_from_row(row: &AnyRow) -> anyhow::Result<OptimizationRecord> {
    let status: OptimizationStatus = parse(row.try_get("status")?)?;
    let phase: OptimizationPhase = parse(row.try_get("phase")?)?;
    let completed: i64 = row.try_get("simulations_completed")?;
    let total: i64 = row.try_get("simulations_total")?;
    let error_code: Option<String> = row.try_get("error_code")?;
    let error_message: Option<String> = row.try_get("error_message")?;
    let intent: Option<String> = row.try_get("intent")?;
    let results: Option<String> = row.try_get("results")?;
    let optional_time = |column: &str| -> anyhow::Result<Option<String>> {
        Ok(row.try_get::<Option<i64>, _>(column)?.map(rfc3339))
    };
    let seed: i64 = row.try_get("seed")?;
    Ok(OptimizationRecord {
        id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        seed: seed as u64,
        wire: Optimization {
            id: row.try_get("id")?,
            agent_id: row.try_get("agent_id")?,
            agent_name: row.try_get("agent_name")?,
            agent_version: u32::try_from(row.try_get::<i64, _>("agent_version")?)?,
            status,
            mode: parse(row.try_get("mode")?)?,
            variant_count: u32::try_from(row.try_get::<i64, _>("variant_count")?)?,
            optimization_strategy: parse(row.try_get("optimization_strategy")?)?,
            max_iterations: u32::try_from(row.try_get::<i64, _>("max_iterations")?)?,
            intent: intent.map(|i| serde_json::from_str(&i)).transpose()?,
            persona_ids: serde_json::from_str(&row.try_get::<String, _>("persona_ids")?)?,
            simulation: serde_json::from_str(&row.try_get::<String, _>("simulation")?)?,
            progress: OptimizationProgress {
                phase,
                simulations_completed: u32::try_from(completed)?,
                simulations_total: u32::try_from(total)?,
                percent: progress_percent(phase, completed, total),
                generation: row
                    .try_get::<Option<i64>, _>("generation")?
                    .map(u32::try_from)
                    .transpose()?,
            },
            results: results.map(|r| serde_json::from_str(&r)).transpose()?,
            evidence: crate::engine::evidence_of(&row.try_get::<String, _>("engine")?),
            engine: row.try_get("engine")?,
            applied_variant_id: row.try_get("applied_variant_id")?,
            applied_at: optional_time("applied_at")?,
            error: error_code.map(|code| JobError {
                code,
                message: error_message.unwrap_or_default(),
            }),
            created_at: rfc3339(row.try_get("created_at")?),
            started_at: optional_time("started_at")?,
            completed_at: optional_time("completed_at")?,
            updated_at: rfc3339(row.try_get("updated_at")?),
        },
    })
}

/// Simulations are most of the work: they span 10..90 percent.
fn progress_percent(phase: OptimizationPhase, completed: i64, total: i64) -> f64 {
    let simulated = if total > 0 {
        completed as f64 / total as f64
    } else {
        0.0
    };
    let percent = match phase {
        OptimizationPhase::Analyzing => 2.0,
        OptimizationPhase::Generating => 6.0,
        OptimizationPhase::Simulating => 10.0 + 80.0 * simulated,
        OptimizationPhase::Evaluating => 92.0,
        OptimizationPhase::Selecting => 97.0,
        OptimizationPhase::Done => 100.0,
    };
    (percent * 10.0).round() / 10.0
}

const SELECT: &str =
    "SELECT o.*, a.name AS agent_name FROM optimizations o JOIN agents a ON a.account_id = o.account_id AND a.id = o.agent_id";

pub async fn insert_optimization(
    conn: &mut AnyConnection,
    account_id: &str,
    new: &NewOptimization,
    now_ms: i64,
) -> StoreResult<Optimization> {
    let id = new_id("opt");
    sqlx::query(
        "INSERT INTO optimizations (id, account_id, agent_id, agent_version, status, mode, variant_count, intent, \
         persona_ids, simulation, seed, engine, phase, simulations_total, created_at, updated_at, \
         optimization_strategy, max_iterations) \
         VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7, $8, $9, $10, $11, 'analyzing', $12, $13, $13, $14, $15)",
    )
    .bind(&id)
    .bind(account_id)
    .bind(&new.agent_id)
    .bind(i64::from(new.agent_version))
    .bind(new.mode.as_str())
    .bind(i64::from(new.variant_count))
    .bind(new.intent.as_ref().map(json).transpose()?)
    .bind(json(&new.persona_ids)?)
    .bind(json(&new.plan)?)
    // Stored as the same 64 bits; SQLite integers are signed.
    .bind(new.seed as i64)
    .bind(&new.engine)
    .bind(i64::from(new.plan.conversations_per_variant) * i64::from(new.variant_count + 1))
    .bind(now_ms)
    .bind(new.strategy.as_str())
    .bind(i64::from(new.max_iterations))
    .execute(&mut *conn)
    .await?;
    Ok(optimization_in(conn, account_id, &id).await?.wire)
}

pub async fn optimization_in(
    conn: &mut AnyConnection,
    account_id: &str,
    id: &str,
) -> StoreResult<OptimizationRecord> {
    let row = sqlx::query(
        "SELECT o.*, a.name AS agent_name FROM optimizations o JOIN agents a ON a.account_id = o.account_id AND a.id = o.agent_id \
         WHERE o.id = $1 AND o.account_id = $2",
    )
    .bind(id)
    .bind(account_id)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(row) => Ok(record_from_row(&row)?),
        None => Err(StoreError::not_found("Optimization", id)),
    }
}

pub async fn variants_in(
    conn: &mut AnyConnection,
    account_id: &str,
    optimization_id: &str,
) -> anyhow::Result<Vec<VariantRecord>> {
    let rows = sqlx::query(
        "SELECT id, position, name, content, change_summary, report FROM optimization_variants \
         WHERE account_id = $1 AND optimization_id = $2 ORDER BY position",
    )
    .bind(account_id)
    .bind(optimization_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            let report: Option<String> = row.try_get("report")?;
            Ok(VariantRecord {
                row_id: row.try_get("id")?,
                position: u32::try_from(row.try_get::<i64, _>("position")?)?,
                name: row.try_get("name")?,
                content: row.try_get("content")?,
                change_summary: row.try_get("change_summary")?,
                report: report.map(|r| serde_json::from_str(&r)).transpose()?,
            })
        })
        .collect()
}

/// Status changes that end a run: `completed`, `failed` or `stopped`.
pub struct Finish<'a> {
    pub status: OptimizationStatus,
    pub results: Option<&'a OptimizationResults>,
    pub error: Option<&'a JobError>,
}

pub async fn finish_optimization(
    conn: &mut AnyConnection,
    account_id: &str,
    id: &str,
    finish: &Finish<'_>,
    now_ms: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE optimizations SET status = $1, results = COALESCE($2, results), error_code = $3, error_message = $4, \
         phase = CASE WHEN $1 = 'completed' THEN 'done' ELSE phase END, completed_at = $5, updated_at = $5 \
         WHERE account_id = $6 AND id = $7",
    )
    .bind(finish.status.as_str())
    .bind(finish.results.map(json).transpose()?)
    .bind(finish.error.map(|e| e.code.clone()))
    .bind(finish.error.map(|e| e.message.clone()))
    .bind(now_ms)
    .bind(account_id)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records that `variant_id` of optimization `id` now is `agent_id`'s prompt, inside the
/// caller's transaction (the one that changed the agent).
pub async fn record_applied_variant(
    conn: &mut AnyConnection,
    account_id: &str,
    id: &str,
    agent_id: &str,
    variant_id: &str,
    now_ms: i64,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE optimizations SET applied_variant_id = $1, applied_at = $2, updated_at = $2 \
         WHERE account_id = $3 AND id = $4",
    )
    .bind(variant_id)
    .bind(now_ms)
    .bind(account_id)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE agents SET last_optimized_at = $1 WHERE account_id = $2 AND id = $3")
        .bind(now_ms)
        .bind(account_id)
        .bind(agent_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

impl Store {
    pub async fn optimization(
        &self,
        account_id: &str,
        id: &str,
    ) -> StoreResult<OptimizationRecord> {
        let mut conn = self.pool().acquire().await?;
        optimization_in(&mut conn, account_id, id).await
    }

    pub async fn list_optimizations(
        &self,
        account_id: &str,
        filter: &OptimizationFilter,
        page: &PageRequest,
    ) -> StoreResult<(Vec<Optimization>, Pagination)> {
        let push_filter = |query: &mut SqlBuilder| {
            query
                .push(" WHERE o.account_id = ")
                .push_bind(account_id.to_owned());
            if let Some(agent) = &filter.agent_id {
                query.push(" AND o.agent_id = ").push_bind(agent.clone());
            }
            if let Some(status) = filter.status {
                query.push(" AND o.status = ").push_bind(status.as_str());
            }
        };
        let mut count = SqlBuilder::new("SELECT COUNT(*) FROM optimizations o");
        push_filter(&mut count);
        let total: i64 = count.build_query_scalar().fetch_one(self.pool()).await?;
        let mut query = SqlBuilder::new(SELECT);
        push_filter(&mut query);
        push_newest_first(&mut query, "o", page);
        let rows = query.build().fetch_all(self.pool()).await?;
        let mut runs = rows
            .iter()
            .map(|row| Ok(record_from_row(row)?.wire))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let created = |o: &Optimization| crate::clock::parse_rfc3339(&o.created_at).unwrap_or(0);
        let pagination = page.finish(&mut runs, u64::try_from(total).unwrap_or(0), |o| {
            (created(o), o.id.clone())
        });
        Ok((runs, pagination))
    }

    pub async fn variants(
        &self,
        account_id: &str,
        optimization_id: &str,
    ) -> anyhow::Result<Vec<VariantRecord>> {
        let mut conn = self.pool().acquire().await?;
        variants_in(&mut conn, account_id, optimization_id).await
    }

    /// Takes the oldest queued run and marks it running.
    pub async fn claim_queued_optimization(
        &self,
        now_ms: i64,
    ) -> anyhow::Result<Option<OptimizationRecord>> {
        let mut tx = self.begin_write().await?;
        lock_named(&mut tx, "optimizations").await?;
        // Fair across accounts: the account running the fewest goes first, and none holds
        // more than its share of the runners, so one account's stuck runs stall no other.
        let next: Option<(String, String)> = sqlx::query_as(
            "SELECT account_id, id FROM (SELECT o.account_id, o.id, o.created_at, \
               (SELECT COUNT(*) FROM optimizations r WHERE r.account_id = o.account_id AND r.status = 'running') AS running \
               FROM optimizations o WHERE o.status = 'queued') AS queued \
             WHERE running < $1 ORDER BY running, created_at, id LIMIT 1",
        )
        .bind(i64::from(RUNNING_PER_ACCOUNT))
        .fetch_optional(&mut *tx)
        .await?;
        let Some((account_id, id)) = next else {
            return Ok(None);
        };
        sqlx::query(
            "UPDATE optimizations SET status = 'running', started_at = COALESCE(started_at, $1), \
             updated_at = $1 WHERE account_id = $2 AND id = $3",
        )
        .bind(now_ms)
        .bind(&account_id)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
        take_lease(
            &mut tx,
            LeasedQueue::Optimizations,
            &account_id,
            &id,
            self.instance_id(),
            now_ms,
        )
        .await?;
        let run = optimization_in(&mut tx, &account_id, &id)
            .await
            .map_err(|err| anyhow::anyhow!("reading the claimed optimization {id}: {err}"))?;
        tx.commit().await?;
        Ok(Some(run))
    }

    /// Records the phase and progress; false when the run is no longer running (stopped).
    pub async fn record_progress(
        &self,
        account_id: &str,
        id: &str,
        phase: OptimizationPhase,
        completed: u32,
        total: u32,
        now_ms: i64,
    ) -> anyhow::Result<bool> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE optimizations SET phase = $1, simulations_completed = $2, simulations_total = $3, updated_at = $4 \
             WHERE account_id = $5 AND id = $6 AND status = 'running'",
        )
        .bind(phase.as_str())
        .bind(i64::from(completed))
        .bind(i64::from(total))
        .bind(now_ms)
        .bind(account_id)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(updated == 1)
    }

    /// Records the reflective strategy's generation under way (`None` once it is over).
    /// False when the run is no longer running (stopped meanwhile).
    pub async fn record_generation(
        &self,
        account_id: &str,
        id: &str,
        generation: Option<u32>,
        now_ms: i64,
    ) -> anyhow::Result<bool> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE optimizations SET generation = $1, updated_at = $2 \
             WHERE account_id = $3 AND id = $4 AND status = 'running'",
        )
        .bind(generation.map(i64::from))
        .bind(now_ms)
        .bind(account_id)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(updated == 1)
    }

    /// Stores the control and the proposed variants (once per run).
    pub async fn insert_variants(
        &self,
        account_id: &str,
        optimization_id: &str,
        variants: &[(String, String, String, String)],
    ) -> anyhow::Result<()> {
        let mut tx = self.begin_write().await?;
        for (position, (name, content, change_summary, addresses)) in variants.iter().enumerate() {
            sqlx::query(
                "INSERT INTO optimization_variants (account_id, id, optimization_id, position, name, content, \
                 change_summary, addresses) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(account_id)
            .bind(new_id("var"))
            .bind(optimization_id)
            .bind(i64::try_from(position)?)
            .bind(name)
            .bind(content)
            .bind(change_summary)
            .bind(addresses)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Stores a batch of simulated conversations in one transaction.
    pub async fn insert_simulations(
        &self,
        account_id: &str,
        optimization_id: &str,
        simulations: &[NewSimulation],
        now_ms: i64,
    ) -> anyhow::Result<()> {
        let mut tx = self.begin_write().await?;
        for s in simulations {
            sqlx::query(
                "INSERT INTO simulations (account_id, id, optimization_id, variant_id, cell, persona_id, scenario_id, \
                 messages, scores, overall_score, task_completed, tokens, latency_ms, created_at, retest) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
                 ON CONFLICT (account_id, variant_id, cell) DO NOTHING",
            )
            .bind(account_id)
            .bind(new_id("sim"))
            .bind(optimization_id)
            .bind(&s.variant_row_id)
            .bind(i64::from(s.cell))
            .bind(&s.persona_id)
            .bind(&s.scenario_id)
            .bind(json(&s.messages)?)
            .bind(json(&s.metrics)?)
            .bind(s.overall)
            .bind(flag(s.task_completed))
            .bind(i64::try_from(s.tokens).unwrap_or(i64::MAX))
            .bind(s.latency_ms)
            .bind(now_ms)
            .bind(flag(s.retest))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The stored simulations of a run's test (`retest` false) or of its winner's retest,
    /// scored, by variant row id, in cell order.
    pub async fn scored_simulations(
        &self,
        account_id: &str,
        optimization_id: &str,
        retest: bool,
    ) -> anyhow::Result<Vec<(String, ScoredSimulation)>> {
        let rows = sqlx::query(
            "SELECT id, variant_id, cell, persona_id, scenario_id, scores, overall_score, task_completed, tokens, latency_ms \
             FROM simulations WHERE account_id = $1 AND optimization_id = $2 AND retest = $3 \
             ORDER BY variant_id, cell",
        )
        .bind(account_id)
        .bind(optimization_id)
        .bind(flag(retest))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let persona_id: String = row.try_get("persona_id")?;
                let persona_name = crate::engine::personas::persona(&persona_id)
                    .map(|p| p.name.to_owned())
                    .unwrap_or_else(|| persona_id.clone());
                Ok((
                    row.try_get("variant_id")?,
                    ScoredSimulation {
                        id: row.try_get("id")?,
                        cell: u32::try_from(row.try_get::<i64, _>("cell")?)?,
                        persona_id,
                        persona_name,
                        scenario_id: row.try_get("scenario_id")?,
                        metrics: serde_json::from_str(&row.try_get::<String, _>("scores")?)?,
                        overall: row.try_get("overall_score")?,
                        task_completed: read_flag(row, "task_completed")?,
                        tokens: u64::try_from(row.try_get::<i64, _>("tokens")?)?,
                        latency_ms: row.try_get("latency_ms")?,
                    },
                ))
            })
            .collect()
    }

    /// One simulated conversation of a run of the account.
    pub async fn simulation(
        &self,
        account_id: &str,
        optimization_id: &str,
        simulation_id: &str,
    ) -> StoreResult<SimulationTranscript> {
        let row = sqlx::query(
            "SELECT * FROM simulations WHERE account_id = $1 AND id = $2 AND optimization_id = $3",
        )
        .bind(account_id)
        .bind(simulation_id)
        .bind(optimization_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            return Err(StoreError::not_found("Simulation", simulation_id));
        };
        let parse_row = || -> anyhow::Result<SimulationTranscript> {
            Ok(SimulationTranscript {
                id: row.try_get("id")?,
                variant_row_id: row.try_get("variant_id")?,
                persona_id: row.try_get("persona_id")?,
                scenario_id: row.try_get("scenario_id")?,
                messages: serde_json::from_str(&row.try_get::<String, _>("messages")?)?,
                metrics: serde_json::from_str(&row.try_get::<String, _>("scores")?)?,
                overall: row.try_get("overall_score")?,
                task_completed: read_flag(&row, "task_completed")?,
            })
        };
        Ok(parse_row()?)
    }

    /// Stores each variant's statistics and the run's results, and completes it — unless it
    /// was stopped meanwhile (then returns false and the results are kept as the stop's).
    ///
    /// `optimization.completed` is queued in the same transaction, so subscribers hear of
    /// every completed run and of no run that did not complete, whatever crashes between.
    pub async fn complete_optimization(
        &self,
        run: &OptimizationRecord,
        reports: &[(String, VariantReport)],
        results: &OptimizationResults,
        now_ms: i64,
    ) -> anyhow::Result<bool> {
        let (account_id, id) = (run.account_id.as_str(), run.id.as_str());
        let mut tx = self.begin_write().await?;
        for (row_id, report) in reports {
            sqlx::query(
                "UPDATE optimization_variants SET report = $1 WHERE account_id = $2 AND id = $3",
            )
            .bind(json(report)?)
            .bind(account_id)
            .bind(row_id)
            .execute(&mut *tx)
            .await?;
        }
        let status: String = sqlx::query_scalar(
            "SELECT status FROM optimizations WHERE account_id = $1 AND id = $2",
        )
        .bind(account_id)
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let finished = if status == "running" {
            OptimizationStatus::Completed
        } else {
            OptimizationStatus::Stopped
        };
        if finished == OptimizationStatus::Completed {
            finish_optimization(
                &mut tx,
                account_id,
                id,
                &Finish {
                    status: finished,
                    results: Some(results),
                    error: None,
                },
                now_ms,
            )
            .await?;
            let started = run
                .wire
                .started_at
                .as_deref()
                .and_then(parse_rfc3339)
                .unwrap_or(now_ms);
            queue_event(
                &mut tx,
                &run.account_id,
                &OptimizationCompleted {
                    optimization_id: run.id.clone(),
                    agent_id: run.wire.agent_id.clone(),
                    agent_name: run.wire.agent_name.clone(),
                    results: Some(results.clone()),
                    duration: (now_ms - started).max(0),
                    completed_at: rfc3339(now_ms),
                },
                now_ms,
            )
            .await?;
        } else {
            sqlx::query(
                "UPDATE optimizations SET results = $1, updated_at = $2 WHERE account_id = $3 AND id = $4",
            )
            .bind(json(results)?)
            .bind(now_ms)
            .bind(account_id)
            .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(finished == OptimizationStatus::Completed)
    }

    /// The newest completed, unapplied run of each agent of the account whose winner may
    /// serve live traffic.
    pub async fn live_optimizations(
        &self,
        account_id: &str,
    ) -> anyhow::Result<Vec<OptimizationRecord>> {
        let rows = sqlx::query(
            "SELECT o.*, a.name AS agent_name FROM optimizations o JOIN agents a ON a.account_id = o.account_id AND a.id = o.agent_id \
             WHERE o.account_id = $1 AND o.status = 'completed' AND o.applied_variant_id IS NULL \
             AND o.agent_version = a.version \
             AND o.created_at = (SELECT MAX(created_at) FROM optimizations o2 \
             WHERE o2.account_id = o.account_id AND o2.agent_id = o.agent_id AND o2.status = 'completed') \
             ORDER BY o.created_at DESC",
        )
        .bind(account_id)
        .fetch_all(self.pool())
        .await?;
        let records = rows
            .iter()
            .map(record_from_row)
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(records
            .into_iter()
            .filter(|r| {
                r.wire
                    .results
                    .as_ref()
                    .is_some_and(|res| res.winner_selected)
            })
            .collect())
    }

    /// Live traffic of one arm: the agent's conversations logged with this variant's id
    /// under this optimization (the SDK tags them from `active-variant`).
    pub async fn live_traffic(
        &self,
        account_id: &str,
        agent_id: &str,
        variant_id: &str,
        optimization_id: &str,
    ) -> sqlx::Result<Option<converra_api::optimizations::LiveTraffic>> {
        let (count, quality): (i64, Option<f64>) = sqlx::query_as(
            "SELECT COUNT(*), AVG(quality_score) FROM conversations WHERE account_id = $1 AND agent_id = $2 \
             AND variant_id = $3 AND optimization_id = $4",
        )
        .bind(account_id)
        .bind(agent_id)
        .bind(variant_id)
        .bind(optimization_id)
        .fetch_one(self.pool())
        .await?;
        Ok(
            (count > 0).then(|| converra_api::optimizations::LiveTraffic {
                conversation_count: u64::try_from(count).unwrap_or(0),
                quality_score: quality.map(|q| (q * 10.0).round() / 10.0),
            }),
        )
    }
}
