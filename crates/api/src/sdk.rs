//! The endpoints the official Python SDK calls besides runs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum TestingMode {
    Simulation,
    Proxy,
}

/// `GET /sdk/config`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SdkConfig {
    pub testing_mode: TestingMode,
    pub capture_enabled: bool,
    pub active_optimizations: Vec<Value>,
    /// Content hash of each agent's prompt (current and earlier versions) to its id.
    pub agent_hashes: BTreeMap<String, String>,
    /// The same map under its older name, for older SDKs.
    pub prompt_hashes: BTreeMap<String, String>,
}

/// `POST /sdk/agents/match`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MatchAgentRequest {
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 100000, pattern = "\\S")
    )]
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AgentMatch {
    pub agent_id: String,
    /// The same id under its older name.
    pub prompt_id: String,
    pub name: String,
    pub content_hash: String,
    /// False when no agent had this prompt and one was registered for it.
    pub matched: bool,
}

impl ActiveVariantQuery {
    /// The kinds of traffic `trafficType` names.
    pub const TRAFFIC_TYPES: [&'static str; 4] = ["user", "background", "eval", "batch"];
}

#[cfg(feature = "openapi")]
fn traffic_type_schema() -> utoipa::openapi::Schema {
    crate::openapi::one_of_strings(&ActiveVariantQuery::TRAFFIC_TYPES, true)
}

/// `GET /sdk/agents/:id/active-variant` query.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct ActiveVariantQuery {
    /// `user` (default), `background`, `eval` or `batch`; only `user` traffic is split.
    #[cfg_attr(feature = "openapi", param(schema_with = traffic_type_schema))]
    pub traffic_type: Option<String>,
    /// The same session always gets the same arm.
    #[cfg_attr(
        feature = "openapi",
        param(min_length = 1, max_length = 500, pattern = "\\S")
    )]
    pub session_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ServedVariant {
    pub id: String,
    pub content: String,
}

/// `GET /sdk/agents/:id/active-variant`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ActiveVariant {
    pub has_active_variant: bool,
    /// `baseline` or `variant`.
    pub assignment: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimization_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<ServedVariant>,
    /// Percent of sessions per arm: `{"baseline": 50, "variant": 50}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_split: Option<BTreeMap<String, u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_test: Option<bool>,
    /// What the SDK copies into the conversations it logs (`variantId`, `optimizationId`,
    /// `assignment`…), so they count towards the right arm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Map<String, Value>>,
}
