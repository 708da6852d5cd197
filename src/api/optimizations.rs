//! Optimizations: `GET`/`POST /optimizations`, `GET /optimizations/:id`,
//! `GET /optimizations/:id/variants`, `POST /optimizations/:id/apply`,
//! `POST /optimizations/:id/stop` and `GET /optimizations/:id/simulations/:simId`.

use converra_api::optimizations::{
    AppliedVariant, ApplyVariant, CreateOptimization, Optimization, OptimizationFilter,
    SimulatedTranscript, StopOptimization, Variant,
};
use converra_api::{Data, List};

use super::{ApiClient, ClientError};
use crate::query::{build_query, encode_component};

/// The query string of `GET /optimizations` for a filter and a page (`cursor` from the
/// previous page's `pagination.nextCursor`).
pub fn optimizations_query(
    filter: &OptimizationFilter,
    limit: u32,
    cursor: Option<&str>,
) -> String {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    if let Some(agent) = filter.agent_id.as_deref().filter(|a| !a.trim().is_empty()) {
        pairs.push(("agentId", agent.trim().to_owned()));
    }
    if let Some(status) = filter.status {
        pairs.push(("status", status.as_str().to_owned()));
    }
    pairs.push(("limit", limit.to_string()));
    if let Some(cursor) = cursor {
        pairs.push(("cursor", cursor.to_owned()));
    }
    build_query(pairs)
}

/// One page of the account's optimizations, newest first.
pub async fn list_optimizations(
    client: &ApiClient,
    filter: &OptimizationFilter,
    limit: u32,
    cursor: Option<&str>,
) -> Result<List<Optimization>, ClientError> {
    client
        .get(&format!(
            "/optimizations{}",
            optimizations_query(filter, limit, cursor)
        ))
        .await
}

/// Queues an optimization of the agent's current version: 201 with it queued; 403
/// `LIMIT_EXCEEDED` over the month's quota, 429 `CONCURRENCY_LIMIT` when ten already run.
pub async fn create_optimization(
    client: &ApiClient,
    request: &CreateOptimization,
) -> Result<Optimization, ClientError> {
    client
        .post::<Data<Optimization>>("/optimizations", request)
        .await
        .map(|d| d.data)
}

/// One optimization, with its progress and, once evaluated, its results.
pub async fn get_optimization(client: &ApiClient, id: &str) -> Result<Optimization, ClientError> {
    client
        .get::<Data<Optimization>>(&format!("/optimizations/{}", encode_component(id)))
        .await
        .map(|d| d.data)
}

/// The control first, then each variant with its statistics against the control.
pub async fn list_variants(client: &ApiClient, id: &str) -> Result<Vec<Variant>, ClientError> {
    client
        .get::<Data<Vec<Variant>>>(&format!("/optimizations/{}/variants", encode_component(id)))
        .await
        .map(|d| d.data)
}

/// Makes a variant (by default the winner) the agent's new version; 409 unless the run is
/// completed (or stopped with results), 400 for the control.
pub async fn apply_variant(
    client: &ApiClient,
    id: &str,
    request: &ApplyVariant,
) -> Result<AppliedVariant, ClientError> {
    client
        .post::<Data<AppliedVariant>>(
            &format!("/optimizations/{}/apply", encode_component(id)),
            request,
        )
        .await
        .map(|d| d.data)
}

/// Stops a queued or running optimization, keeping what was measured; 409 once finished.
pub async fn stop_optimization(
    client: &ApiClient,
    id: &str,
    request: &StopOptimization,
) -> Result<Optimization, ClientError> {
    client
        .post::<Data<Optimization>>(
            &format!("/optimizations/{}/stop", encode_component(id)),
            request,
        )
        .await
        .map(|d| d.data)
}

/// One simulated conversation of the optimization.
pub async fn get_simulation(
    client: &ApiClient,
    id: &str,
    simulation_id: &str,
) -> Result<SimulatedTranscript, ClientError> {
    client
        .get::<Data<SimulatedTranscript>>(&format!(
            "/optimizations/{}/simulations/{}",
            encode_component(id),
            encode_component(simulation_id)
        ))
        .await
        .map(|d| d.data)
}
