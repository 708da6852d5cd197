//! Benchmarks: `GET`/`POST /benchmarks`, `GET /benchmarks/:id` and `POST /benchmarks/bulk`
//! (cancel or delete several at once; a single cancel goes through it too).

use converra_api::benchmarks::{
    Benchmark, BenchmarkBulk, BenchmarkBulkResult, BenchmarkFilter, CreateBenchmark,
};
use converra_api::{Data, List};

use super::{ApiClient, ClientError};
use crate::query::{build_query, encode_component};

/// The query string of `GET /benchmarks` for a filter and a page (`cursor` from the
/// previous page's `pagination.nextCursor`).
pub fn benchmarks_query(filter: &BenchmarkFilter, limit: u32, cursor: Option<&str>) -> String {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    if let Some(agent_id) = filter.agent_id.as_deref().filter(|id| !id.is_empty()) {
        pairs.push(("agentId", agent_id.to_owned()));
    }
    if let Some(status) = filter.status {
        pairs.push(("status", status.as_str().to_owned()));
    }
    pairs.push(("limit", limit.to_string()));
    if let Some(cursor) = cursor.filter(|c| !c.is_empty()) {
        pairs.push(("cursor", cursor.to_owned()));
    }
    build_query(pairs)
}

/// One page of the account's benchmarks, newest first.
pub async fn list_benchmarks(
    client: &ApiClient,
    filter: &BenchmarkFilter,
    limit: u32,
    cursor: Option<&str>,
) -> Result<List<Benchmark>, ClientError> {
    client
        .get(&format!(
            "/benchmarks{}",
            benchmarks_query(filter, limit, cursor)
        ))
        .await
}

/// Queues a benchmark; it starts `queued` and the server runs it in the background.
pub async fn create_benchmark(
    client: &ApiClient,
    benchmark: &CreateBenchmark,
) -> Result<Benchmark, ClientError> {
    client
        .post::<Data<Benchmark>>("/benchmarks", benchmark)
        .await
        .map(|d| d.data)
}

/// One benchmark, with its progress and (once there) its results.
pub async fn get_benchmark(client: &ApiClient, id: &str) -> Result<Benchmark, ClientError> {
    client
        .get::<Data<Benchmark>>(&format!("/benchmarks/{}", encode_component(id)))
        .await
        .map(|d| d.data)
}

/// Cancels or deletes benchmarks by id; each id succeeds or fails on its own.
pub async fn bulk_benchmarks(
    client: &ApiClient,
    bulk: &BenchmarkBulk,
) -> Result<BenchmarkBulkResult, ClientError> {
    client
        .post::<Data<BenchmarkBulkResult>>("/benchmarks/bulk", bulk)
        .await
        .map(|d| d.data)
}
