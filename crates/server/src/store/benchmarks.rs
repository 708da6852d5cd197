//! Benchmarks in the database: the job rows, their progress, results and the state moves
//! the runner in `jobs::benchmarks` and the routes make (claim, cancel, complete, fail,
//! delete). Nothing of a single run is stored: a run interrupted by a stop is rerun.

use converra_api::benchmarks::{
    Benchmark, BenchmarkFilter, BenchmarkProgress, BenchmarkResult, BenchmarkStatus,
};
use converra_api::optimizations::JobError;
use converra_api::Pagination;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::leases::{take_lease, LeasedQueue};
use super::sql::lock_named;
use super::{Backend, SqlBuilder};

use super::paging::{push_newest_first, PageRequest};
use super::usage::{add_usage, UsageDelta};
use super::Store;
use super::{StoreError, StoreResult};
use crate::clock::rfc3339;
use crate::ids::new_id;

/// A validated new benchmark.
#[derive(Debug, Clone)]
pub struct NewBenchmark {
    pub name: String,
    pub agent_ids: Vec<String>,
    /// Set when one agent is compared across models.
    pub models: Option<Vec<String>>,
    pub persona_ids: Vec<String>,
    pub scenario_count: u32,
    pub max_turns: u32,
    pub seed: u64,
    /// The engine serving the account when it was created (the runner records the one
    /// that actually ran it).
    pub engine: String,
}

impl NewBenchmark {
    /// Simulations the benchmark runs: every arm (agent, or model) meets every persona in
    /// every scenario once.
    pub fn total_runs(&self) -> u32 {
        let arms = self.models.as_ref().map_or(self.agent_ids.len(), Vec::len);
        let personas = self.persona_ids.len();
        u32::try_from(arms * personas).unwrap_or(u32::MAX) * self.scenario_count
    }
}

/// Benchmarks running at once in the process.
pub const BENCHMARK_RUNNERS: usize = 2;

/// A benchmark the runner has just moved to `running`.
#[derive(Debug, Clone)]
pub struct ClaimedBenchmark {
    pub account_id: String,
    pub seed: u64,
    pub benchmark: Benchmark,
}

/// What a cancel found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    Cancelled,
    NotFound,
    /// Already finished, in this state.
    Finished(BenchmarkStatus),
}

// Seeds are u64 and the column is a signed BIGINT: stored bit for bit.
fn seed_to_column(seed: u64) -> i64 {
    i64::from_ne_bytes(seed.to_ne_bytes())
}

fn seed_from_column(seed: i64) -> u64 {
    u64::from_ne_bytes(seed.to_ne_bytes())
}

fn benchmark_from_row(row: &AnyRow) -> anyhow::Result<Benchmark> {
    let status: String = row.try_get("status")?;
    let models: Option<String> = row.try_get("models")?;
    let results: Option<String> = row.try_get("results")?;
    let error_code: Option<String> = row.try_get("error_code")?;
    let error_message: Option<String> = row.try_get("error_message")?;
    Ok(Benchmark {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        status: status.parse().map_err(anyhow::Error::msg)?,
        agent_ids: serde_json::from_str(&row.try_get::<String, _>("agent_ids")?)?,
        models: models.as_deref().map(serde_json::from_str).transpose()?,
        persona_ids: serde_json::from_str(&row.try_get::<String, _>("persona_ids")?)?,
        scenario_count: u32::try_from(row.try_get::<i64, _>("scenario_count")?)?,
        max_turns: u32::try_from(row.try_get::<i64, _>("max_turns")?)?,
        progress: BenchmarkProgress {
            completed: u32::try_from(row.try_get::<i64, _>("completed_runs")?)?,
            total: u32::try_from(row.try_get::<i64, _>("total_runs")?)?,
        },
        results: results.as_deref().map(serde_json::from_str).transpose()?,
        winner: row.try_get("winner")?,
        engine: row.try_get("engine")?,
        created_at: rfc3339(row.try_get("created_at")?),
        started_at: row.try_get::<Option<i64>, _>("started_at")?.map(rfc3339),
        completed_at: row.try_get::<Option<i64>, _>("completed_at")?.map(rfc3339),
        error: error_code.map(|code| JobError {
            code,
            message: error_message.unwrap_or_default(),
        }),
    })
}

