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
