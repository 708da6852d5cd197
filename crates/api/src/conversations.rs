//! Conversations (the SDK calls them runs): transcripts of an agent's production traffic.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    InProgress,
    Active,
    Completed,
    Abandoned,
}

impl ConversationStatus {
    pub const ALL: [ConversationStatus; 4] = [
        ConversationStatus::InProgress,
        ConversationStatus::Active,
        ConversationStatus::Completed,
        ConversationStatus::Abandoned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConversationStatus::InProgress => "in_progress",
            ConversationStatus::Active => "active",
            ConversationStatus::Completed => "completed",
            ConversationStatus::Abandoned => "abandoned",
        }
    }
}

impl std::str::FromStr for ConversationStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ConversationStatus::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown conversation status '{s}'"))
    }
}

/// How a conversation reached the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ConversationSource {
    /// The official SDK (`POST /runs`).
    Sdk,
    /// The REST API (`POST /conversations`).
    Api,
    /// OpenTelemetry spans or log events (`POST /otel/v1/traces`, `/otel/v1/logs`).
    Otel,
}

impl ConversationSource {
    pub const ALL: [ConversationSource; 3] = [
        ConversationSource::Sdk,
        ConversationSource::Api,
        ConversationSource::Otel,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConversationSource::Sdk => "sdk",
            ConversationSource::Api => "api",
            ConversationSource::Otel => "otel",
        }
    }
}

impl std::str::FromStr for ConversationSource {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ConversationSource::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown conversation source '{s}'"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
    Tool,
}

impl Role {
    /// The label a rendered transcript gives this role.
    pub fn label(self) -> &'static str {
        match self {
            Role::System => "System",
            Role::User => "User",
            Role::Assistant => "Assistant",
            Role::Tool => "Tool",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ToolCall {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub arguments: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// Set when the call failed; such a step counts as a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nested_trace: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TokenUsage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub role: Role,
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCall>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<TokenUsage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

impl Message {
    /// A message with only a role and its text, every optional field left out.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Message {
            role,
            content: content.into(),
            timestamp: None,
            model: None,
            tool_calls: None,
            usage: None,
            latency_ms: None,
            metadata: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ToolDefinition {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum InsightsStatus {
    Pending,
    Ready,
    Skipped,
    Failed,
}

impl InsightsStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InsightsStatus::Pending => "pending",
            InsightsStatus::Ready => "ready",
            InsightsStatus::Skipped => "skipped",
            InsightsStatus::Failed => "failed",
        }
    }
}

impl std::str::FromStr for InsightsStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            InsightsStatus::Pending,
            InsightsStatus::Ready,
            InsightsStatus::Skipped,
            InsightsStatus::Failed,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
        .ok_or_else(|| format!("unknown insights status '{s}'"))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationLinks {
    #[serde(rename = "appendMessages")]
    pub append_messages: String,
}

/// A conversation. Lists leave out `content` and `messages`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    pub id: String,
    pub agent_id: String,
    pub agent_name: String,
    /// The transcript as `User: …` / `Assistant: …` lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<Message>>,
    pub message_count: u32,
    pub status: ConversationStatus,
    pub source: ConversationSource,
    pub llm_model: Option<String>,
    pub company_name: Option<String>,
    pub title: Option<String>,
    pub session_id: Option<String>,
    pub user_id: Option<String>,
    pub trace_id: Option<String>,
    pub parent_trace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_definitions: Option<Vec<ToolDefinition>>,
    /// Free-form; the SDK puts `source`, `variantId`, `optimizationId`, `assignment` here.
    pub metadata: Map<String, Value>,
    pub has_insights: bool,
    pub insights_status: InsightsStatus,
    pub quality_score: Option<f64>,
    /// Prompt plus completion tokens over all messages.
    pub total_tokens: u64,
    /// Any tool call in the transcript failed.
    pub has_failed_steps: bool,
    pub created_at: String,
    pub updated_at: String,
    #[serde(rename = "_links", default, skip_serializing_if = "Option::is_none")]
    pub links: Option<ConversationLinks>,
    /// In a list searched with `q`: where the words matched, with each match marked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snippet: Option<SearchSnippet>,
}

/// A short piece of a conversation's text around a search's first match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SearchSnippet {
    /// Plain text on one line; `…` where it was cut from a longer text.
    pub text: String,
    /// The matching words in `text`, in order, as character (Unicode scalar) offsets.
    pub highlights: Vec<TextRange>,
}

/// Characters `start..end` of a text (Unicode scalar offsets, end exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TextRange {
    pub start: u32,
    pub end: u32,
}

/// `POST /conversations` and `POST /runs`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateConversation {
    #[serde(alias = "promptId")]
    pub agent_id: Option<String>,
    /// An unknown name creates the agent.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = "\\S")
    )]
    pub agent_name: Option<String>,
    /// A transcript of `User:` / `Assistant:` lines (also Human/AI, Customer/Agent).
    pub content: Option<String>,
    pub messages: Option<Vec<Message>>,
    pub status: Option<ConversationStatus>,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 100, pattern = "\\S")
    )]
    pub llm_model: Option<String>,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = "\\S")
    )]
    pub company_name: Option<String>,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 500, pattern = "\\S")
    )]
    pub title: Option<String>,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = "\\S")
    )]
    pub session_id: Option<String>,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = "\\S")
    )]
    pub user_id: Option<String>,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = "\\S")
    )]
    pub trace_id: Option<String>,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = "\\S")
    )]
    pub parent_trace_id: Option<String>,
    pub metadata: Option<Map<String, Value>>,
    pub tool_definitions: Option<Vec<ToolDefinition>>,
    /// A repeat within 24 hours returns the first conversation instead of a new one.
    pub idempotency_key: Option<String>,
}

