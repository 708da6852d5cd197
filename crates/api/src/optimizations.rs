//! Optimizations: prompt variants generated from an agent's issues, tested head to head on
//! simulated conversations, compared with statistics, and applied or stopped.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::agents::Agent;

/// Why a background job (an optimization, a benchmark, insights) failed or was stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct JobError {
    /// `MODEL_TIMEOUT`, `MODEL_MALFORMED_REPLY`, `SERVER_RESTARTED`, `STOPPED`…
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum OptimizationStatus {
    Queued,
    Running,
    Completed,
    Failed,
    Stopped,
}

impl OptimizationStatus {
    pub const ALL: [OptimizationStatus; 5] = [
        OptimizationStatus::Queued,
        OptimizationStatus::Running,
        OptimizationStatus::Completed,
        OptimizationStatus::Failed,
        OptimizationStatus::Stopped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OptimizationStatus::Queued => "queued",
            OptimizationStatus::Running => "running",
            OptimizationStatus::Completed => "completed",
            OptimizationStatus::Failed => "failed",
            OptimizationStatus::Stopped => "stopped",
        }
    }

    /// Whether the run is over (nothing more will change but an apply).
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            OptimizationStatus::Completed
                | OptimizationStatus::Failed
                | OptimizationStatus::Stopped
        )
    }
}

impl std::str::FromStr for OptimizationStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OptimizationStatus::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown optimization status '{s}'"))
    }
}

/// `exploratory`: fast, the settings' confidence; `validation`: three times the simulations
/// and at least 95% confidence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum OptimizationMode {
    #[default]
    Exploratory,
    Validation,
}

impl OptimizationMode {
    pub fn as_str(self) -> &'static str {
        match self {
            OptimizationMode::Exploratory => "exploratory",
            OptimizationMode::Validation => "validation",
        }
    }
}

impl std::str::FromStr for OptimizationMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "exploratory" => Ok(OptimizationMode::Exploratory),
            "validation" => Ok(OptimizationMode::Validation),
            _ => Err(format!("unknown optimization mode '{s}'")),
        }
    }
}

/// How an optimization writes its variants.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum OptimizationStrategy {
    /// One rewrite per variant from the agent's recorded issues (the offline engine's only
    /// strategy).
    #[default]
    Rewrite,
    /// Needs a model: candidates evolve over `maxIterations` generations, each written by
    /// the model from the judge's reasons on its parent's failed simulations, kept on a
    /// Pareto front over personas; the survivors are then tested on held-out cells.
    Reflective,
}

impl OptimizationStrategy {
    pub fn as_str(self) -> &'static str {
        match self {
            OptimizationStrategy::Rewrite => "rewrite",
            OptimizationStrategy::Reflective => "reflective",
        }
    }
}

impl std::str::FromStr for OptimizationStrategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "rewrite" => Ok(OptimizationStrategy::Rewrite),
            "reflective" => Ok(OptimizationStrategy::Reflective),
            _ => Err(format!(
                "unknown optimization strategy '{s}' (rewrite or reflective)"
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum OptimizationPhase {
    Analyzing,
    Generating,
    Simulating,
    Evaluating,
    Selecting,
    Done,
}

impl OptimizationPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            OptimizationPhase::Analyzing => "analyzing",
            OptimizationPhase::Generating => "generating",
            OptimizationPhase::Simulating => "simulating",
            OptimizationPhase::Evaluating => "evaluating",
            OptimizationPhase::Selecting => "selecting",
            OptimizationPhase::Done => "done",
        }
    }
}

