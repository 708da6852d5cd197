//! The optimization runner: analyse the agent's issues, generate variants (one rewrite, or
//! the reflective strategy's evolution), play every arm on the same cells (persona ×
//! scenario × replicate) cell by cell, evaluate, retest a winner in validation mode, select.
//! Every step is persisted, so a restart resumes a run where it stopped; an engine error
//! fails it with the engine's code and message.

mod evolution;
mod play;

use std::collections::{BTreeMap, BTreeSet};

use converra_api::optimizations::{
    JobError, OptimizationIntent as WireIntent, OptimizationMode, OptimizationPhase,
    OptimizationResults, OptimizationStatus, OptimizationStrategy,
};
use converra_api::webhooks::{OptimizationFailed, OptimizationStarted, WebhookPayload};

use super::{isolated, spawn_worker, BackgroundTask, Panicked};
use crate::clock::rfc3339;
use crate::clock::DAY_MS;
use crate::engine::logged_tools::LoggedTool;
use crate::engine::optimizer::{
    confirm_winner, evaluate, withdraw_winner, ScoredSimulation, VariantReport,
};
use crate::engine::records::InsightRow;
use crate::engine::{
    Engine, EngineError, IssueFrequency, OptimizationIntent, VariantProposal, VariantRequest,
};
use crate::state::AppState;
use crate::store::notify::Channel;
use crate::store::optimizations::{
    finish_optimization, Finish, OptimizationRecord, VariantRecord, RUNNERS,
};
use crate::store::usage::{add_usage, UsageDelta};
use crate::store::webhooks::queue_event;
use play::{cells, play_cells, Cell, Round};

/// Simulations played at once (each a few engine calls); whole cells are played together.
const PARALLEL_SIMULATIONS: usize = 8;
/// Variant names after the control.
const VARIANT_NAMES: [&str; 5] = [
    "Variant A",
    "Variant B",
    "Variant C",
    "Variant D",
    "Variant E",
];

/// Starts the runners. A run queued again after its process stopped resumes from its
/// stored simulations (see `jobs/leases.rs`).
pub fn start(state: &AppState) -> Vec<BackgroundTask> {
    (0..RUNNERS)
        .map(|_| {
            spawn_worker(
                "optimizations",
                Channel::Optimizations,
                state.clone(),
                run_next,
            )
        })
        .collect()
}

/// Runs the next queued optimization (see `claim_queued_optimization`: fair across
/// accounts) to its end. Returns whether one was queued.
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
    let outcome = {
        let (state, run) = (state.clone(), run.clone());
        isolated(async move { execute(&state, &run, engine.as_ref()).await }).await
    };
    let error = match outcome {
        Ok(Ok(())) => return Ok(true),
        Ok(Err(RunError::Engine(err))) => JobError {
            code: err.code().to_owned(),
            message: err.to_string(),
        },
        Ok(Err(RunError::Job(error))) => error,
        Ok(Err(RunError::Other(err))) => {
            // The run's error is shown to its caller: the cause goes to the log only.
            tracing::error!(optimization = %run.id, error = format!("{err:#}"), "optimization could not run");
            internal_error()
        }
        Err(Panicked(message)) => {
            tracing::error!(optimization = %run.id, panic = %message, "optimization panicked");
            internal_error()
        }
    };
    fail(&state, &run, error).await?;
    Ok(true)
}

fn internal_error() -> JobError {
    JobError {
        code: "INTERNAL_ERROR".to_owned(),
        message: "An internal error stopped this optimization; it has been logged".to_owned(),
    }
}

enum RunError {
    Engine(EngineError),
    /// The run cannot go on, for a reason its caller can act on.
    Job(JobError),
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
    state.wake(Channel::Webhooks);
    Ok(())
}

