//! Agents: `GET`/`POST /agents`, `GET`/`PATCH /agents/:id`, `GET /agents/:id/versions`.

use converra_api::agents::{Agent, AgentFilter, AgentVersion, CreateAgent, UpdateAgent};
use converra_api::{Data, List, Paging};

use super::{ApiClient, ClientError};
use crate::query::{build_query, encode_component};

/// The largest page `GET /agents` serves.
pub const MAX_PAGE: u32 = 100;
/// How many pages [`list_all_agents`] follows before stopping (10,000 agents).
const MAX_PAGES: usize = 100;

/// The query string of `GET /agents` for a filter and a page (`cursor` from the previous
/// page's `pagination.nextCursor`).
pub fn agents_query(filter: &AgentFilter, limit: u32, cursor: Option<&str>) -> String {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    if let Some(status) = filter.status {
        pairs.push(("status", status.as_str().to_owned()));
    }
    if let Some(tag) = filter.tag.as_deref().filter(|t| !t.trim().is_empty()) {
        pairs.push(("tag", tag.trim().to_owned()));
    }
    if let Some(search) = filter.search.as_deref().filter(|s| !s.trim().is_empty()) {
        pairs.push(("search", search.trim().to_owned()));
    }
    pairs.push(("limit", limit.to_string()));
    if let Some(cursor) = cursor {
        pairs.push(("cursor", cursor.to_owned()));
    }
    build_query(pairs)
}

/// One page of the account's agents, newest first.
pub async fn list_agents(
    client: &ApiClient,
    filter: &AgentFilter,
    limit: u32,
    cursor: Option<&str>,
) -> Result<List<Agent>, ClientError> {
    client
        .get(&format!("/agents{}", agents_query(filter, limit, cursor)))
        .await
}

/// Every agent the filter matches, following the cursor page by page (an account has few).
pub async fn list_all_agents(
    client: &ApiClient,
    filter: &AgentFilter,
) -> Result<Vec<Agent>, ClientError> {
    let mut agents = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = list_agents(client, filter, MAX_PAGE, cursor.as_deref()).await?;
        agents.extend(page.data);
        match page.pagination.next_cursor {
            Some(next) if page.pagination.has_more => cursor = Some(next),
            _ => break,
        }
    }
    Ok(agents)
}

/// One agent.
pub async fn get_agent(client: &ApiClient, id: &str) -> Result<Agent, ClientError> {
    client
        .get::<Data<Agent>>(&format!("/agents/{}", encode_component(id)))
        .await
        .map(|d| d.data)
}

/// Registers an agent (version 1); `llmModel` left out means the account's preferred model.
pub async fn create_agent(client: &ApiClient, agent: &CreateAgent) -> Result<Agent, ClientError> {
    client
        .post::<Data<Agent>>("/agents", agent)
        .await
        .map(|d| d.data)
}

/// Changes the fields that are set; a new prompt or model makes a new version.
pub async fn update_agent(
    client: &ApiClient,
    id: &str,
    change: &UpdateAgent,
) -> Result<Agent, ClientError> {
    client
        .patch::<Data<Agent>>(&format!("/agents/{}", encode_component(id)), change)
        .await
        .map(|d| d.data)
}

/// The newest 100 versions of the agent's prompt, newest first, and how many there are.
pub async fn list_agent_versions(
    client: &ApiClient,
    id: &str,
) -> Result<List<AgentVersion>, ClientError> {
    client
        .get::<List<AgentVersion>>(&format!(
            "/agents/{}/versions?limit={}",
            encode_component(id),
            Paging::MAX_LIMIT
        ))
        .await
}
