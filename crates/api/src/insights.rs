//! Insights: what the engine reads in one conversation, and in all of an agent's.

use serde::{Deserialize, Serialize};

/// The 11 quality metrics, each on 0..100 where higher is always better: a high
/// `hallucinationScore` means few unsupported claims, a high `verbosityScore` answers of the
/// right length, a high `repetitionScore` little repetition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum Metric {
    SuccessScore,
    AiRelevancy,
    Sentiment,
    HallucinationScore,
    RepetitionScore,
    ConsistencyScore,
    NaturalLanguageScore,
    ContextRetentionScore,
    VerbosityScore,
    TaskCompletion,
    Clarity,
}

impl Metric {
    /// Every metric, in the order the API and the charts list them.
    pub const ALL: [Metric; 11] = [
        Metric::SuccessScore,
        Metric::AiRelevancy,
        Metric::Sentiment,
        Metric::HallucinationScore,
        Metric::RepetitionScore,
        Metric::ConsistencyScore,
        Metric::NaturalLanguageScore,
        Metric::ContextRetentionScore,
        Metric::VerbosityScore,
        Metric::TaskCompletion,
        Metric::Clarity,
    ];

    /// The metric's JSON key.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::SuccessScore => "successScore",
            Metric::AiRelevancy => "aiRelevancy",
            Metric::Sentiment => "sentiment",
            Metric::HallucinationScore => "hallucinationScore",
            Metric::RepetitionScore => "repetitionScore",
            Metric::ConsistencyScore => "consistencyScore",
            Metric::NaturalLanguageScore => "naturalLanguageScore",
            Metric::ContextRetentionScore => "contextRetentionScore",
            Metric::VerbosityScore => "verbosityScore",
            Metric::TaskCompletion => "taskCompletion",
            Metric::Clarity => "clarity",
        }
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            Metric::SuccessScore => "Success",
            Metric::AiRelevancy => "Relevancy",
            Metric::Sentiment => "Sentiment",
            Metric::HallucinationScore => "Groundedness",
            Metric::RepetitionScore => "No repetition",
            Metric::ConsistencyScore => "Consistency",
            Metric::NaturalLanguageScore => "Natural language",
            Metric::ContextRetentionScore => "Context retention",
            Metric::VerbosityScore => "Right length",
            Metric::TaskCompletion => "Task completion",
            Metric::Clarity => "Clarity",
        }
    }

    /// The metric's position in [`Metric::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl std::str::FromStr for Metric {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Metric::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| format!("unknown metric '{s}'"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Sentiment {
    Positive,
    Neutral,
    Negative,
}

/// Where a failed step's cause lies (`GET /agents/:id/step-failures`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RootCause {
    PromptIssue,
    ContextIssue,
    ToolIssue,
    ModelLimitation,
    OrchestrationIssue,
}

impl RootCause {
    pub const ALL: [RootCause; 5] = [
        RootCause::PromptIssue,
        RootCause::ContextIssue,
        RootCause::ToolIssue,
        RootCause::ModelLimitation,
        RootCause::OrchestrationIssue,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RootCause::PromptIssue => "prompt_issue",
            RootCause::ContextIssue => "context_issue",
            RootCause::ToolIssue => "tool_issue",
            RootCause::ModelLimitation => "model_limitation",
            RootCause::OrchestrationIssue => "orchestration_issue",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    Ok,
    Failed,
}

/// One metric of one conversation, against the fleet's average for it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MetricValue {
    pub value: f64,
    /// The mean of this metric over the account's ready insights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub benchmark: Option<f64>,
}

/// The metrics block of conversation insights: two scores, a multiplier and the 11 metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct InsightMetrics {
    /// The quality score, capped when the task failed or a critical issue showed.
    pub gated_score: f64,
    pub quality_score: f64,
    pub objective_multiplier: f64,
    pub success_score: MetricValue,
    pub ai_relevancy: MetricValue,
    pub sentiment: MetricValue,
    pub hallucination_score: MetricValue,
    pub repetition_score: MetricValue,
    pub consistency_score: MetricValue,
    pub natural_language_score: MetricValue,
    pub context_retention_score: MetricValue,
    pub verbosity_score: MetricValue,
    pub task_completion: MetricValue,
    pub clarity: MetricValue,
}

