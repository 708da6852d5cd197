//! The insights queue: conversations wait in `insights_jobs` until the engine has read
//! them; a failure is retried with exponential backoff, then marked failed with its reason.

use converra_api::webhooks::InsightsGenerated;
use std::collections::HashMap;
use std::sync::Arc;

use tokio::task::JoinSet;

use super::{isolated, spawn_worker, BackgroundTask, Panicked};
use crate::clock::rfc3339;
use crate::engine::{AnalysisInput, ConversationAnalysis, Engine, EngineError};
use crate::state::AppState;
use crate::store::insights::{record_insights_failure, save_insights, InsightsJob};
use crate::store::notify::Channel;
use crate::store::sql::{commit_without_waiting_for_disk, lock_all_named};
use crate::store::usage::{add_usage, UsageDelta};
use crate::store::webhooks::queue_event;

/// Conversations taken off the queue per step: one write transaction records them all.
const BATCH: i64 = 64;

pub fn start(state: &AppState) -> BackgroundTask {
    spawn_worker(
        "insights",
        Channel::Insights,
        state.clone(),
        run_due_insights,
    )
}

/// Reads every due conversation of one batch and records the outcome. Returns whether any
/// work was due.
pub async fn run_due_insights(state: AppState) -> anyhow::Result<bool> {
    let now = state.clock.now_ms();
    let jobs = state.store.claim_due_insights(now, BATCH).await?;
    if jobs.is_empty() {
        return Ok(false);
    }
    let mut engines: HashMap<String, Arc<dyn Engine>> = HashMap::new();
    for job in &jobs {
        if !engines.contains_key(&job.account_id) {
            engines.insert(
                job.account_id.clone(),
                state.engine_for(&job.account_id).await?,
            );
        }
    }
    let mut analyses = JoinSet::new();
    for (index, job) in jobs.iter().enumerate() {
        let engine = engines[&job.account_id].clone();
        let messages = job.messages.clone();
        let prompt = job.agent_prompt.clone();
        analyses.spawn(async move {
            let name = engine.name();
            // A panic reading one conversation fails that conversation, not the batch.
            let outcome = isolated(async move {
                engine
                    .analyze(AnalysisInput {
                        messages: &messages,
                        agent_prompt: Some(&prompt),
                    })
                    .await
            })
            .await;
            (index, name, outcome)
        });
    }
    // Recorded as they finish, so one slow reading holds back no other: whatever finished
    // while the last write ran goes in the next one.
    while let Some(first) = analyses.join_next().await {
        let mut finished = vec![first?];
        while let Some(more) = analyses.try_join_next() {
            finished.push(more?);
        }
        record(&state, &jobs, finished).await?;
    }
    Ok(true)
}

/// Writes finished readings (index into `jobs`, engine name, outcome) in one transaction.
async fn record(
    state: &AppState,
    jobs: &[InsightsJob],
    finished: Vec<(usize, String, Analysed)>,
) -> anyhow::Result<()> {
    let now = state.clock.now_ms();
    let mut tx = state.store.begin_write().await?;
    // Readings are derived: if a crash loses this commit, it loses the jobs' removal with
    // it, and the conversations are read again (at worst an `insights.generated` already
    // sent is sent again, as any webhook may be). So the agents' and usage rows this
    // shares with creates are not held through a disk flush.
    commit_without_waiting_for_disk(&mut tx).await?;
    // Two processes recording readings of one account's conversations would update its
    // agents' and usage rows in different orders and deadlock: they take turns per account.
    let accounts: std::collections::BTreeSet<&str> = finished
        .iter()
        .filter_map(|(index, _, _)| jobs.get(*index))
        .map(|job| job.account_id.as_str())
        .collect();
    let turns: Vec<String> = accounts
        .into_iter()
        .map(|account| format!("insights-record:{account}"))
        .collect();
    lock_all_named(&mut tx, &turns).await?;
    let mut deliveries_queued = false;
    for (index, engine, outcome) in finished {
        let Some(job) = jobs.get(index) else {
            continue;
        };
        match outcome {
            Ok(Ok(analysis)) => {
                deliveries_queued |= record_ready(&mut tx, job, &engine, &analysis, now).await?;
            }
            Err(Panicked(message)) => {
                tracing::error!(conversation = %job.conversation_id, panic = %message, "reading a conversation panicked");
                record_insights_failure(
                    &mut tx,
                    job,
                    "INTERNAL_ERROR",
                    "An internal error stopped these insights; it has been logged",
                    None,
                )
                .await?;
            }
            Ok(Err(err)) => {
                let retry_at = err.is_transient().then(|| {
                    now + retry_delay_ms(state.config.insights_retry_base_ms, job.attempts)
                });
                let retrying =
                    record_insights_failure(&mut tx, job, err.code(), &err.to_string(), retry_at)
                        .await?;
                tracing::warn!(conversation = %job.conversation_id, retrying, error = %err, "insights failed");
            }
        }
    }
    tx.commit().await?;
    if deliveries_queued {
        state.wake(Channel::Webhooks);
    }
    Ok(())
}

/// One conversation's reading: the engine's answer, or the panic that cut it short.
type Analysed = Result<Result<ConversationAnalysis, EngineError>, Panicked>;

async fn record_ready(
    conn: &mut sqlx::AnyConnection,
    job: &InsightsJob,
    engine: &str,
    analysis: &ConversationAnalysis,
    now: i64,
) -> anyhow::Result<bool> {
    let Some(id) = save_insights(conn, job, engine, analysis, now).await? else {
        tracing::debug!(conversation = %job.conversation_id, "insights of an older transcript dropped; the newer ones are queued");
        return Ok(false);
    };
    add_usage(
        conn,
        &job.account_id,
        now,
        UsageDelta {
            tokens: i64::try_from(analysis.engine_tokens).unwrap_or(i64::MAX),
            ..UsageDelta::default()
        },
    )
    .await?;
    queue_event(
        conn,
        &job.account_id,
        &InsightsGenerated {
            insights_id: id,
            conversation_id: job.conversation_id.clone(),
            agent_id: job.agent_id.clone(),
            quality_score: analysis.quality_score,
            issue_count: analysis.issues.len(),
            task_completed: analysis.task_completed,
            generated_at: rfc3339(now),
        },
        now,
    )
    .await
}

/// `base`, doubled for each earlier attempt, capped at an hour.
fn retry_delay_ms(base_ms: u64, attempts: i64) -> i64 {
    let factor = 1u64 << attempts.clamp(0, 16);
    i64::try_from(base_ms.saturating_mul(factor).min(3_600_000)).unwrap_or(3_600_000)
}

#[cfg(test)]
mod tests {
    use super::retry_delay_ms;

    #[test]
    fn retries_back_off_exponentially_up_to_an_hour() {
        assert_eq!(retry_delay_ms(30_000, 0), 30_000);
        assert_eq!(retry_delay_ms(30_000, 1), 60_000);
        assert_eq!(retry_delay_ms(30_000, 3), 240_000);
        assert_eq!(retry_delay_ms(30_000, 20), 3_600_000);
    }
}
