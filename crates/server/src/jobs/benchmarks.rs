//! The benchmark runner: takes queued benchmarks one at a time, plays every arm (an agent,
//! or one agent on one model) against the same personas in the same scenarios, scores each
//! conversation with the account's engine and stores per-arm means and the winner.
//!
//! Restart policy: a benchmark left `running` by a previous process is put back to
//! `queued` when the worker starts and rerun from scratch. Its cells are seeded from the
//! benchmark's seed alone, so the rerun meets the same users as the interrupted run would
//! have (the offline engine gives the very same numbers); keeping no per-run rows keeps
//! the table and the runner simple, and a benchmark is minutes of work at most.

use std::sync::Arc;

use converra_api::benchmarks::BenchmarkResult;
use converra_api::insights::Metric;
use converra_api::webhooks::BenchmarkCompleted;
use tokio::task::JoinSet;

use super::{isolated, spawn_worker, BackgroundTask, Panicked};
use crate::clock::rfc3339;
use crate::engine::personas::{persona, scenarios};
use crate::engine::rng::SeededRng;
use crate::engine::{
    AnalysisInput, Engine, EngineError, MetricScores, Persona, Scenario, SimulationRequest,
};
use crate::state::AppState;
use crate::store::benchmarks::{complete_benchmark, ClaimedBenchmark, BENCHMARK_RUNNERS};
use crate::store::notify::Channel;
use crate::store::webhooks::queue_event;
use crate::store::StoreError;

/// The seed every benchmark gets: one fixed suite, so that an agent meets the same users
/// in every benchmark and two benchmarks of the same agents give the same numbers.
pub const SUITE_SEED: u64 = 0x5EED_BE7C_0000_0001;

/// Simulations of one benchmark in flight at once: a model engine spends most of a run
/// waiting on the network (its client caps its own concurrency too).
const CONCURRENCY: usize = 4;

/// Starts the runners. A benchmark queued again after its process stopped is rerun from
/// the start (see `jobs/leases.rs`).
pub fn start(state: &AppState) -> Vec<BackgroundTask> {
    (0..BENCHMARK_RUNNERS)
        .map(|_| {
            spawn_worker(
                "benchmarks",
                Channel::Benchmarks,
                state.clone(),
                run_next_benchmark,
            )
        })
        .collect()
}

/// Runs the oldest queued benchmark to its end (completed, failed, or stopped because it
/// was cancelled or deleted). Returns whether there was one.
pub async fn run_next_benchmark(state: AppState) -> anyhow::Result<bool> {
    let Some(claimed) = state
        .store
        .claim_next_benchmark(state.clock.now_ms())
        .await?
    else {
        return Ok(false);
    };
    let id = claimed.benchmark.id.clone();
    let outcome = {
        let (state, claimed) = (state.clone(), claimed.clone());
        isolated(async move { run(&state, &claimed).await }).await
    };
    let outcome = outcome.unwrap_or_else(|Panicked(message)| {
        Err(RunError::Internal(anyhow::anyhow!("panicked: {message}")))
    });
    match outcome {
        Ok(Some(results)) => record_completion(&state, &claimed, results).await?,
        Ok(None) => tracing::info!(benchmark = %id, "benchmark stopped: cancelled or deleted"),
        Err(RunError::Refused { code, message }) => {
            tracing::warn!(benchmark = %id, code, %message, "benchmark failed");
            state
                .store
                .fail_benchmark(
                    &claimed.account_id,
                    &id,
                    code,
                    &message,
                    state.clock.now_ms(),
                )
                .await?;
        }
        Err(RunError::Engine(err)) => {
            tracing::warn!(benchmark = %id, error = %err, "benchmark failed on the engine");
            state
                .store
                .fail_benchmark(
                    &claimed.account_id,
                    &id,
                    err.code(),
                    &err.to_string(),
                    state.clock.now_ms(),
                )
                .await?;
        }
        Err(RunError::Internal(err)) => {
            // Failed rather than left running, or it would hold the runner's attention
            // forever; the cause goes to the log, not to the caller.
            state
                .store
                .fail_benchmark(
                    &claimed.account_id,
                    &id,
                    "INTERNAL_ERROR",
                    "An internal error stopped this benchmark; it has been logged",
                    state.clock.now_ms(),
                )
                .await?;
            return Err(err.context(format!("running benchmark {id}")));
        }
    }
    Ok(true)
}