impl InsightMetrics {
    /// The value and benchmark of one of the 11 metrics.
    pub fn metric(&self, metric: Metric) -> MetricValue {
        match metric {
            Metric::SuccessScore => self.success_score,
            Metric::AiRelevancy => self.ai_relevancy,
            Metric::Sentiment => self.sentiment,
            Metric::HallucinationScore => self.hallucination_score,
            Metric::RepetitionScore => self.repetition_score,
            Metric::ConsistencyScore => self.consistency_score,
            Metric::NaturalLanguageScore => self.natural_language_score,
            Metric::ContextRetentionScore => self.context_retention_score,
            Metric::VerbosityScore => self.verbosity_score,
            Metric::TaskCompletion => self.task_completion,
            Metric::Clarity => self.clarity,
        }
    }

    /// Builds the block from the 11 values and benchmarks, in [`Metric::ALL`] order.
    pub fn from_values(
        gated_score: f64,
        quality_score: f64,
        objective_multiplier: f64,
        values: [MetricValue; 11],
    ) -> Self {
        let [success_score, ai_relevancy, sentiment, hallucination_score, repetition_score, consistency_score, natural_language_score, context_retention_score, verbosity_score, task_completion, clarity] =
            values;
        InsightMetrics {
            gated_score,
            quality_score,
            objective_multiplier,
            success_score,
            ai_relevancy,
            sentiment,
            hallucination_score,
            repetition_score,
            consistency_score,
            natural_language_score,
            context_retention_score,
            verbosity_score,
            task_completion,
            clarity,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TopIssue {
    pub title: String,
    pub description: String,
    pub severity: Severity,
    /// Indexes into the conversation's messages where the issue shows.
    pub message_indexes: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DiagnosedStep {
    /// A tool's name, or `turn:N`.
    pub name: String,
    pub status: StepStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub message_index: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_cause: Option<RootCause>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StepDiagnosis {
    pub steps: Vec<DiagnosedStep>,
}

/// `GET /conversations/:id/insights` when they are ready.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ConversationInsights {
    pub id: String,
    pub conversation_id: String,
    pub title: String,
    pub executive_summary: String,
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_facing_summary: Option<String>,
    pub top_issues: Vec<TopIssue>,
    pub additional_concerns: Vec<String>,
    pub next_steps: Vec<String>,
    pub keywords: Vec<String>,
    pub topics: Vec<String>,
    pub sentiment: Sentiment,
    /// 0..1, 1 the most positive.
    pub sentiment_score: f64,
    pub task_completed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_impact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_diagnosis: Option<StepDiagnosis>,
    pub metrics: InsightMetrics,
    /// Which engine produced them (`offline` or `model:<name>`).
    pub engine: String,
    pub created_at: String,
    pub updated_at: String,
}

/// `GET /conversations/:id/insights` before (or instead of) insights: the lifecycle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct InsightsUnavailable {
    pub conversation_id: String,
    /// `pending`, `skipped` or `failed`.
    pub status: crate::conversations::InsightsStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_retry_at: Option<String>,
}

/// Either shape of `GET /conversations/:id/insights`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum ConversationInsightsState {
    Ready(Box<ConversationInsights>),
    Unavailable(InsightsUnavailable),
}

/// `POST /conversations/:id/insights/regenerate` → 202.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct InsightsQueued {
    pub conversation_id: String,
    /// Always `queued`.
    pub status: String,
}

/// `POST /agents/:id/insights/regenerate`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegenerateAgentInsights {
    /// Also redo conversations whose insights are ready (default false).
    pub force: Option<bool>,
    /// How many of the newest conversations (1..200, default 50).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 200))]
    pub limit: Option<u32>,
}

