//! Benchmarks: one fixed scenario set run against several agents, compared on the metrics.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::optimizations::JobError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum BenchmarkStatus {
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl BenchmarkStatus {
    pub const ALL: [BenchmarkStatus; 5] = [
        BenchmarkStatus::Queued,
        BenchmarkStatus::Running,
        BenchmarkStatus::Completed,
        BenchmarkStatus::Failed,
        BenchmarkStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BenchmarkStatus::Queued => "queued",
            BenchmarkStatus::Running => "running",
            BenchmarkStatus::Completed => "completed",
            BenchmarkStatus::Failed => "failed",
            BenchmarkStatus::Cancelled => "cancelled",
        }
    }

    pub fn is_finished(self) -> bool {
        matches!(
            self,
            BenchmarkStatus::Completed | BenchmarkStatus::Failed | BenchmarkStatus::Cancelled
        )
    }
}

impl std::str::FromStr for BenchmarkStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BenchmarkStatus::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown benchmark status '{s}'"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BenchmarkProgress {
    pub completed: u32,
    pub total: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BenchmarkResult {
    pub agent_id: String,
    pub agent_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub overall_score: f64,
    /// Share of scenarios whose task was completed, 0..1.
    pub pass_rate: f64,
    /// The 11 metrics' means.
    pub metrics: BTreeMap<String, f64>,
    pub avg_latency_ms: Option<f64>,
    pub conversation_count: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Benchmark {
    pub id: String,
    pub name: String,
    pub status: BenchmarkStatus,
    pub agent_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub models: Option<Vec<String>>,
    pub persona_ids: Vec<String>,
    pub scenario_count: u32,
    pub max_turns: u32,
    pub progress: BenchmarkProgress,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<Vec<BenchmarkResult>>,
    /// The agent with the best overall score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub winner: Option<String>,
    pub engine: String,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<JobError>,
}

/// `POST /benchmarks`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateBenchmark {
    pub name: Option<String>,
    pub agent_ids: Option<Vec<String>>,
    pub agent_id: Option<String>,
    /// Converra runs one agent on several models; with the offline engine every model
    /// plays the same, so a benchmark over models is refused there.
    pub models: Option<Vec<String>>,
    pub persona_ids: Option<Vec<String>>,
    /// 1..10, default 5.
    pub scenario_count: Option<u32>,
    /// 2..30, default 8.
    pub max_turns: Option<u32>,
}

/// What the server accepts, which the dashboard's form checks before sending.
impl CreateBenchmark {
    /// The longest name, in characters.
    pub const MAX_NAME_CHARS: usize = 200;
    /// The most agents one benchmark compares.
    pub const MAX_AGENTS: usize = 10;
    /// The fewest and the most models a benchmark over models names.
    pub const MODELS: (usize, usize) = (2, 6);
    /// How many scenarios, at least and at most.
    pub const SCENARIO_COUNT: (u32, u32) = (1, 10);
    /// How many turns a conversation may take, at least and at most.
    pub const MAX_TURNS: (u32, u32) = (2, 30);
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct BenchmarkFilter {
    pub agent_id: Option<String>,
    pub status: Option<BenchmarkStatus>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum BulkAction {
    Delete,
    Cancel,
}

/// `POST /benchmarks/bulk`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BenchmarkBulk {
    pub action: BulkAction,
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 100))]
    pub job_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BulkFailure {
    pub id: String,
    pub error: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BenchmarkBulkResult {
    pub action: BulkAction,
    pub succeeded: Vec<String>,
    pub failed: Vec<BulkFailure>,
}