/// Why a run ended without results.
enum RunError {
    /// The benchmark cannot run as it stands (an agent or persona is gone, models without
    /// a model engine).
    Refused {
        code: &'static str,
        message: String,
    },
    Engine(EngineError),
    Internal(anyhow::Error),
}

impl From<anyhow::Error> for RunError {
    fn from(err: anyhow::Error) -> Self {
        RunError::Internal(err)
    }
}

/// One side of the comparison.
struct Arm {
    agent_id: String,
    agent_name: String,
    prompt: Arc<str>,
    /// Set when the benchmark compares models.
    model: Option<String>,
    /// Plays the conversations: the model's engine, or the account's.
    player: Arc<dyn Engine>,
}

/// One conversation to play: an arm meeting a persona in a scenario.
struct Cell {
    persona: Persona,
    scenario: Scenario,
    /// Derived from the benchmark's seed and the cell, never the arm: every arm meets the
    /// same user.
    seed: u64,
}

/// What one played and scored conversation contributes.
#[derive(Debug, Clone)]
struct RunOutcome {
    metrics: MetricScores,
    task_completed: bool,
    /// `None` when no assistant turn reported a latency.
    latency_ms: Option<f64>,
    engine_tokens: u64,
}

/// Plays every arm in every cell. `Ok(None)` when the benchmark was cancelled or deleted
/// on the way.
async fn run(
    state: &AppState,
    claimed: &ClaimedBenchmark,
) -> Result<Option<Vec<BenchmarkResult>>, RunError> {
    let benchmark = &claimed.benchmark;
    // The account's engine judges every conversation, so arms on different models are
    // scored by the same reader.
    let judge = state.engine_for(&claimed.account_id).await?;
    state
        .store
        .set_benchmark_engine(&claimed.account_id, &benchmark.id, &judge.name())
        .await?;
    let arms = arms(state, claimed, &judge).await?;
    let cells = cells(claimed)?;

    let mut runs = Vec::with_capacity(arms.len() * cells.len());
    for arm in 0..arms.len() {
        for cell in 0..cells.len() {
            runs.push((arm, cell));
        }
    }
    let cells = Arc::new(cells);
    let max_turns = benchmark.max_turns;
    let spawn_run = |in_flight: &mut JoinSet<(usize, Result<RunOutcome, EngineError>)>,
                     index: usize| {
        let (arm_index, cell_index) = runs[index];
        let arm = &arms[arm_index];
        let (player, judge, prompt, cells) = (
            arm.player.clone(),
            judge.clone(),
            arm.prompt.clone(),
            cells.clone(),
        );
        in_flight.spawn(async move {
            let outcome = play(&*player, &*judge, &prompt, &cells[cell_index], max_turns).await;
            (index, outcome)
        });
    };

    let mut outcomes: Vec<Option<RunOutcome>> = vec![None; runs.len()];
    let mut in_flight = JoinSet::new();
    let mut next = 0;
    while next < runs.len().min(CONCURRENCY) {
        spawn_run(&mut in_flight, next);
        next += 1;
    }
    let mut completed = 0u32;
    while let Some(joined) = in_flight.join_next().await {
        let (index, outcome) = joined.map_err(anyhow::Error::from)?;
        // Dropping `in_flight` on the way out aborts the runs still playing.
        let outcome = outcome.map_err(RunError::Engine)?;
        completed += 1;
        let still_running = state
            .store
            .record_benchmark_run(
                &claimed.account_id,
                &benchmark.id,
                completed,
                outcome.engine_tokens,
                state.clock.now_ms(),
            )
            .await?;
        if !still_running {
            return Ok(None);
        }
        outcomes[index] = Some(outcome);
        if next < runs.len() {
            spawn_run(&mut in_flight, next);
            next += 1;
        }
    }

    let cells_per_arm = cells.len();
    let results = arms
        .iter()
        .enumerate()
        .map(|(arm_index, arm)| {
            let start = arm_index * cells_per_arm;
            let played: Vec<&RunOutcome> = outcomes[start..start + cells_per_arm]
                .iter()
                .flatten()
                .collect();
            summarize(arm, &played)
        })
        .collect();
    Ok(Some(results))
}

