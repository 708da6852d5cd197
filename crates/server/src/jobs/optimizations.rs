//! The optimization runner: analyse the agent's issues, generate variants, simulate every
//! arm on the same cells (persona × scenario × replicate), evaluate, select. Every step is
//! persisted, so a restart resumes a run where it stopped; an engine error fails it with
//! the engine's code and message.

use std::collections::{BTreeMap, BTreeSet};

use converra_api::optimizations::{
    JobError, OptimizationIntent as WireIntent, OptimizationPhase, OptimizationStatus,
};
use converra_api::webhooks::{OptimizationFailed, OptimizationStarted, WebhookPayload};

use super::{spawn_worker, BackgroundTask};
use crate::clock::rfc3339;
use crate::clock::DAY_MS;
use crate::engine::logged_tools::LoggedTool;
use crate::engine::optimizer::{evaluate, ScoredSimulation};
use crate::engine::personas::{persona, scenarios, Persona, Scenario};
use crate::engine::records::InsightRow;
use crate::engine::rng::SeededRng;
use crate::engine::{
    AnalysisInput, Engine, EngineError, IssueFrequency, OptimizationIntent, SimulationRequest,
    VariantRequest,
};
use crate::state::AppState;
use crate::store::optimizations::{
    finish_optimization, Finish, NewSimulation, OptimizationRecord, VariantRecord,
};
use crate::store::usage::{add_usage, UsageDelta};
use crate::store::webhooks::queue_event;

/// Simulations run at once (each a few engine calls).
const PARALLEL_SIMULATIONS: usize = 8;
/// Variant names after the control.
const VARIANT_NAMES: [&str; 5] = [
    "Variant A",
    "Variant B",
    "Variant C",
    "Variant D",
    "Variant E",
];

pub async fn start(state: &AppState) -> anyhow::Result<BackgroundTask> {
    let resumed = state
        .store
        .requeue_interrupted_optimizations(state.clock.now_ms())
        .await?;
    for id in &resumed {
        tracing::info!(optimization = %id, "resuming an optimization the previous process left running");
    }
    Ok(spawn_worker("optimizations", state.clone(), run_next))
}

/// Runs the oldest queued optimization to its end. Returns whether one was queued.
pub async fn run_next(state: AppState) -> anyhow::Result<bool> {
    let Some(run) = state
        .store
        .claim_queued_optimization(state.clock.now_ms())
        .await?
    else {
        return Ok(false);
    };
    // A resumed run that got past analysing announced its start already.
    if run.wire.progress.phase == OptimizationPhase::Analyzing {
        started_event(&state, &run).await?;
    }
    let engine = state.engine_for(&run.account_id).await?;
    match execute(&state, &run, engine.as_ref()).await {
        Ok(()) => {}
        Err(RunError::Engine(err)) => {
            fail(
                &state,
                &run,
                JobError {
                    code: err.code().to_owned(),
                    message: err.to_string(),
                },
            )
            .await?
        }
        Err(RunError::Other(err)) => {
            // The run's error is shown to its caller: the cause goes to the log only.
            tracing::error!(optimization = %run.id, error = format!("{err:#}"), "optimization could not run");
            fail(
                &state,
                &run,
                JobError {
                    code: "INTERNAL_ERROR".to_owned(),
                    message: "An internal error stopped this optimization; it has been logged"
                        .to_owned(),
                },
            )
            .await?
        }
    }
    Ok(true)
}

enum RunError {
    Engine(EngineError),
    Other(anyhow::Error),
}

impl From<EngineError> for RunError {
    fn from(err: EngineError) -> Self {
        RunError::Engine(err)
    }
}

impl From<anyhow::Error> for RunError {
    fn from(err: anyhow::Error) -> Self {
        RunError::Other(err)
    }
}

impl From<sqlx::Error> for RunError {
    fn from(err: sqlx::Error) -> Self {
        RunError::Other(err.into())
    }
}

async fn started_event(state: &AppState, run: &OptimizationRecord) -> anyhow::Result<()> {
    let now = state.clock.now_ms();
    emit(
        state,
        &run.account_id,
        &OptimizationStarted {
            optimization_id: run.id.clone(),
            agent_id: run.wire.agent_id.clone(),
            agent_name: run.wire.agent_name.clone(),
            mode: run.wire.mode,
            variant_count: run.wire.variant_count,
            started_at: rfc3339(now),
        },
    )
    .await
}