/// `POST /agents/:id/insights/regenerate` → 202.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AgentInsightsQueued {
    pub agent_id: String,
    pub total: u32,
    pub queued: u32,
    pub skipped: u32,
    pub status: String,
}

impl AgentInsightsQuery {
    /// The periods `days` takes.
    pub const DAYS: [u32; 3] = [7, 30, 90];
}

#[cfg(feature = "openapi")]
fn days_schema() -> utoipa::openapi::Schema {
    crate::openapi::one_of_numbers_or_null(&AgentInsightsQuery::DAYS)
}

/// Query of `GET /agents/:id/insights`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct AgentInsightsQuery {
    /// 7, 30 (default) or 90.
    #[cfg_attr(feature = "openapi", param(schema_with = days_schema))]
    pub days: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct InsightsPeriod {
    pub from: String,
    pub to: String,
    pub days: u32,
}

/// The documented agent metrics, plus the 11 metrics' means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AgentMetrics {
    /// Share of analysed conversations whose task was completed, 0..100.
    pub task_completion: f64,
    /// Mean sentiment score, 0..1.
    pub average_sentiment: f64,
    pub conversation_count: u64,
    pub analyzed_count: u64,
    pub average_turns: f64,
    /// Share of conversations with status `completed`, 0..100.
    pub completion_rate: f64,
    /// Share of conversations with status `abandoned`, 0..100.
    pub abandonment_rate: f64,
    pub quality_score: Option<f64>,
    /// The 11 metrics' means, keyed by metric name.
    pub averages: std::collections::BTreeMap<String, f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TopicCount {
    pub name: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AgentIssue {
    /// Stable per kind of issue (`issue_failed_tool_call`…).
    pub id: String,
    pub title: String,
    pub description: String,
    /// Share of analysed conversations showing it, 0..1.
    pub frequency: f64,
    pub severity: Severity,
    pub affected_conversations: u64,
    pub example_conversation_ids: Vec<String>,
    /// The same examples with their titles, to show as links a reader recognises.
    pub example_conversations: Vec<ConversationRef>,
}

/// A conversation named for a link: its id and its title, when it has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ConversationRef {
    pub id: String,
    pub title: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SentimentSplit {
    pub positive: u64,
    pub neutral: u64,
    pub negative: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TrendPoint {
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    pub quality_score: Option<f64>,
    pub conversations: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BusinessImpact {
    /// Analysed conversations whose task failed.
    pub conversations_affected: u64,
    /// 0..1.
    pub failure_rate: f64,
    /// Failed conversations × `businessImpact.valuePerConversation`.
    pub estimated_revenue_at_risk: f64,
    pub currency: String,
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SharedPattern {
    pub pattern: String,
    pub affected_agents: u64,
    pub agent_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BestPractice {
    pub agent_id: String,
    pub agent_name: String,
    pub metric: String,
    pub value: f64,
}

/// How the agent compares with the account's other agents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FleetIntelligence {
    pub fleet_average_score: Option<f64>,
    pub agent_score: Option<f64>,
    /// Share of agents scoring at or below this one, 0..100.
    pub percentile: Option<f64>,
    /// 1 = best; `None` when the agent has no analysed conversations.
    pub rank: Option<u64>,
    pub total_agents: u64,
    /// Per metric, the percentile of this agent among the fleet.
    pub percentiles: std::collections::BTreeMap<String, f64>,
    pub shared_patterns: Vec<SharedPattern>,
    pub best_practices_from: Vec<BestPractice>,
}

/// `GET /agents/:id/insights`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AgentInsights {
    pub agent_id: String,
    pub period: InsightsPeriod,
    pub generated_at: String,
    pub metrics: AgentMetrics,
    pub topics: Vec<TopicCount>,
    pub issues: Vec<AgentIssue>,
    pub recommendations: Vec<String>,
    pub sentiment: SentimentSplit,
    pub trend: Vec<TrendPoint>,
    pub business_impact: BusinessImpact,
    pub fleet_intelligence: FleetIntelligence,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RootCauseCount {
    #[serde(rename = "type")]
    pub kind: RootCause,
    pub count: u64,
    /// 0..100 of the failed steps.
    pub percentage: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ErrorCount {
    pub message: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StepFailureStats {
    /// A tool's name, or `turn:N`.
    pub step: String,
    pub total: u64,
    pub failures: u64,
    /// 0..1.
    pub failure_rate: f64,
    pub top_root_cause: Option<RootCause>,
    pub top_errors: Vec<ErrorCount>,
    pub last_failed_at: Option<String>,
    pub example_conversation_ids: Vec<String>,
    /// The same examples with their titles.
    pub example_conversations: Vec<ConversationRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TopFailure {
    pub summary: String,
    pub count: u64,
    pub severity: Severity,
    pub fix: String,
}

/// `GET /agents/:id/step-failures` (the last 30 days).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StepFailures {
    pub agent_id: String,
    pub from: String,
    pub to: String,
    pub total_conversations: u64,
    pub failed_conversations: u64,
    pub by_root_cause: Vec<RootCauseCount>,
    pub steps: Vec<StepFailureStats>,
    pub top_failures: Vec<TopFailure>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VerificationStatus {
    /// Failures down by more than half, and significantly (Fisher's exact test at 5%, at
    /// least 30 conversations on each side).
    Verified,
    /// Fewer than 30 conversations on a side: too few to tell.
    Monitoring,
    /// No material, significant drop.
    NotFixed,
    /// Failures significantly up.
    Regressed,
    /// Another change landed too close to tell them apart.
    Confounded,
}

impl VerificationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VerificationStatus::Verified => "verified",
            VerificationStatus::Monitoring => "monitoring",
            VerificationStatus::NotFixed => "not_fixed",
            VerificationStatus::Regressed => "regressed",
            VerificationStatus::Confounded => "confounded",
        }
    }
}

impl std::str::FromStr for VerificationStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            VerificationStatus::Verified,
            VerificationStatus::Monitoring,
            VerificationStatus::NotFixed,
            VerificationStatus::Regressed,
            VerificationStatus::Confounded,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
        .ok_or_else(|| format!("unknown verification status '{s}'"))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeploymentIssue {
    pub issue_id: String,
    pub title: String,
    pub before_fail_count: u64,
    pub after_fail_count: u64,
}

/// One applied change (a new version from an optimization or an edit) and what followed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeploymentImpact {
    pub agent_id: String,
    pub agent_name: String,
    /// The version the change made.
    pub version: u32,
    pub deployed_at: String,
    pub verification_status: VerificationStatus,
    /// Failure rate before the change, 0..1 (over as many days before as have passed since).
    pub failure_rate_before: f64,
    pub failure_rate_after: f64,
    /// How much the failure rate fell, in percent (negative: it rose).
    pub reduction_percent: f64,
    pub pre_fix_conversation_count: u64,
    pub post_fix_conversation_count: u64,
    /// Two-sided p-value of the test in `test` on failed against completed conversations,
    /// before against after; absent while either side has too few conversations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<String>,
    pub issues: Vec<DeploymentIssue>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeploymentSummary {
    pub total_deployments: u64,
    pub verified: u64,
    pub monitoring: u64,
    pub not_fixed: u64,
    pub regressed: u64,
    pub confounded: u64,
}

/// `GET /deployments/impact`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeploymentsImpact {
    pub agents: Vec<DeploymentImpact>,
    pub summary: DeploymentSummary,
}

/// Query of `GET /deployments/impact`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct DeploymentsQuery {
    pub agent_id: Option<String>,
    pub status: Option<VerificationStatus>,
    /// 1..100, default 20.
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<u32>,
}