/// Plays one conversation and scores it.
async fn play(
    player: &dyn Engine,
    judge: &dyn Engine,
    prompt: &str,
    cell: &Cell,
    max_turns: u32,
) -> Result<RunOutcome, EngineError> {
    let conversation = player
        .simulate(SimulationRequest {
            prompt,
            persona: &cell.persona,
            scenario: &cell.scenario,
            max_turns,
            tools: &[],
            seed: cell.seed,
        })
        .await?;
    let analysis = judge
        .analyze(AnalysisInput {
            messages: &conversation.messages,
            agent_prompt: Some(prompt),
        })
        .await?;
    let has_latency = conversation.messages.iter().any(|m| m.latency_ms.is_some());
    Ok(RunOutcome {
        metrics: analysis.metrics,
        task_completed: analysis.task_completed,
        latency_ms: has_latency.then(|| conversation.mean_latency_ms()),
        engine_tokens: conversation
            .engine_tokens
            .saturating_add(analysis.engine_tokens),
    })
}

/// The arms of the benchmark with their current prompts: each agent, or the one agent on
/// each model.
async fn arms(
    state: &AppState,
    claimed: &ClaimedBenchmark,
    judge: &Arc<dyn Engine>,
) -> Result<Vec<Arm>, RunError> {
    let benchmark = &claimed.benchmark;
    let mut agents = Vec::with_capacity(benchmark.agent_ids.len());
    for agent_id in &benchmark.agent_ids {
        match state.store.agent(&claimed.account_id, agent_id).await {
            Ok(agent) => agents.push(agent),
            Err(StoreError::NotFound { .. }) => {
                return Err(RunError::Refused {
                    code: "AGENT_NOT_FOUND",
                    message: format!("Agent '{agent_id}' no longer exists"),
                })
            }
            Err(err) => return Err(RunError::Internal(err.into())),
        }
    }
    let Some(models) = &benchmark.models else {
        return Ok(agents
            .into_iter()
            .map(|agent| Arm {
                agent_id: agent.id,
                agent_name: agent.name,
                prompt: Arc::from(agent.content),
                model: None,
                player: judge.clone(),
            })
            .collect());
    };
    if !judge.name().starts_with("model:") {
        return Err(RunError::Refused {
            code: "MODEL_ENGINE_REQUIRED",
            message: "This benchmark compares models, but the account is now served by the \
                      offline engine, which plays every model the same; connect a model in \
                      settings.llm and create the benchmark again"
                .to_owned(),
        });
    }
    let settings = state.store.settings(&claimed.account_id).await?;
    let key = state.store.llm_api_key(&claimed.account_id).await?;
    let Some(agent) = agents.into_iter().next() else {
        return Err(RunError::Internal(anyhow::anyhow!(
            "benchmark {} compares models but names no agent",
            benchmark.id
        )));
    };
    let prompt: Arc<str> = Arc::from(agent.content);
    Ok(models
        .iter()
        .map(|model| {
            let mut settings = settings.clone();
            settings.llm.model = Some(model.clone());
            Arm {
                agent_id: agent.id.clone(),
                agent_name: agent.name.clone(),
                prompt: prompt.clone(),
                model: Some(model.clone()),
                player: state
                    .engines
                    .for_settings(&claimed.account_id, &settings, key.clone()),
            }
        })
        .collect())
}

