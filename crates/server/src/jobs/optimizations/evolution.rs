//! The reflective strategy's generating phase: the control evolves on feedback cells (seeds
//! of their own, never the test's), and the survivors become the run's variants, to be
//! tested on the held-out cells like any variant.

use converra_api::settings::Settings;

use super::play::Cell;
use crate::engine::logged_tools::LoggedTool;
use crate::engine::reflective::{
    constraint_lines, Evolution, EvolutionPlan, Evolver, FeedbackCell, Reflector, ScoreWeights,
    Trial, TrialRunner,
};
use crate::engine::rng::SeededRng;
use crate::engine::{Engine, EngineError, EngineFuture, JudgeRequest, SimulationRequest};
use crate::state::AppState;
use crate::store::optimizations::OptimizationRecord;

/// Feedback cells at most: each candidate plays them all, so they set evolution's cost.
const MAX_FEEDBACK_CELLS: usize = 20;
/// Worst trials the model reads per mutation.
const FAILURES_SHOWN: usize = 3;

/// Plays and judges a candidate exactly as the test will, one cell at a time.
struct JudgedTrials<'a> {
    engine: &'a dyn Engine,
    tools: &'a [LoggedTool],
    max_turns: u32,
}

impl TrialRunner for JudgedTrials<'_> {
    fn run<'a>(&'a self, prompt: &'a str, cell: &'a FeedbackCell) -> EngineFuture<'a, Trial> {
        Box::pin(async move {
            let conversation = self
                .engine
                .simulate(SimulationRequest {
                    prompt,
                    persona: cell.persona,
                    scenario: cell.scenario,
                    max_turns: self.max_turns,
                    tools: self.tools,
                    seed: cell.seed,
                })
                .await?;
            let verdict = self
                .engine
                .judge(JudgeRequest {
                    transcripts: &[conversation.messages.as_slice()],
                    seed: SeededRng::derive(cell.seed, "judge").next_u64(),
                })
                .await?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    EngineError::MalformedReply("the judge returned no verdict".to_owned())
                })?;
            Ok(Trial {
                metrics: verdict.metrics,
                engine_tokens: conversation
                    .engine_tokens
                    .saturating_add(verdict.engine_tokens),
                messages: conversation.messages,
                reasons: verdict.reasons,
            })
        })
    }
}

/// The feedback cells: the test's persona × scenario pairs, in the same order, under seeds
/// drawn apart from the test's.
pub fn feedback_cells(test_cells: &[Cell], run_seed: u64) -> Vec<FeedbackCell> {
    test_cells
        .iter()
        .take(MAX_FEEDBACK_CELLS)
        .map(|cell| FeedbackCell {
            persona: cell.persona,
            scenario: cell.scenario,
            seed: SeededRng::derive(run_seed, &format!("feedback:{}", cell.index)).next_u64(),
        })
        .collect()
}

/// How the run evolves: its generations, the agent's constraints, the team's objectives.
pub fn plan(
    run: &OptimizationRecord,
    constraints: Option<&str>,
    settings: &Settings,
) -> EvolutionPlan {
    let objectives: Vec<&str> = [
        settings.general.objectives.as_deref(),
        settings.general.kpis.as_deref(),
    ]
    .into_iter()
    .flatten()
    .map(str::trim)
    .filter(|text| !text.is_empty())
    .collect();
    let objectives = (!objectives.is_empty()).then(|| objectives.join("\n"));
    let variants = run.wire.variant_count as usize;
    EvolutionPlan {
        generations: run.wire.max_iterations.max(1),
        // At least two, so that a generation can try more than one parent.
        children_per_generation: variants.max(2),
        survivors: variants,
        constraints: constraint_lines(constraints),
        weights: objectives
            .as_deref()
            .map(ScoreWeights::from_objectives)
            .unwrap_or_default(),
        objectives,
        failures_shown: FAILURES_SHOWN,
        seed: SeededRng::derive(run.seed, "evolution").next_u64(),
    }
}

/// Evolves `control`; `None` when the run was stopped between generations.
#[allow(clippy::too_many_arguments)]
pub async fn evolve(
    state: &AppState,
    run: &OptimizationRecord,
    engine: &dyn Engine,
    reflector: &dyn Reflector,
    tools: &[LoggedTool],
    control: &str,
    cells: &[FeedbackCell],
    plan: &EvolutionPlan,
) -> Result<Option<Evolution>, super::RunError> {
    let runner = JudgedTrials {
        engine,
        tools,
        max_turns: run.wire.simulation.max_turns,
    };
    let mut evolver = Evolver::start(control, cells, plan, &runner).await?;
    for generation in 1..=plan.generations {
        if !state
            .store
            .record_generation(
                &run.account_id,
                &run.id,
                Some(generation),
                state.clock.now_ms(),
            )
            .await?
        {
            return Ok(None);
        }
        evolver.generation(reflector).await?;
    }
    Ok(Some(evolver.finish()))
}