impl std::str::FromStr for OptimizationPhase {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            OptimizationPhase::Analyzing,
            OptimizationPhase::Generating,
            OptimizationPhase::Simulating,
            OptimizationPhase::Evaluating,
            OptimizationPhase::Selecting,
            OptimizationPhase::Done,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
        .ok_or_else(|| format!("unknown optimization phase '{s}'"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OptimizationProgress {
    pub phase: OptimizationPhase,
    pub simulations_completed: u32,
    pub simulations_total: u32,
    /// 0..100.
    pub percent: f64,
    /// The reflective strategy's generation under way (1..`maxIterations`), while it
    /// generates; the simulations above are then the held-out test's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OptimizationOutcome {
    VariantWon,
    OriginalWon,
    Inconclusive,
}

/// What an optimization's numbers rest on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Evidence {
    /// The offline engine's scripted simulation: it shows the workflow and says nothing
    /// about how the agent would fare with real users, whatever its numbers read.
    #[default]
    Scripted,
    /// Conversations played and judged by a language model.
    Model,
}

impl Evidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Evidence::Scripted => "scripted",
            Evidence::Model => "model",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OptimizationResults {
    pub winner_selected: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub winning_variant_id: Option<String>,
    /// The best variant's mean paired difference from the control, as a percentage of the
    /// control's mean overall score on the same cells.
    pub lift: f64,
    /// The highest of 0.80, 0.90 and 0.95 at which the winner's Holm-adjusted paired test
    /// is significant; 0 when no winner was named. Never a probability of being right.
    pub confidence: f64,
    pub outcome: OptimizationOutcome,
    /// The same as `lift`: the best variant's mean paired difference as a percentage of
    /// the control's mean.
    pub improvement_percentage: f64,
    /// The best variant's mean paired difference in points of the 0..100 overall score.
    #[serde(default)]
    pub improvement_points: f64,
    /// The confidence level the run tested at (0.80, 0.90 or 0.95): its intervals are at
    /// this level and a winner's adjusted p-value is below 1 − it.
    #[serde(default)]
    pub confidence_level: f64,
    /// Persona × scenario cells the comparison rests on: the unit of the paired test.
    #[serde(default)]
    pub cells: u32,
    /// Validation mode: the winner met the control again on fresh seeds before it was
    /// named; this is that second test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retest: Option<Retest>,
    /// Why no winner was named, in a sentence ("not enough data yet: …").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The confirmation of a validation run's candidate on fresh seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Retest {
    pub variant_id: String,
    /// Cells of the retest (the same persona × scenario cells, new seeds).
    pub cells: u32,
    pub difference: Difference,
    pub p_value: f64,
    /// Significant at the run's level in the same direction: only then is it the winner.
    pub confirmed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OptimizationIntent {
    #[serde(default)]
    pub target_improvements: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hypothesis: Option<String>,
}

/// What the server accepts, which the dashboard's form checks before sending.
impl OptimizationIntent {
    /// At most this many target improvements.
    pub const MAX_TARGET_IMPROVEMENTS: usize = 10;
    /// At most this many characters in one target improvement.
    pub const MAX_TARGET_CHARS: usize = 500;
    /// At most this many characters in the hypothesis.
    pub const MAX_HYPOTHESIS_CHARS: usize = 2_000;
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SimulationOverrides {
    /// 1..20.
    pub persona_count: Option<u32>,
    /// 1..10.
    pub scenarios_per_simulation: Option<u32>,
    /// 2..30.
    pub max_turns: Option<u32>,
}

/// The simulation plan an optimization ran with, after settings and overrides.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SimulationPlan {
    pub persona_count: u32,
    pub scenarios_per_simulation: u32,
    pub max_turns: u32,
    /// Simulated conversations per variant (personas × scenarios × replicates).
    pub conversations_per_variant: u32,
    /// The confidence a winner needs (0.80, 0.90 or 0.95).
    pub confidence_level: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Optimization {
    pub id: String,
    pub agent_id: String,
    pub agent_name: String,
    /// The agent version the control is.
    pub agent_version: u32,
    pub status: OptimizationStatus,
    pub mode: OptimizationMode,
    pub variant_count: u32,
    #[serde(default)]
    pub optimization_strategy: OptimizationStrategy,
    /// Generations of the reflective strategy (0 for `rewrite`).
    #[serde(default)]
    pub max_iterations: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<OptimizationIntent>,
    pub persona_ids: Vec<String>,
    pub simulation: SimulationPlan,
    pub progress: OptimizationProgress,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<OptimizationResults>,
    /// Which engine ran it (`offline` or `model:<name>`).
    pub engine: String,
    /// `scripted` for the offline engine: a demonstration, not evidence about the agent.
    #[serde(default)]
    pub evidence: Evidence,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_variant_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<JobError>,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    pub updated_at: String,
}

/// `POST /optimizations`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateOptimization {
    #[serde(alias = "promptId")]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = "\\S")
    )]
    pub agent_id: String,
    pub mode: Option<OptimizationMode>,
    /// 1..5; default `settings.optimization.variantsPerGeneration`.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 5))]
    pub variant_count: Option<u32>,
    /// Default `settings.optimization.optimizationStrategy`, else `reflective` when the
    /// account has a model and `rewrite` when it runs offline. `reflective` needs a model.
    pub optimization_strategy: Option<OptimizationStrategy>,
    /// Generations of the reflective strategy: 1..`settings.optimization.maxIterations`,
    /// default 3 (or that maximum when lower).
    pub max_iterations: Option<u32>,
    pub intent: Option<OptimizationIntent>,
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 20))]
    pub persona_ids: Option<Vec<String>>,
    pub simulation: Option<SimulationOverrides>,
    /// Fixes the simulations' random draws: the same seed on the same agent and settings
    /// gives the same numbers with the offline engine. Random when left out.
    pub seed: Option<u64>,
}

