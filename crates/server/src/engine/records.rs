//! What the engine reads about stored conversations when it builds agent-level readings:
//! plain records, filled by whoever reads them (the store) and consumed by [`super::aggregate`].

use converra_api::insights::{RootCause, Sentiment, Severity};

use super::{IssueKind, MetricScores};

/// One analysed conversation of an agent, as aggregates read it.
#[derive(Debug, Clone)]
pub struct InsightRow {
    pub conversation_id: String,
    pub agent_id: String,
    pub conversation_created_at: i64,
    pub quality_score: f64,
    pub task_completed: bool,
    pub sentiment: Sentiment,
    pub sentiment_score: f64,
    pub metrics: MetricScores,
    pub topics: Vec<String>,
}

/// One issue of one conversation.
#[derive(Debug, Clone)]
pub struct IssueRow {
    pub conversation_id: String,
    pub agent_id: String,
    pub conversation_created_at: i64,
    pub kind: IssueKind,
    pub severity: Severity,
}

/// One diagnosed step of one conversation.
#[derive(Debug, Clone)]
pub struct StepRow {
    pub conversation_id: String,
    pub conversation_created_at: i64,
    pub name: String,
    pub failed: bool,
    pub error: Option<String>,
    pub root_cause: Option<RootCause>,
}

/// A conversation of an agent in a period (analysed or not), for rates over all traffic.
#[derive(Debug, Clone)]
pub struct ConversationFacts {
    pub status: String,
    pub message_count: i64,
    pub created_at: i64,
}
