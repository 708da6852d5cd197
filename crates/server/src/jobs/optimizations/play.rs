//! Playing an optimization's cells: every arm meets the same simulated user on a cell (one
//! seed per cell, common to the arms), and one blind judge reads the arms' transcripts of
//! that cell together. A cell is played for all arms at once, so a run that stops part way
//! still compares every arm on the same cells.

use crate::engine::logged_tools::LoggedTool;
use crate::engine::personas::{persona, scenarios, Persona, Scenario};
use crate::engine::rng::SeededRng;
use crate::engine::{join_all, Engine, EngineError, JudgeRequest, SimulationRequest};
use crate::store::optimizations::{NewSimulation, OptimizationRecord, VariantRecord};

/// One persona × scenario × replicate of the plan: the unit every arm is played on.
#[derive(Debug, Clone)]
pub struct Cell {
    pub index: u32,
    pub persona: &'static Persona,
    pub scenario: &'static Scenario,
}

/// The run's cells: personas × scenarios, round robin (so that any prefix is balanced), as
/// many as the plan's conversations per variant.
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
    let pairs: Vec<(&'static Persona, &'static Scenario)> = personas
        .iter()
        .flat_map(|p| chosen.iter().map(move |s| (*p, *s)))
        .collect();
    if pairs.is_empty() {
        return Vec::new();
    }
    (0..plan.conversations_per_variant)
        .map(|index| {
            let (persona, scenario) = pairs[index as usize % pairs.len()];
            Cell {
                index,
                persona,
                scenario,
            }
        })
        .collect()
}

/// Which simulations a cell is played for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Round {
    /// The test itself.
    Test,
    /// Validation mode's retest of a winner: the same cells under fresh seeds. Stored after
    /// the test's cells (`offset` is the number of cells in the plan).
    Retest { offset: u32 },
}

impl Round {
    /// The seed of a cell: common to every arm, different for each cell and round.
    fn seed(self, run_seed: u64, cell: &Cell) -> u64 {
        let label = match self {
            Round::Test => format!("cell:{}", cell.index),
            Round::Retest { .. } => format!("retest:cell:{}", cell.index),
        };
        SeededRng::derive(run_seed, &label).next_u64()
    }

    fn stored_cell(self, cell: &Cell) -> u32 {
        match self {
            Round::Test => cell.index,
            Round::Retest { offset } => offset.saturating_add(cell.index),
        }
    }
}

/// What playing some cells produced, and what the engine spent on it.
pub struct Played {
    pub simulations: Vec<NewSimulation>,
    pub engine_tokens: u64,
}

/// Plays `cells` for `arms`, the cells concurrently (a model engine's calls overlap up to its
/// client's limit). Every simulation of a cell is judged in one request.
pub async fn play_cells(
    engine: &dyn Engine,
    arms: &[&VariantRecord],
    cells: &[&Cell],
    tools: &[LoggedTool],
    round: Round,
    max_turns: u32,
    run_seed: u64,
) -> Result<Played, EngineError> {
    let played = join_all(
        cells
            .iter()
            .map(|cell| play_cell(engine, arms, cell, tools, round, max_turns, run_seed))
            .collect(),
    )
    .await;
    let mut out = Played {
        simulations: Vec::with_capacity(cells.len() * arms.len()),
        engine_tokens: 0,
    };
    for cell in played {
        let cell = cell?;
        out.engine_tokens = out.engine_tokens.saturating_add(cell.engine_tokens);
        out.simulations.extend(cell.simulations);
    }
    Ok(out)
}

async fn play_cell(
    engine: &dyn Engine,
    arms: &[&VariantRecord],
    cell: &Cell,
    tools: &[LoggedTool],
    round: Round,
    max_turns: u32,
    run_seed: u64,
) -> Result<Played, EngineError> {
    let seed = round.seed(run_seed, cell);
    let conversations = join_all(
        arms.iter()
            .map(|arm| {
                engine.simulate(SimulationRequest {
                    prompt: &arm.content,
                    persona: cell.persona,
                    scenario: cell.scenario,
                    max_turns,
                    tools,
                    seed,
                })
            })
            .collect(),
    )
    .await
    .into_iter()
    .collect::<Result<Vec<_>, EngineError>>()?;
    let transcripts: Vec<&[converra_api::conversations::Message]> = conversations
        .iter()
        .map(|c| c.messages.as_slice())
        .collect();
    let verdicts = engine
        .judge(JudgeRequest {
            transcripts: &transcripts,
            seed: SeededRng::derive(seed, "judge").next_u64(),
        })
        .await?;
    if verdicts.len() != conversations.len() {
        return Err(EngineError::MalformedReply(format!(
            "the judge returned {} verdicts for {} transcripts",
            verdicts.len(),
            conversations.len()
        )));
    }
    let mut engine_tokens = 0u64;
    let simulations = arms
        .iter()
        .zip(conversations)
        .zip(verdicts)
        .map(|((arm, conversation), verdict)| {
            engine_tokens = engine_tokens
                .saturating_add(conversation.engine_tokens)
                .saturating_add(verdict.engine_tokens);
            NewSimulation {
                variant_row_id: arm.row_id.clone(),
                cell: round.stored_cell(cell),
                persona_id: cell.persona.id.to_owned(),
                scenario_id: cell.scenario.id.to_owned(),
                tokens: conversation.agent_tokens(),
                latency_ms: conversation.mean_latency_ms(),
                overall: verdict.metrics.overall(),
                metrics: verdict.metrics,
                task_completed: verdict.task_completed,
                messages: conversation.messages,
                retest: matches!(round, Round::Retest { .. }),
            }
        })
        .collect();
    Ok(Played {
        simulations,
        engine_tokens,
    })
}
