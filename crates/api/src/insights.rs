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