/// Queues one webhook event in a transaction of its own and wakes the sender.
async fn emit<P: WebhookPayload>(
    state: &AppState,
    account_id: &str,
    payload: &P,
) -> anyhow::Result<()> {
    let now = state.clock.now_ms();
    let mut tx = state.store.begin_write().await?;
    queue_event(&mut tx, account_id, payload, now).await?;
    tx.commit().await?;
    state.wake_webhooks();
    Ok(())
}

async fn fail(state: &AppState, run: &OptimizationRecord, error: JobError) -> anyhow::Result<()> {
    tracing::warn!(optimization = %run.id, code = %error.code, message = %error.message, "optimization failed");
    let now = state.clock.now_ms();
    let mut tx = state.store.begin_write().await?;
    let status: String = sqlx::query_scalar("SELECT status FROM optimizations WHERE id = $1")
        .bind(&run.id)
        .fetch_one(&mut *tx)
        .await?;
    if status != "running" {
        // Stopped meanwhile: the stop is what the user asked for; keep it.
        return Ok(());
    }
    finish_optimization(
        &mut tx,
        &run.id,
        &Finish {
            status: OptimizationStatus::Failed,
            results: None,
            error: Some(&error),
        },
        now,
    )
    .await?;
    queue_event(
        &mut tx,
        &run.account_id,
        &OptimizationFailed {
            optimization_id: run.id.clone(),
            agent_id: run.wire.agent_id.clone(),
            error,
            failed_at: rfc3339(now),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    state.wake_webhooks();
    Ok(())
}

/// The cells every arm is simulated on: personas × scenarios × replicates, in a fixed order.
#[derive(Debug, Clone)]
pub struct Cell {
    pub index: u32,
    pub persona: &'static Persona,
    pub scenario: &'static Scenario,
}

pub fn cells(run: &OptimizationRecord) -> Vec<Cell> {
    let personas: Vec<&'static Persona> = run
        .wire
        .persona_ids
        .iter()
        .filter_map(|id| persona(id))
        .collect();
    let plan = run.wire.simulation;
    let chosen: Vec<&'static Scenario> = scenarios()
        .iter()
        .take(plan.scenarios_per_simulation as usize)
        .collect();
    let total = plan.conversations_per_variant as usize;
    let mut out = Vec::with_capacity(total);
    if personas.is_empty() || chosen.is_empty() {
        return out;
    }
    // Round-robin over persona × scenario pairs, so any prefix is balanced.
    let pairs: Vec<(&'static Persona, &'static Scenario)> = personas
        .iter()
        .flat_map(|p| chosen.iter().map(move |s| (*p, *s)))
        .collect();
    for index in 0..total {
        let (persona, scenario) = pairs[index % pairs.len()];
        out.push(Cell {
            index: u32::try_from(index).unwrap_or(u32::MAX),
            persona,
            scenario,
        });
    }
    out
}

async fn execute(
    state: &AppState,
    run: &OptimizationRecord,
    engine: &dyn Engine,
) -> Result<(), RunError> {
    let now = || state.clock.now_ms();
    let cells = cells(run);
    let arms = run.wire.variant_count + 1;
    let total = u32::try_from(cells.len()).unwrap_or(u32::MAX) * arms;
    if !state
        .store
        .record_progress(&run.id, OptimizationPhase::Analyzing, 0, total, now())
        .await?
    {
        return Ok(());
    }
    let mut variants = state.store.variants(&run.id).await?;
    if variants.is_empty() {
        let issues = agent_issue_frequencies(state, run).await?;
        if !state
            .store
            .record_progress(&run.id, OptimizationPhase::Generating, 0, total, now())
            .await?
        {
            return Ok(());
        }
        let control = state
            .store
            .agent_versions(&run.account_id, &run.wire.agent_id)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?
            .into_iter()
            .find(|v| v.version == run.wire.agent_version)
            .ok_or_else(|| {
                anyhow::anyhow!("the agent's version {} is gone", run.wire.agent_version)
            })?
            .content;
        let intent = run.wire.intent.as_ref().map(engine_intent);
        let proposals = engine
            .propose_variants(VariantRequest {
                prompt: &control,
                issues: &issues,
                intent: intent.as_ref(),
                count: run.wire.variant_count as usize,
                seed: run.seed,
            })
            .await?;
        let tokens = proposals
            .iter()
            .map(|p| p.engine_tokens)
            .fold(0, u64::saturating_add);
        count_tokens(state, &run.account_id, tokens).await?;
        let mut rows = vec![(
            "Control".to_owned(),
            control,
            "The agent's current prompt, unchanged.".to_owned(),
            "[]".to_owned(),
        )];
        for (proposal, name) in proposals.iter().zip(VARIANT_NAMES) {
            rows.push((
                name.to_owned(),
                proposal.content.clone(),
                proposal.change_summary.clone(),
                serde_json::to_string(&proposal.addresses).map_err(anyhow::Error::from)?,
            ));
        }
        state.store.insert_variants(&run.id, &rows).await?;
        variants = state.store.variants(&run.id).await?;
    }

    let done: BTreeSet<(String, u32)> = state
        .store
        .scored_simulations(&run.id)
        .await?
        .into_iter()
        .map(|(variant, s)| (variant, s.cell))
        .collect();
    let mut completed = u32::try_from(done.len()).unwrap_or(u32::MAX);
    let todo: Vec<(&VariantRecord, &Cell)> = variants
        .iter()
        .flat_map(|v| cells.iter().map(move |c| (v, c)))
        .filter(|(v, c)| !done.contains(&(v.row_id.clone(), c.index)))
        .collect();
    if !state
        .store
        .record_progress(
            &run.id,
            OptimizationPhase::Simulating,
            completed,
            total,
            now(),
        )
        .await?
    {
        return Ok(());
    }
    let max_turns = run.wire.simulation.max_turns;
    let tools = state
        .store
        .logged_tools(&run.account_id, &run.wire.agent_id)
        .await?;
    for chunk in todo.chunks(PARALLEL_SIMULATIONS.max(1)) {
        let mut batch = Vec::with_capacity(chunk.len());
        let mut tokens: u64 = 0;
        let results = simulate_chunk(engine, chunk, max_turns, &tools, run.seed).await;
        for result in results {
            let (simulation, engine_tokens) = result?;
            tokens = tokens.saturating_add(engine_tokens);
            batch.push(simulation);
        }
        state
            .store
            .insert_simulations(&run.id, &batch, now())
            .await?;
        count_tokens(state, &run.account_id, tokens).await?;
        completed += u32::try_from(batch.len()).unwrap_or(u32::MAX);
        if !state
            .store
            .record_progress(
                &run.id,
                OptimizationPhase::Simulating,
                completed,
                total,
                now(),
            )
            .await?
        {
            // Stopped: what was simulated is kept; evaluate it so the stop has results.
            evaluate_and_store(state, run, &variants).await?;
            return Ok(());
        }
    }

    if !state
        .store
        .record_progress(
            &run.id,
            OptimizationPhase::Evaluating,
            completed,
            total,
            now(),
        )
        .await?
    {
        return Ok(());
    }
    // `optimization.completed` was queued in the transaction that completed the run.
    if evaluate_and_store(state, run, &variants).await? {
        state.wake_webhooks();
    }
    Ok(())
}

/// Simulates and scores a chunk of (arm, cell) pairs concurrently, in input order.
async fn simulate_chunk(
    engine: &dyn Engine,
    chunk: &[(&VariantRecord, &Cell)],
    max_turns: u32,
    tools: &[LoggedTool],
    seed: u64,
) -> Vec<Result<(NewSimulation, u64), EngineError>> {
    // Polled together on this task (the engine is borrowed, so not spawned): a model
    // engine's calls overlap, up to its client's concurrency limit.
    let futures = chunk.iter().map(|(variant, cell)| {
        let prompt = variant.content.clone();
        let variant_row_id = variant.row_id.clone();
        async move {
            let cell_seed = SeededRng::derive(seed, &format!("cell:{}", cell.index)).next_u64();
            let simulated = engine
                .simulate(SimulationRequest {
                    prompt: &prompt,
                    persona: cell.persona,
                    scenario: cell.scenario,
                    max_turns,
                    tools,
                    seed: cell_seed,
                })
                .await?;
            let analysis = engine
                .analyze(AnalysisInput {
                    messages: &simulated.messages,
                    agent_prompt: Some(&prompt),
                })
                .await?;
            let engine_tokens = simulated
                .engine_tokens
                .saturating_add(analysis.engine_tokens);
            Ok((
                NewSimulation {
                    variant_row_id,
                    cell: cell.index,
                    persona_id: cell.persona.id.to_owned(),
                    scenario_id: cell.scenario.id.to_owned(),
                    tokens: simulated.agent_tokens(),
                    latency_ms: simulated.mean_latency_ms(),
                    overall: analysis.metrics.overall(),
                    metrics: analysis.metrics,
                    task_completed: analysis.task_completed,
                    messages: simulated.messages,
                },
                engine_tokens,
            ))
        }
    });
    join_all(futures.collect()).await
}

/// Polls the futures together and returns their outputs in order.
async fn join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in pinned.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

/// Evaluates what was simulated and stores it; true when the run completed (not stopped).
async fn evaluate_and_store(
    state: &AppState,
    run: &OptimizationRecord,
    variants: &[VariantRecord],
) -> anyhow::Result<bool> {
    let mut by_variant: BTreeMap<String, Vec<ScoredSimulation>> = BTreeMap::new();
    for (variant, simulation) in state.store.scored_simulations(&run.id).await? {
        by_variant.entry(variant).or_default().push(simulation);
    }
    let arms: Vec<Vec<ScoredSimulation>> = variants
        .iter()
        .map(|v| by_variant.remove(&v.row_id).unwrap_or_default())
        .collect();
    let _ = state
        .store
        .record_progress(
            &run.id,
            OptimizationPhase::Selecting,
            run.wire.progress.simulations_total,
            run.wire.progress.simulations_total,
            state.clock.now_ms(),
        )
        .await;
    let (reports, mut results) = evaluate(&arms, run.wire.simulation.confidence_level, run.seed);
    if let Some((variant, _)) = variants
        .iter()
        .zip(&reports)
        .find(|(_, report)| report.is_winner)
    {
        results.winning_variant_id = Some(variant.public_id().to_owned());
    }
    let stored: Vec<(String, crate::engine::optimizer::VariantReport)> = variants
        .iter()
        .zip(reports)
        .map(|(v, r)| (v.row_id.clone(), r))
        .collect();
    state
        .store
        .complete_optimization(run, &stored, &results, state.clock.now_ms())
        .await
}

async fn count_tokens(state: &AppState, account_id: &str, tokens: u64) -> anyhow::Result<()> {
    if tokens == 0 {
        return Ok(());
    }
    let mut tx = state.store.begin_write().await?;
    add_usage(
        &mut tx,
        account_id,
        state.clock.now_ms(),
        UsageDelta {
            tokens: i64::try_from(tokens).unwrap_or(i64::MAX),
            ..UsageDelta::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn engine_intent(intent: &WireIntent) -> OptimizationIntent {
    OptimizationIntent {
        target_improvements: intent.target_improvements.clone(),
        hypothesis: intent.hypothesis.clone(),
    }
}

/// The agent's issues over the last 30 days, most frequent first.
async fn agent_issue_frequencies(
    state: &AppState,
    run: &OptimizationRecord,
) -> anyhow::Result<Vec<IssueFrequency>> {
    let now = state.clock.now_ms();
    let from = now - 30 * DAY_MS;
    let rows: Vec<InsightRow> = state
        .store
        .insight_rows(&run.account_id, Some(&run.wire.agent_id), from, now + 1)
        .await?;
    let issues = state
        .store
        .issue_rows(&run.account_id, Some(&run.wire.agent_id), from, now + 1)
        .await?;
    let mut counts: BTreeMap<crate::engine::IssueKind, u64> = BTreeMap::new();
    for issue in &issues {
        *counts.entry(issue.kind).or_default() += 1;
    }
    let analysed = rows.len().max(1) as f64;
    let mut frequencies: Vec<IssueFrequency> = counts
        .into_iter()
        .map(|(kind, count)| IssueFrequency {
            kind,
            frequency: count as f64 / analysed,
        })
        .collect();
    frequencies.sort_by(|a, b| b.frequency.total_cmp(&a.frequency));
    Ok(frequencies)
}