async fn fail(state: &AppState, run: &OptimizationRecord, error: JobError) -> anyhow::Result<()> {
    tracing::warn!(optimization = %run.id, code = %error.code, message = %error.message, "optimization failed");
    let now = state.clock.now_ms();
    let mut tx = state.store.begin_write().await?;
    let status: String =
        sqlx::query_scalar("SELECT status FROM optimizations WHERE account_id = $1 AND id = $2")
            .bind(&run.account_id)
            .bind(&run.id)
            .fetch_one(&mut *tx)
            .await?;
    if status != "running" {
        // Stopped meanwhile: the stop is what the user asked for; keep it.
        return Ok(());
    }
    finish_optimization(
        &mut tx,
        &run.account_id,
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
    state.wake(Channel::Webhooks);
    Ok(())
}

/// Runs (or resumes) one optimization. Returns early, keeping what was done, when the run is
/// stopped.
async fn execute(
    state: &AppState,
    run: &OptimizationRecord,
    engine: &dyn Engine,
) -> Result<(), RunError> {
    let cells = cells(run);
    let tools = state
        .store
        .logged_tools(&run.account_id, &run.wire.agent_id)
        .await?;
    let planned_arms = run.wire.variant_count + 1;
    let planned = u32::try_from(cells.len()).unwrap_or(u32::MAX) * planned_arms;
    if !progress(state, run, OptimizationPhase::Analyzing, 0, planned).await? {
        return Ok(());
    }
    let mut variants = state.store.variants(&run.account_id, &run.id).await?;
    if variants.is_empty() {
        if !generate_variants(state, run, engine, &cells, &tools).await? {
            return Ok(());
        }
        variants = state.store.variants(&run.account_id, &run.id).await?;
    }
    let arms: Vec<&VariantRecord> = variants.iter().collect();
    let total = u32::try_from(cells.len() * arms.len()).unwrap_or(u32::MAX);
    let test = RoundPlan {
        arms: &arms,
        round: Round::Test,
        completed_before: 0,
        total,
    };
    if !play_round(state, run, engine, &cells, &tools, test).await? {
        // Stopped: what was played is kept and evaluated, so the stop has results.
        store_stopped(state, run, &variants).await?;
        return Ok(());
    }
    if !progress(state, run, OptimizationPhase::Evaluating, total, total).await? {
        return Ok(());
    }
    let (mut reports, mut results) = evaluate_test(state, run, &variants).await?;
    let winner = reports.iter().position(|r| r.is_winner);
    if let (OptimizationMode::Validation, Some(winner)) = (run.wire.mode, winner) {
        let retest_arms = [arms[0], arms[winner]];
        let offset = u32::try_from(cells.len()).unwrap_or(u32::MAX);
        let retest = RoundPlan {
            arms: &retest_arms,
            round: Round::Retest { offset },
            completed_before: total,
            total: total.saturating_add(offset.saturating_mul(2)),
        };
        if !play_round(state, run, engine, &cells, &tools, retest).await? {
            withdraw_winner(&mut reports, &mut results, stopped_reason());
            store_results(state, run, &variants, reports, &results).await?;
            return Ok(());
        }
        let mut retest = retest_by_variant(state, run).await?;
        confirm_winner(
            &mut reports,
            &mut results,
            &retest.remove(&arms[0].row_id).unwrap_or_default(),
            &retest.remove(&arms[winner].row_id).unwrap_or_default(),
            arms[winner].public_id(),
        );
    }
    let played = match results.retest {
        Some(_) => total.saturating_add(u32::try_from(cells.len() * 2).unwrap_or(u32::MAX)),
        None => total,
    };
    if !progress(state, run, OptimizationPhase::Selecting, played, played).await? {
        withdraw_winner(&mut reports, &mut results, stopped_reason());
        store_results(state, run, &variants, reports, &results).await?;
        return Ok(());
    }
    // `optimization.completed` is queued in the transaction that completes the run.
    if store_results(state, run, &variants, reports, &results).await? {
        state.wake(Channel::Webhooks);
    }
    Ok(())
}

/// Records the run's phase and simulation counts; false when it was stopped.
async fn progress(
    state: &AppState,
    run: &OptimizationRecord,
    phase: OptimizationPhase,
    completed: u32,
    total: u32,
) -> anyhow::Result<bool> {
    state
        .store
        .record_progress(
            &run.account_id,
            &run.id,
            phase,
            completed,
            total,
            state.clock.now_ms(),
        )
        .await
}

/// Writes the run's variants with its strategy and stores them with the control. False when
/// the run was stopped meanwhile.
async fn generate_variants(
    state: &AppState,
    run: &OptimizationRecord,
    engine: &dyn Engine,
    cells: &[Cell],
    tools: &[LoggedTool],
) -> Result<bool, RunError> {
    let planned = run.wire.progress.simulations_total;
    let issues = agent_issue_frequencies(state, run).await?;
    if !progress(state, run, OptimizationPhase::Generating, 0, planned).await? {
        return Ok(false);
    }
    let agent = state
        .store
        .agent(&run.account_id, &run.wire.agent_id)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let control = state
        .store
        .agent_versions(&run.account_id, &run.wire.agent_id)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?
        .into_iter()
        .find(|v| v.version == run.wire.agent_version)
        .ok_or_else(|| anyhow::anyhow!("the agent's version {} is gone", run.wire.agent_version))?
        .content;
    let proposals = match run.wire.optimization_strategy {
        OptimizationStrategy::Rewrite => {
            let intent = run.wire.intent.as_ref().map(engine_intent);
            engine
                .propose_variants(VariantRequest {
                    prompt: &control,
                    issues: &issues,
                    intent: intent.as_ref(),
                    count: run.wire.variant_count as usize,
                    seed: run.seed,
                })
                .await?
        }
        OptimizationStrategy::Reflective => {
            let reflector = engine.reflector().ok_or_else(|| {
                RunError::Job(JobError {
                    code: "MODEL_NOT_CONFIGURED".to_owned(),
                    message: "The reflective strategy needs a language model, and this account no longer has one configured (settings: llm)".to_owned(),
                })
            })?;
            let settings = state.store.settings(&run.account_id).await?;
            let plan = evolution::plan(run, agent.constraints.as_deref(), &settings);
            let feedback = evolution::feedback_cells(cells, run.seed);
            let Some(evolved) = evolution::evolve(
                state, run, engine, reflector, tools, &control, &feedback, &plan,
            )
            .await?
            else {
                return Ok(false);
            };
            count_tokens(state, &run.account_id, evolved.engine_tokens).await?;
            if !state
                .store
                .record_generation(&run.account_id, &run.id, None, state.clock.now_ms())
                .await?
            {
                return Ok(false);
            }
            if evolved.survivors.is_empty() {
                return Err(RunError::Job(JobError {
                    code: "NO_CANDIDATES".to_owned(),
                    message: format!(
                        "The reflective optimizer wrote {} candidates and every one dropped one of the agent's constraints; nothing was left to test",
                        evolved.discarded_for_constraints
                    ),
                }));
            }
            evolved.survivors
        }
    };
    let tokens = proposals
        .iter()
        .map(|p| p.engine_tokens)
        .fold(0, u64::saturating_add);
    count_tokens(state, &run.account_id, tokens).await?;
    state
        .store
        .insert_variants(
            &run.account_id,
            &run.id,
            &variant_rows(control, &proposals)?,
        )
        .await?;
    Ok(true)
}

/// The control and the proposals as stored: name, content, change summary, issues answered.
fn variant_rows(
    control: String,
    proposals: &[VariantProposal],
) -> anyhow::Result<Vec<(String, String, String, String)>> {
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
            serde_json::to_string(&proposal.addresses)?,
        ));
    }
    Ok(rows)
}