/// Inserts a queued benchmark inside the caller's transaction. Call `AppState::wake`
/// after the commit.
pub async fn insert_benchmark(
    conn: &mut AnyConnection,
    account_id: &str,
    new: &NewBenchmark,
    now_ms: i64,
) -> StoreResult<Benchmark> {
    let id = new_id("bench");
    let models = new
        .models
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(anyhow::Error::from)?;
    sqlx::query(
        "INSERT INTO benchmarks (id, account_id, name, status, agent_ids, models, persona_ids, \
         scenario_count, max_turns, seed, engine, completed_runs, total_runs, created_at, updated_at) \
         VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7, $8, $9, $10, 0, $11, $12, $12)",
    )
    .bind(&id)
    .bind(account_id)
    .bind(&new.name)
    .bind(serde_json::to_string(&new.agent_ids).map_err(anyhow::Error::from)?)
    .bind(models)
    .bind(serde_json::to_string(&new.persona_ids).map_err(anyhow::Error::from)?)
    .bind(i64::from(new.scenario_count))
    .bind(i64::from(new.max_turns))
    .bind(seed_to_column(new.seed))
    .bind(&new.engine)
    .bind(i64::from(new.total_runs()))
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    benchmark_in(conn, account_id, &id).await
}

/// One benchmark of the account; another account's id is not found, like an unknown one.
pub async fn benchmark_in(
    conn: &mut AnyConnection,
    account_id: &str,
    benchmark_id: &str,
) -> StoreResult<Benchmark> {
    let row = sqlx::query("SELECT * FROM benchmarks WHERE id = $1 AND account_id = $2")
        .bind(benchmark_id)
        .bind(account_id)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => Ok(benchmark_from_row(&row)?),
        None => Err(StoreError::not_found("Benchmark", benchmark_id)),
    }
}