impl CreateOptimization {
    /// At most this many `personaIds`.
    pub const MAX_PERSONA_IDS: usize = 20;
}

/// Filters of `GET /optimizations`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct OptimizationFilter {
    #[serde(alias = "promptId")]
    pub agent_id: Option<String>,
    pub status: Option<OptimizationStatus>,
}

/// The documented variant metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct VariantMetrics {
    pub task_completion: f64,
    /// Mean of clarity, relevancy and natural language.
    pub response_quality: f64,
    pub sentiment: f64,
    pub overall_score: f64,
    /// The mean paired difference from the control as a percentage of the control's mean
    /// (0 for the control).
    pub lift: f64,
    /// The highest of 0.80, 0.90 and 0.95 at which this variant's Holm-adjusted paired test
    /// is significant (0 when at none, and for the control).
    pub confidence: f64,
    pub simulation_count: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MetricStats {
    pub mean: f64,
    pub ci95_low: f64,
    pub ci95_high: f64,
    pub n: u32,
}

/// A variant's paired difference from the control on the overall score (points of 0..100),
/// over the cells both arms completed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Difference {
    pub mean: f64,
    /// The 95% interval, whatever the run's level.
    pub ci95_low: f64,
    pub ci95_high: f64,
    /// The interval at the run's confidence level (`level`), the one a winner is named by.
    #[serde(default)]
    pub low: f64,
    #[serde(default)]
    pub high: f64,
    #[serde(default)]
    pub level: f64,
    /// Cells (persona × scenario) the difference rests on: the test's sample size.
    #[serde(default)]
    pub cells: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CostComparison {
    pub mean: f64,
    /// Against the control (0 for the control itself).
    pub difference: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PersonaResult {
    pub persona_id: String,
    pub persona_name: String,
    /// Mean overall score of this variant with this persona.
    pub score: f64,
    /// Against the control with the same persona.
    pub difference: f64,
    pub conversation_count: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Variant {
    /// `var_control` for the control.
    pub id: String,
    pub optimization_id: String,
    /// "Control", "Variant A", …
    pub name: String,
    pub is_control: bool,
    pub is_winner: bool,
    pub content: String,
    pub change_summary: String,
    /// `pending`, `testing`, `tested`, or `not_run` when the run ended before this arm met
    /// every cell the others did (then it offers no apply).
    pub status: String,
    pub metrics: VariantMetrics,
    /// The 11 metrics and `overallScore`.
    pub stats: BTreeMap<String, MetricStats>,
    /// Against the control, paired on the same personas and scenarios (absent for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub difference: Option<Difference>,
    /// The name of the test behind `pValue`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    /// Holm-adjusted across the variants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_value_adjusted: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability_better_than_control: Option<f64>,
    pub probability_best: f64,
    /// False: too few simulations to detect the effect sought; then no winner.
    pub enough_data: bool,
    /// The smallest overall-score difference this many simulations can detect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_detectable_effect: Option<f64>,
    pub tokens: CostComparison,
    pub latency_ms: CostComparison,
    pub persona_results: Vec<PersonaResult>,
    /// Every simulated conversation's overall score (0..100), ascending: the spread behind
    /// the mean. Empty until the arm is evaluated.
    #[serde(default)]
    pub conversation_scores: Vec<f64>,
    /// Simulated conversations of this arm: `GET /optimizations/:id/simulations/:simId`.
    pub sample_conversation_ids: Vec<String>,
    /// Production conversations logged with this variant's id (live traffic), when any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<LiveTraffic>,
}

/// What live traffic says about an arm: conversations logged with its `variantId`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LiveTraffic {
    pub conversation_count: u64,
    /// Mean quality of those with ready insights.
    pub quality_score: Option<f64>,
}

/// `GET /optimizations/:id/simulations/:simulationId`: one simulated conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SimulatedTranscript {
    pub id: String,
    pub optimization_id: String,
    pub variant_id: String,
    pub variant_name: String,
    pub persona_id: String,
    pub persona_name: String,
    pub scenario_id: String,
    pub scenario_title: String,
    pub messages: Vec<crate::conversations::Message>,
    pub overall_score: f64,
    /// The 11 metrics, keyed by name.
    pub metrics: BTreeMap<String, f64>,
    pub task_completed: bool,
}

/// `POST /optimizations/:id/apply`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplyVariant {
    /// Default: the winner.
    pub variant_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AppliedVariant {
    pub success: bool,
    pub agent_id: String,
    pub variant_id: String,
    pub applied_at: String,
    pub agent: Agent,
}

/// `POST /optimizations/:id/stop`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StopOptimization {
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 500, pattern = "\\S")
    )]
    pub reason: Option<String>,
}