/// One round of simulations: which arms, and where its progress counts from and to.
struct RoundPlan<'a> {
    arms: &'a [&'a VariantRecord],
    round: Round,
    completed_before: u32,
    total: u32,
}

/// Plays the round's arms on every cell not yet played, whole cells at a time, recording
/// progress. False when the run was stopped.
async fn play_round(
    state: &AppState,
    run: &OptimizationRecord,
    engine: &dyn Engine,
    cells: &[Cell],
    tools: &[LoggedTool],
    plan: RoundPlan<'_>,
) -> Result<bool, RunError> {
    let RoundPlan {
        arms,
        round,
        completed_before,
        total,
    } = plan;
    let retest = matches!(round, Round::Retest { .. });
    let offset = match round {
        Round::Test => 0,
        Round::Retest { offset } => offset,
    };
    let done: BTreeSet<(String, u32)> = state
        .store
        .scored_simulations(&run.account_id, &run.id, retest)
        .await?
        .into_iter()
        .map(|(variant, s)| (variant, s.cell.saturating_sub(offset)))
        .collect();
    let mut completed =
        completed_before.saturating_add(u32::try_from(done.len()).unwrap_or(u32::MAX));
    if !progress(state, run, OptimizationPhase::Simulating, completed, total).await? {
        return Ok(false);
    }
    // A cell counts as played once every arm has met it: cells are stored whole.
    let todo: Vec<&Cell> = cells
        .iter()
        .filter(|c| {
            !arms
                .iter()
                .all(|arm| done.contains(&(arm.row_id.clone(), c.index)))
        })
        .collect();
    let cells_at_once = (PARALLEL_SIMULATIONS / arms.len().max(1)).max(1);
    for chunk in todo.chunks(cells_at_once) {
        let played = play_cells(
            engine,
            arms,
            chunk,
            tools,
            round,
            run.wire.simulation.max_turns,
            run.seed,
        )
        .await?;
        state
            .store
            .insert_simulations(
                &run.account_id,
                &run.id,
                &played.simulations,
                state.clock.now_ms(),
            )
            .await?;
        count_tokens(state, &run.account_id, played.engine_tokens).await?;
        completed =
            completed.saturating_add(u32::try_from(played.simulations.len()).unwrap_or(u32::MAX));
        if !progress(state, run, OptimizationPhase::Simulating, completed, total).await? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The test's simulations of each arm, in the order of `variants`.
async fn arms_of(
    state: &AppState,
    run: &OptimizationRecord,
    variants: &[VariantRecord],
) -> anyhow::Result<Vec<Vec<ScoredSimulation>>> {
    let mut by_variant: BTreeMap<String, Vec<ScoredSimulation>> = BTreeMap::new();
    for (variant, simulation) in state
        .store
        .scored_simulations(&run.account_id, &run.id, false)
        .await?
    {
        by_variant.entry(variant).or_default().push(simulation);
    }
    Ok(variants
        .iter()
        .map(|v| by_variant.remove(&v.row_id).unwrap_or_default())
        .collect())
}

/// The winner's retest simulations (and the control's), by variant row id.
async fn retest_by_variant(
    state: &AppState,
    run: &OptimizationRecord,
) -> anyhow::Result<BTreeMap<String, Vec<ScoredSimulation>>> {
    let mut by_variant: BTreeMap<String, Vec<ScoredSimulation>> = BTreeMap::new();
    for (variant, simulation) in state
        .store
        .scored_simulations(&run.account_id, &run.id, true)
        .await?
    {
        by_variant.entry(variant).or_default().push(simulation);
    }
    Ok(by_variant)
}

/// The statistics of the test, with the winner (if any) named by its public id.
async fn evaluate_test(
    state: &AppState,
    run: &OptimizationRecord,
    variants: &[VariantRecord],
) -> anyhow::Result<(Vec<VariantReport>, OptimizationResults)> {
    let arms = arms_of(state, run, variants).await?;
    let (reports, mut results) = evaluate(&arms, run.wire.simulation.confidence_level, run.seed);
    if let Some((variant, _)) = variants
        .iter()
        .zip(&reports)
        .find(|(_, report)| report.is_winner)
    {
        results.winning_variant_id = Some(variant.public_id().to_owned());
    }
    Ok((reports, results))
}

fn stopped_reason() -> String {
    "the run was stopped before its planned simulations were played; the figures are what was played, and no winner is named from a run cut short".to_owned()
}

/// Evaluates a stopped run: its figures, and no winner.
async fn store_stopped(
    state: &AppState,
    run: &OptimizationRecord,
    variants: &[VariantRecord],
) -> anyhow::Result<()> {
    let (mut reports, mut results) = evaluate_test(state, run, variants).await?;
    withdraw_winner(&mut reports, &mut results, stopped_reason());
    store_results(state, run, variants, reports, &results).await?;
    Ok(())
}

/// Stores the reports and results; true when the run completed (not stopped meanwhile).
async fn store_results(
    state: &AppState,
    run: &OptimizationRecord,
    variants: &[VariantRecord],
    reports: Vec<VariantReport>,
    results: &OptimizationResults,
) -> anyhow::Result<bool> {
    let stored: Vec<(String, VariantReport)> = variants
        .iter()
        .zip(reports)
        .map(|(v, r)| (v.row_id.clone(), r))
        .collect();
    state
        .store
        .complete_optimization(run, &stored, results, state.clock.now_ms())
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