/// Cancels a queued or running benchmark inside the caller's transaction. A running one
/// stops at its next run: the runner's progress update finds it no longer running.
pub async fn cancel_benchmark(
    conn: &mut AnyConnection,
    account_id: &str,
    benchmark_id: &str,
    now_ms: i64,
) -> StoreResult<CancelOutcome> {
    let status: Option<String> =
        sqlx::query_scalar("SELECT status FROM benchmarks WHERE id = $1 AND account_id = $2")
            .bind(benchmark_id)
            .bind(account_id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(status) = status else {
        return Ok(CancelOutcome::NotFound);
    };
    let status: BenchmarkStatus = status.parse().map_err(anyhow::Error::msg)?;
    if status.is_finished() {
        return Ok(CancelOutcome::Finished(status));
    }
    sqlx::query(
        "UPDATE benchmarks SET status = 'cancelled', completed_at = $1, updated_at = $1 \
         WHERE id = $2 AND account_id = $3",
    )
    .bind(now_ms)
    .bind(benchmark_id)
    .bind(account_id)
    .execute(&mut *conn)
    .await?;
    Ok(CancelOutcome::Cancelled)
}

/// Deletes a benchmark inside the caller's transaction; false when the account has no such
/// benchmark. Deleting a running one also stops it: the runner's next progress update
/// finds no row and gives up, so a deleted benchmark never completes nor fires its event.
pub async fn delete_benchmark(
    conn: &mut AnyConnection,
    account_id: &str,
    benchmark_id: &str,
) -> StoreResult<bool> {
    let deleted = sqlx::query("DELETE FROM benchmarks WHERE id = $1 AND account_id = $2")
        .bind(benchmark_id)
        .bind(account_id)
        .execute(&mut *conn)
        .await?;
    Ok(deleted.rows_affected() > 0)
}

/// Records a finished run inside the caller's transaction: results, winner, and the
/// progress at its total. False when the benchmark was cancelled or deleted meanwhile;
/// then nothing changes and no event must be sent.
pub async fn complete_benchmark(
    conn: &mut AnyConnection,
    account_id: &str,
    benchmark_id: &str,
    results: &[BenchmarkResult],
    winner: Option<&str>,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let updated = sqlx::query(
        "UPDATE benchmarks SET status = 'completed', results = $1, winner = $2, \
         completed_runs = total_runs, completed_at = $3, updated_at = $3 \
         WHERE account_id = $4 AND id = $5 AND status = 'running'",
    )
    .bind(serde_json::to_string(results)?)
    .bind(winner)
    .bind(now_ms)
    .bind(account_id)
    .bind(benchmark_id)
    .execute(&mut *conn)
    .await?;
    Ok(updated.rows_affected() > 0)
}

impl Store {
    pub async fn benchmark(&self, account_id: &str, benchmark_id: &str) -> StoreResult<Benchmark> {
        let mut conn = self.pool().acquire().await?;
        benchmark_in(&mut conn, account_id, benchmark_id).await
    }

    /// The account's benchmarks, newest first; `agentId` and `status` narrow the list.
    pub async fn list_benchmarks(
        &self,
        account_id: &str,
        filter: &BenchmarkFilter,
        page: &PageRequest,
    ) -> StoreResult<(Vec<Benchmark>, Pagination)> {
        let mut count = SqlBuilder::new("SELECT COUNT(*) FROM benchmarks WHERE ");
        push_benchmark_filter(&mut count, self.backend(), account_id, filter);
        let total: i64 = count.build_query_scalar().fetch_one(self.pool()).await?;

        let mut query = SqlBuilder::new("SELECT * FROM benchmarks WHERE ");
        push_benchmark_filter(&mut query, self.backend(), account_id, filter);
        push_newest_first(&mut query, "benchmarks", page);
        let rows = query.build().fetch_all(self.pool()).await?;
        let mut benchmarks = rows
            .iter()
            .map(benchmark_from_row)
            .collect::<anyhow::Result<Vec<_>>>()?;
        let created = |b: &Benchmark| crate::clock::parse_rfc3339(&b.created_at).unwrap_or(0);
        let pagination = page.finish(&mut benchmarks, u64::try_from(total).unwrap_or(0), |b| {
            (created(b), b.id.clone())
        });
        Ok((benchmarks, pagination))
    }

    /// Moves the next benchmark to `running` and returns it: fair across accounts (see the
    /// query), at most one per account, and at most [`BENCHMARK_RUNNERS`] in the process.
    pub async fn claim_next_benchmark(
        &self,
        now_ms: i64,
    ) -> anyhow::Result<Option<ClaimedBenchmark>> {
        let mut tx = self.begin_write().await?;
        lock_named(&mut tx, "benchmarks").await?;
        // One running benchmark per account, the oldest queued of an idle account first: an
        // account whose benchmark hangs on its model holds one runner, never all of them.
        let next = sqlx::query(
            "SELECT b.id, b.account_id, b.seed FROM benchmarks b WHERE b.status = 'queued' \
             AND NOT EXISTS (SELECT 1 FROM benchmarks r WHERE r.account_id = b.account_id AND r.status = 'running') \
             ORDER BY b.created_at, b.id LIMIT 1",
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(next) = next else {
            return Ok(None);
        };
        let id: String = next.try_get("id")?;
        let account_id: String = next.try_get("account_id")?;
        let seed = seed_from_column(next.try_get("seed")?);
        sqlx::query(
            "UPDATE benchmarks SET status = 'running', completed_runs = 0, started_at = $1, \
             updated_at = $1 WHERE account_id = $2 AND id = $3",
        )
        .bind(now_ms)
        .bind(&account_id)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
        take_lease(
            &mut tx,
            LeasedQueue::Benchmarks,
            &account_id,
            &id,
            self.instance_id(),
            now_ms,
        )
        .await?;
        let benchmark = benchmark_in(&mut tx, &account_id, &id)
            .await
            .map_err(|err| anyhow::anyhow!("reading the claimed benchmark {id}: {err}"))?;
        tx.commit().await?;
        Ok(Some(ClaimedBenchmark {
            account_id,
            seed,
            benchmark,
        }))
    }

    /// Names the engine that runs the benchmark (the account's settings may have changed
    /// since it was created).
    pub async fn set_benchmark_engine(
        &self,
        account_id: &str,
        benchmark_id: &str,
        engine: &str,
    ) -> anyhow::Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE benchmarks SET engine = $1 WHERE account_id = $2 AND id = $3")
            .bind(engine)
            .bind(account_id)
            .bind(benchmark_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records one more finished run: the progress, and the engine's tokens in the
    /// account's usage (spent whatever happens to the benchmark). Returns whether the
    /// benchmark is still running; false once it was cancelled or deleted, and the runner
    /// stops.
    pub async fn record_benchmark_run(
        &self,
        account_id: &str,
        benchmark_id: &str,
        completed_runs: u32,
        engine_tokens: u64,
        now_ms: i64,
    ) -> anyhow::Result<bool> {
        let mut tx = self.begin_write().await?;
        add_usage(
            &mut tx,
            account_id,
            now_ms,
            UsageDelta {
                tokens: i64::try_from(engine_tokens).unwrap_or(i64::MAX),
                ..UsageDelta::default()
            },
        )
        .await?;
        let updated = sqlx::query(
            "UPDATE benchmarks SET completed_runs = $1, updated_at = $2 \
             WHERE account_id = $3 AND id = $4 AND status = 'running'",
        )
        .bind(i64::from(completed_runs))
        .bind(now_ms)
        .bind(account_id)
        .bind(benchmark_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(updated.rows_affected() > 0)
    }

    /// Marks a running benchmark failed with the reason; a cancelled or deleted one stays
    /// as it is.
    pub async fn fail_benchmark(
        &self,
        account_id: &str,
        benchmark_id: &str,
        code: &str,
        message: &str,
        now_ms: i64,
    ) -> anyhow::Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE benchmarks SET status = 'failed', error_code = $1, error_message = $2, \
             completed_at = $3, updated_at = $3 WHERE account_id = $4 AND id = $5 AND status = 'running'",
        )
        .bind(code)
        .bind(message)
        .bind(now_ms)
        .bind(account_id)
        .bind(benchmark_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn push_benchmark_filter(
    query: &mut SqlBuilder,
    backend: Backend,
    account_id: &str,
    filter: &BenchmarkFilter,
) {
    query.push("account_id = ").push_bind(account_id.to_owned());
    if let Some(agent_id) = &filter.agent_id {
        query
            .push(" AND ")
            .push(backend.json_array_contains("benchmarks.agent_ids"))
            .push_bind(agent_id.clone())
            .push(")");
    }
    if let Some(status) = filter.status {
        query.push(" AND status = ").push_bind(status.as_str());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_survive_the_signed_column() {
        for seed in [0, 1, u64::MAX, 0x8000_0000_0000_0000, 0x5EED_BE7C_0000_0001] {
            assert_eq!(seed_from_column(seed_to_column(seed)), seed);
        }
    }

    #[test]
    fn total_runs_count_every_arm_persona_and_scenario() {
        let mut new = NewBenchmark {
            name: "b".into(),
            agent_ids: vec!["a".into(), "b".into()],
            models: None,
            persona_ids: vec!["p1".into(), "p2".into(), "p3".into()],
            scenario_count: 5,
            max_turns: 8,
            seed: 1,
            engine: "offline".into(),
        };
        assert_eq!(new.total_runs(), 30);
        new.agent_ids.truncate(1);
        new.models = Some(vec!["m1".into(), "m2".into(), "m3".into()]);
        assert_eq!(new.total_runs(), 45);
    }
}
