//! Insights: `GET /agents/:id/insights` and its regeneration, `GET /agents/:id/step-failures`,
//! one conversation's insights and their regeneration, and `GET /deployments/impact`.

use converra_api::insights::{
    AgentInsights, AgentInsightsQueued, ConversationInsightsState, DeploymentsImpact,
    DeploymentsQuery, InsightsQueued, RegenerateAgentInsights, StepFailures,
};
use converra_api::Data;

use super::{ApiClient, ClientError};
use crate::query::{build_query, encode_component};

/// An agent's insights over the last `days` (7, 30 or 90; the server refuses others).
pub async fn get_agent_insights(
    client: &ApiClient,
    agent_id: &str,
    days: u32,
) -> Result<AgentInsights, ClientError> {
    client
        .get::<Data<AgentInsights>>(&format!(
            "/agents/{}/insights{}",
            encode_component(agent_id),
            build_query([("days", days.to_string())])
        ))
        .await
        .map(|d| d.data)
}

/// Queues the analysis of the agent's newest conversations again.
pub async fn regenerate_agent_insights(
    client: &ApiClient,
    agent_id: &str,
    request: &RegenerateAgentInsights,
) -> Result<AgentInsightsQueued, ClientError> {
    client
        .post::<Data<AgentInsightsQueued>>(
            &format!("/agents/{}/insights/regenerate", encode_component(agent_id)),
            request,
        )
        .await
        .map(|d| d.data)
}

/// Which steps of the agent's conversations failed over the last 30 days, and why.
pub async fn get_step_failures(
    client: &ApiClient,
    agent_id: &str,
) -> Result<StepFailures, ClientError> {
    client
        .get::<Data<StepFailures>>(&format!(
            "/agents/{}/step-failures",
            encode_component(agent_id)
        ))
        .await
        .map(|d| d.data)
}

/// One conversation's insights when ready, else where their lifecycle stands.
pub async fn get_conversation_insights(
    client: &ApiClient,
    conversation_id: &str,
) -> Result<ConversationInsightsState, ClientError> {
    client
        .get::<Data<ConversationInsightsState>>(&format!(
            "/conversations/{}/insights",
            encode_component(conversation_id)
        ))
        .await
        .map(|d| d.data)
}

/// Queues one conversation's analysis again; its insights go back to `pending`.
pub async fn regenerate_conversation_insights(
    client: &ApiClient,
    conversation_id: &str,
) -> Result<InsightsQueued, ClientError> {
    // The endpoint reads no body; an empty object keeps the request plain JSON.
    client
        .post::<Data<InsightsQueued>>(
            &format!(
                "/conversations/{}/insights/regenerate",
                encode_component(conversation_id)
            ),
            &serde_json::Map::new(),
        )
        .await
        .map(|d| d.data)
}

/// The query string of `GET /deployments/impact`, leaving out what is unset.
pub fn deployments_query(query: &DeploymentsQuery) -> String {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    if let Some(agent_id) = query.agent_id.as_deref().filter(|id| !id.is_empty()) {
        pairs.push(("agentId", agent_id.to_owned()));
    }
    if let Some(status) = query.status {
        pairs.push(("status", status.as_str().to_owned()));
    }
    if let Some(limit) = query.limit {
        pairs.push(("limit", limit.to_string()));
    }
    build_query(pairs)
}

/// Whether the account's applied changes reduced failures, newest change first.
pub async fn get_deployments_impact(
    client: &ApiClient,
    query: &DeploymentsQuery,
) -> Result<DeploymentsImpact, ClientError> {
    client
        .get::<Data<DeploymentsImpact>>(&format!("/deployments/impact{}", deployments_query(query)))
        .await
        .map(|d| d.data)
}