/// `status` of an append: a conversation goes on or completes.
#[cfg(feature = "openapi")]
fn appended_status_schema() -> utoipa::openapi::Schema {
    crate::openapi::one_of_strings(&["active", "completed"], true)
}

/// `q`: no word at all (no search), a word of at least 3 letters or digits, or two words
/// ([`ConversationFilter::is_searchable`]).
#[cfg(feature = "openapi")]
fn search_query_schema() -> utoipa::openapi::Schema {
    crate::openapi::text_or_null_matching("^[\\W_]*$|[^\\W_]{3}|[^\\W_][\\W_]+[^\\W_]")
}

/// `POST /conversations/:id/messages` and `POST /runs/:id/messages`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppendMessages {
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub messages: Vec<Message>,
    /// `active` or `completed`; completing triggers insights.
    #[cfg_attr(feature = "openapi", schema(schema_with = appended_status_schema))]
    pub status: Option<ConversationStatus>,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = "\\S")
    )]
    pub session_id: Option<String>,
    pub metadata: Option<Map<String, Value>>,
    pub tool_definitions: Option<Vec<ToolDefinition>>,
}

/// The sort orders of `GET /conversations`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ConversationSort {
    /// Newest first (the default).
    #[default]
    #[serde(rename = "-createdAt")]
    NewestFirst,
    #[serde(rename = "createdAt")]
    OldestFirst,
    #[serde(rename = "-qualityScore")]
    BestFirst,
    #[serde(rename = "qualityScore")]
    WorstFirst,
}

/// Filters of `GET /conversations`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct ConversationFilter {
    #[serde(alias = "promptId")]
    pub agent_id: Option<String>,
    pub status: Option<ConversationStatus>,
    pub source: Option<ConversationSource>,
    pub has_insights: Option<bool>,
    /// Created at or after (RFC 3339).
    #[cfg_attr(feature = "openapi", param(format = DateTime))]
    pub from: Option<String>,
    /// Created before (RFC 3339).
    #[cfg_attr(feature = "openapi", param(format = DateTime))]
    pub to: Option<String>,
    /// Full-text search over the messages.
    #[cfg_attr(feature = "openapi", param(schema_with = search_query_schema))]
    pub q: Option<String>,
    pub min_quality: Option<f64>,
    pub max_quality: Option<f64>,
    pub session_id: Option<String>,
    pub has_failed_steps: Option<bool>,
    /// Conversations whose insights found at least one issue (or none, with `false`).
    pub has_issues: Option<bool>,
    pub sort: Option<ConversationSort>,
}

/// The query parameter of each filter, as serde names it: the dashboard builds its URLs and
/// `GET /conversations` requests from these, so the two sides cannot spell one differently.
impl ConversationFilter {
    /// The shortest word `q` searches by prefix; a search of one shorter word is refused.
    pub const MIN_PREFIX_CHARS: usize = 3;

    /// The words of a search, as the server reads them: runs of letters and digits.
    pub fn search_words(q: &str) -> impl Iterator<Item = &str> {
        q.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
    }

    /// Whether `q` can be searched: a lone word needs [`Self::MIN_PREFIX_CHARS`] characters.
    pub fn is_searchable(q: &str) -> bool {
        let mut words = Self::search_words(q);
        match (words.next(), words.next()) {
            (Some(only), None) => only.chars().count() >= Self::MIN_PREFIX_CHARS,
            (Some(_), Some(_)) => true,
            (None, _) => false,
        }
    }

    pub const AGENT_ID: &'static str = "agentId";
    pub const STATUS: &'static str = "status";
    pub const SOURCE: &'static str = "source";
    pub const HAS_INSIGHTS: &'static str = "hasInsights";
    pub const FROM: &'static str = "from";
    pub const TO: &'static str = "to";
    pub const Q: &'static str = "q";
    pub const MIN_QUALITY: &'static str = "minQuality";
    pub const MAX_QUALITY: &'static str = "maxQuality";
    pub const SESSION_ID: &'static str = "sessionId";
    pub const HAS_FAILED_STEPS: &'static str = "hasFailedSteps";
    pub const HAS_ISSUES: &'static str = "hasIssues";
    pub const SORT: &'static str = "sort";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_parameter_names_are_the_serialized_field_names() {
        let filter = ConversationFilter {
            agent_id: Some(String::new()),
            status: Some(ConversationStatus::Active),
            source: Some(ConversationSource::Otel),
            has_insights: Some(true),
            from: Some(String::new()),
            to: Some(String::new()),
            q: Some(String::new()),
            min_quality: Some(0.0),
            max_quality: Some(0.0),
            session_id: Some(String::new()),
            has_failed_steps: Some(true),
            has_issues: Some(true),
            sort: Some(ConversationSort::NewestFirst),
        };
        let serialized = serde_json::to_value(&filter).expect("a filter serializes");
        let mut names: Vec<&str> = serialized
            .as_object()
            .expect("a filter is an object")
            .keys()
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        let mut constants = vec![
            ConversationFilter::AGENT_ID,
            ConversationFilter::STATUS,
            ConversationFilter::SOURCE,
            ConversationFilter::HAS_INSIGHTS,
            ConversationFilter::FROM,
            ConversationFilter::TO,
            ConversationFilter::Q,
            ConversationFilter::MIN_QUALITY,
            ConversationFilter::MAX_QUALITY,
            ConversationFilter::SESSION_ID,
            ConversationFilter::HAS_FAILED_STEPS,
            ConversationFilter::HAS_ISSUES,
            ConversationFilter::SORT,
        ];
        constants.sort_unstable();
        assert_eq!(names, constants);
    }
}
