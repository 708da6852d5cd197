//! Agents: a system prompt plus its model settings, versioned.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum AgentStatus {
    Draft,
    Active,
    Deprecated,
    Archived,
}

impl AgentStatus {
    pub const ALL: [AgentStatus; 4] = [
        AgentStatus::Draft,
        AgentStatus::Active,
        AgentStatus::Deprecated,
        AgentStatus::Archived,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AgentStatus::Draft => "draft",
            AgentStatus::Active => "active",
            AgentStatus::Deprecated => "deprecated",
            AgentStatus::Archived => "archived",
        }
    }
}

impl std::str::FromStr for AgentStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AgentStatus::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown agent status '{s}'"))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Agent {
    pub id: String,
    pub name: String,
    /// The system prompt.
    pub content: String,
    pub llm_model: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub status: AgentStatus,
    pub is_active: bool,
    pub conversation_count: u64,
    pub last_optimized_at: Option<String>,
    /// When one of its conversations was last logged or grew; `null` before the first.
    pub last_activity_at: Option<String>,
    /// The business objective optimizations aim at.
    pub objective: Option<String>,
    /// What an optimization must not change (required sections, output formats); kept
    /// verbatim in every variant.
    pub constraints: Option<String>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub max_tokens: Option<u32>,
    pub reasoning_effort: Option<String>,
    /// 1, then +1 on each change of `content` or `llmModel`.
    pub version: u32,
    /// Hex SHA-256 of `content` trimmed with whitespace runs folded to one space.
    pub content_hash: String,
    pub avg_quality_score: Option<f64>,
    pub created_at: String,
    pub updated_at: String,
}

/// `POST /agents`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateAgent {
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = "\\S")
    )]
    pub name: String,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 100000, pattern = "\\S")
    )]
    pub content: String,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 100, pattern = "\\S")
    )]
    pub llm_model: Option<String>,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 2000, pattern = "\\S")
    )]
    pub description: Option<String>,
    #[cfg_attr(feature = "openapi", schema(schema_with = tags_schema))]
    pub tags: Option<Vec<String>>,
    pub status: Option<AgentStatus>,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 2000, pattern = "\\S")
    )]
    pub objective: Option<String>,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 10000, pattern = "\\S")
    )]
    pub constraints: Option<String>,
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0, maximum = 2.0))]
    pub temperature: Option<f64>,
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0, maximum = 1.0))]
    pub top_p: Option<f64>,
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000000))]
    pub max_tokens: Option<u32>,
    #[cfg_attr(feature = "openapi", schema(schema_with = reasoning_effort_schema))]
    pub reasoning_effort: Option<String>,
}

/// The longest value each field takes, in characters: the server refuses longer ones and
/// the dashboard's form says so before sending. The same for `PATCH /agents/:id`.
impl CreateAgent {
    pub const MAX_NAME_CHARS: usize = 200;
    pub const MAX_PROMPT_CHARS: usize = 100_000;
    pub const MAX_MODEL_CHARS: usize = 100;
    pub const MAX_DESCRIPTION_CHARS: usize = 2_000;
    pub const MAX_OBJECTIVE_CHARS: usize = 2_000;
    pub const MAX_TAGS: usize = 20;
    pub const MAX_TAG_CHARS: usize = 50;
    /// The inclusive range `temperature` takes.
    pub const TEMPERATURE_RANGE: (f64, f64) = (0.0, 2.0);
    /// The values `reasoningEffort` takes.
    pub const REASONING_EFFORTS: [&'static str; 4] = ["minimal", "low", "medium", "high"];
    /// The inclusive range `maxTokens` takes.
    pub const MAX_TOKENS_RANGE: (u32, u32) = (1, 1_000_000);
}

/// `tags`: at most [`CreateAgent::MAX_TAGS`], each non-blank and at most
/// [`CreateAgent::MAX_TAG_CHARS`] characters.
#[cfg(feature = "openapi")]
fn tags_schema() -> utoipa::openapi::Schema {
    crate::openapi::non_blank_texts_or_null(CreateAgent::MAX_TAGS, CreateAgent::MAX_TAG_CHARS)
}

#[cfg(feature = "openapi")]
fn reasoning_effort_schema() -> utoipa::openapi::Schema {
    crate::openapi::one_of_strings(&CreateAgent::REASONING_EFFORTS, true)
}

/// `PATCH /agents/:id`: any create field; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateAgent {
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = "\\S")
    )]
    pub name: Option<String>,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 100000, pattern = "\\S")
    )]
    pub content: Option<String>,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 100, pattern = "\\S")
    )]
    pub llm_model: Option<String>,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 2000, pattern = "\\S")
    )]
    pub description: Option<String>,
    #[cfg_attr(feature = "openapi", schema(schema_with = tags_schema))]
    pub tags: Option<Vec<String>>,
    pub status: Option<AgentStatus>,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 2000, pattern = "\\S")
    )]
    pub objective: Option<String>,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 10000, pattern = "\\S")
    )]
    pub constraints: Option<String>,
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0, maximum = 2.0))]
    pub temperature: Option<f64>,
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0, maximum = 1.0))]
    pub top_p: Option<f64>,
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000000))]
    pub max_tokens: Option<u32>,
    #[cfg_attr(feature = "openapi", schema(schema_with = reasoning_effort_schema))]
    pub reasoning_effort: Option<String>,
}

/// Filters of `GET /agents`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct AgentFilter {
    pub status: Option<AgentStatus>,
    pub tag: Option<String>,
    /// Matches the name, description or prompt, case-insensitively.
    pub search: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum VersionSource {
    Manual,
    Optimization,
    Sdk,
    /// A system prompt seen in OpenTelemetry spans.
    Otel,
}

impl VersionSource {
    pub fn as_str(self) -> &'static str {
        match self {
            VersionSource::Manual => "manual",
            VersionSource::Optimization => "optimization",
            VersionSource::Sdk => "sdk",
            VersionSource::Otel => "otel",
        }
    }
}

impl std::str::FromStr for VersionSource {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "manual" => Ok(VersionSource::Manual),
            "optimization" => Ok(VersionSource::Optimization),
            "sdk" => Ok(VersionSource::Sdk),
            "otel" => Ok(VersionSource::Otel),
            other => Err(format!("unknown version source '{other}'")),
        }
    }
}

/// One entry of `GET /agents/:id/versions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AgentVersion {
    pub version: u32,
    pub content: String,
    pub llm_model: String,
    pub content_hash: String,
    pub source: VersionSource,
    pub optimization_id: Option<String>,
    pub variant_id: Option<String>,
    pub created_at: String,
}

/// The hash the SDK computes for a prompt: SHA-256 (hex) of the text trimmed, with every
/// run of whitespace folded to one space.
pub fn normalize_prompt(content: &str) -> String {
    content.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization_matches_the_sdk() {
        // The SDK: strip(), then re.sub(r"\s+", " ", …).
        assert_eq!(
            normalize_prompt("  You are\n\n a  helpful\tbot.  \n"),
            "You are a helpful bot."
        );
        assert_eq!(normalize_prompt(""), "");
    }

    #[test]
    fn create_agent_rejects_unknown_fields() {
        let err =
            serde_json::from_str::<CreateAgent>(r#"{"name":"a","content":"b","colour":"red"}"#);
        assert!(err.is_err());
    }
}