/// The first `scenarioCount` scenarios × the benchmark's personas, scenario by scenario.
fn cells(claimed: &ClaimedBenchmark) -> Result<Vec<Cell>, RunError> {
    let benchmark = &claimed.benchmark;
    let mut personas = Vec::with_capacity(benchmark.persona_ids.len());
    for id in &benchmark.persona_ids {
        match persona(id) {
            Some(found) => personas.push(found.clone()),
            None => {
                return Err(RunError::Refused {
                    code: "UNKNOWN_PERSONA",
                    message: format!("Persona '{id}' is no longer in the catalog"),
                })
            }
        }
    }
    let mut cells = Vec::new();
    for scenario in scenarios().iter().take(benchmark.scenario_count as usize) {
        for persona in &personas {
            let seed = SeededRng::derive(claimed.seed, &format!("{}/{}", scenario.id, persona.id))
                .next_u64();
            cells.push(Cell {
                persona: persona.clone(),
                scenario: scenario.clone(),
                seed,
            });
        }
    }
    Ok(cells)
}

/// One arm's means over its conversations.
fn summarize(arm: &Arm, played: &[&RunOutcome]) -> BenchmarkResult {
    let count = played.len().max(1) as f64;
    let overall = played.iter().map(|r| r.metrics.overall()).sum::<f64>() / count;
    let passed = played.iter().filter(|r| r.task_completed).count() as f64;
    let metrics = Metric::ALL
        .iter()
        .map(|metric| {
            let mean = played.iter().map(|r| r.metrics.get(*metric)).sum::<f64>() / count;
            (metric.as_str().to_owned(), mean)
        })
        .collect();
    let latencies: Vec<f64> = played.iter().filter_map(|r| r.latency_ms).collect();
    let avg_latency_ms =
        (!latencies.is_empty()).then(|| latencies.iter().sum::<f64>() / latencies.len() as f64);
    BenchmarkResult {
        agent_id: arm.agent_id.clone(),
        agent_name: arm.agent_name.clone(),
        model: arm.model.clone(),
        overall_score: overall,
        pass_rate: passed / count,
        metrics,
        avg_latency_ms,
        conversation_count: u32::try_from(played.len()).unwrap_or(u32::MAX),
    }
}

/// The best overall score: the agent's id, or the model's name when models are compared.
/// A tie goes to the arm listed first.
fn winner(results: &[BenchmarkResult]) -> Option<String> {
    let mut best: Option<&BenchmarkResult> = None;
    for result in results {
        if best.is_none_or(|b| result.overall_score > b.overall_score) {
            best = Some(result);
        }
    }
    best.map(|b| b.model.clone().unwrap_or_else(|| b.agent_id.clone()))
}

/// Stores the results and queues `benchmark.completed` in the same transaction.
async fn record_completion(
    state: &AppState,
    claimed: &ClaimedBenchmark,
    results: Vec<BenchmarkResult>,
) -> anyhow::Result<()> {
    let benchmark = &claimed.benchmark;
    let winner = winner(&results);
    let now = state.clock.now_ms();
    let mut tx = state.store.begin_write().await?;
    if !complete_benchmark(
        &mut tx,
        &claimed.account_id,
        &benchmark.id,
        &results,
        winner.as_deref(),
        now,
    )
    .await?
    {
        // Cancelled or deleted after its last run: nothing to record, nothing to announce.
        return Ok(());
    }
    queue_event(
        &mut tx,
        &claimed.account_id,
        &BenchmarkCompleted {
            benchmark_id: benchmark.id.clone(),
            name: benchmark.name.clone(),
            agent_ids: benchmark.agent_ids.clone(),
            winner,
            results,
            completed_at: rfc3339(now),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    state.wake(Channel::Webhooks);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(agent: &str, model: Option<&str>, score: f64) -> BenchmarkResult {
        BenchmarkResult {
            agent_id: agent.into(),
            agent_name: agent.into(),
            model: model.map(str::to_owned),
            overall_score: score,
            pass_rate: 1.0,
            metrics: Default::default(),
            avg_latency_ms: None,
            conversation_count: 1,
        }
    }

    #[test]
    fn the_winner_is_the_best_score_and_a_tie_goes_to_the_first() {
        let results = [
            result("a", None, 70.0),
            result("b", None, 80.0),
            result("c", None, 80.0),
        ];
        assert_eq!(winner(&results).as_deref(), Some("b"));
        assert_eq!(winner(&[]), None);
        let models = [result("a", Some("m1"), 60.0), result("a", Some("m2"), 65.0)];
        assert_eq!(winner(&models).as_deref(), Some("m2"));
    }
}
