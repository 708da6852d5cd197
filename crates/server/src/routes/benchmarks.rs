//! Benchmarks: queue one (several agents, or one agent on several models, against the same
//! personas and scenarios), follow it, list them, and cancel or delete them in bulk.

use std::collections::HashSet;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use converra_api::agents::Agent;
use converra_api::benchmarks::{
    Benchmark, BenchmarkBulk, BenchmarkBulkResult, BenchmarkFilter, BulkAction, BulkFailure,
    CreateBenchmark,
};
use converra_api::{Data, List, Paging};

use crate::auth::Caller;
use crate::engine::personas::{persona, personas, scenarios};
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiQuery};
use crate::jobs::benchmarks::SUITE_SEED;
use crate::state::AppState;
use crate::store::benchmarks::{self as benchmark_store, CancelOutcome, NewBenchmark};
use crate::store::notify::Channel;
use crate::store::paging::PageRequest;
use crate::validate::Checks;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/benchmarks", get(list_benchmarks).post(create_benchmark))
        .route("/benchmarks/bulk", post(bulk_benchmarks))
        .route("/benchmarks/{id}", get(get_benchmark))
}

const MAX_AGENTS: usize = CreateBenchmark::MAX_AGENTS;
const MAX_SCENARIOS: u32 = CreateBenchmark::SCENARIO_COUNT.1;
const DEFAULT_SCENARIOS: u32 = 5;
const DEFAULT_MAX_TURNS: u32 = 8;
/// Personas a benchmark meets when it names none: the catalog's first ones.
const DEFAULT_PERSONAS: usize = 3;
const MIN_MODELS: usize = CreateBenchmark::MODELS.0;
const MAX_MODELS: usize = CreateBenchmark::MODELS.1;
const MAX_NAME_CHARS: usize = CreateBenchmark::MAX_NAME_CHARS;
const MAX_BULK_IDS: usize = 100;

/// A create request that passed the field checks; the agents' existence is checked next.
struct CheckedCreate {
    name: Option<String>,
    agent_ids: Vec<String>,
    models: Option<Vec<String>>,
    persona_ids: Vec<String>,
    scenario_count: u32,
    max_turns: u32,
}

/// Field checks of `POST /benchmarks`. `model_engine`: whether a model engine serves the
/// account (only then do different models play differently).
fn validate_create(input: &CreateBenchmark, model_engine: bool) -> ApiResult<CheckedCreate> {
    let mut checks = Checks::default();
    let name = checks.optional_text("name", input.name.as_deref(), MAX_NAME_CHARS);

    let (field, listed) = match (&input.agent_ids, &input.agent_id) {
        (Some(_), Some(_)) => {
            checks.fail("agentId", "give agentIds or agentId, not both");
            ("agentIds", Vec::new())
        }
        (Some(ids), None) => ("agentIds", ids.clone()),
        (None, Some(id)) => ("agentId", vec![id.clone()]),
        (None, None) => {
            checks.fail(
                "agentIds",
                "name the agents to compare (agentIds, or agentId for one)",
            );
            ("agentIds", Vec::new())
        }
    };
    if input.agent_ids.as_ref().is_some_and(Vec::is_empty) {
        checks.fail("agentIds", "must name at least one agent");
    } else if listed.len() > MAX_AGENTS {
        checks.fail("agentIds", format!("at most {MAX_AGENTS} agents"));
    }
    let mut agent_ids: Vec<String> = Vec::with_capacity(listed.len());
    for (i, id) in listed.iter().enumerate() {
        let at = if field == "agentId" {
            field.to_owned()
        } else {
            format!("agentIds[{i}]")
        };
        let id = checks.text(&at, id, 100);
        if agent_ids.contains(&id) {
            checks.fail(at, "is listed twice");
        } else {
            agent_ids.push(id);
        }
    }

    let models = input.models.as_ref().map(|models| {
        if !model_engine {
            checks.fail(
                "models",
                "the offline engine serves this account and plays every model the same, so a \
                 benchmark over models would compare nothing; connect a model (settings.llm) to \
                 compare models, or compare agents with agentIds",
            );
            return Vec::new();
        }
        if !(MIN_MODELS..=MAX_MODELS).contains(&models.len()) {
            checks.fail(
                "models",
                format!("must name between {MIN_MODELS} and {MAX_MODELS} models"),
            );
        }
        if agent_ids.len() > 1 {
            checks.fail(
                "models",
                "a benchmark over models compares one agent; give a single agentId",
            );
        }
        let mut distinct: Vec<String> = Vec::with_capacity(models.len());
        for (i, model) in models.iter().enumerate() {
            let model = checks.text(&format!("models[{i}]"), model, 100);
            if distinct.contains(&model) {
                checks.fail(format!("models[{i}]"), "is listed twice");
            } else {
                distinct.push(model);
            }
        }
        distinct
    });

    let persona_ids = match &input.persona_ids {
        None => personas()
            .iter()
            .take(DEFAULT_PERSONAS)
            .map(|p| p.id.to_owned())
            .collect(),
        Some(ids) => {
            if ids.is_empty() {
                checks.fail("personaIds", "must name at least one persona");
            }
            let mut chosen: Vec<String> = Vec::with_capacity(ids.len());
            for (i, id) in ids.iter().enumerate() {
                if persona(id).is_none() {
                    let known: Vec<&str> = personas().iter().map(|p| p.id).collect();
                    checks.fail(
                        format!("personaIds[{i}]"),
                        format!(
                            "is not a known persona; expected one of: {}",
                            known.join(", ")
                        ),
                    );
                } else if chosen.contains(id) {
                    checks.fail(format!("personaIds[{i}]"), "is listed twice");
                } else {
                    chosen.push(id.clone());
                }
            }
            chosen
        }
    };

    // The catalog bounds how many scenarios there are to run.
    let max_scenarios = MAX_SCENARIOS.min(u32::try_from(scenarios().len()).unwrap_or(u32::MAX));
    let scenario_count = checks
        .range_u32("scenarioCount", input.scenario_count, 1, max_scenarios)
        .unwrap_or(DEFAULT_SCENARIOS.min(max_scenarios));
    let max_turns = checks
        .range_u32(
            "maxTurns",
            input.max_turns,
            CreateBenchmark::MAX_TURNS.0,
            CreateBenchmark::MAX_TURNS.1,
        )
        .unwrap_or(DEFAULT_MAX_TURNS);

    checks.finish()?;
    Ok(CheckedCreate {
        name,
        agent_ids,
        models,
        persona_ids,
        scenario_count,
        max_turns,
    })
}

/// "Benchmark of Support, Sales", or "Benchmark of Support on gpt-4o, gpt-4o-mini", cut
/// to the name's limit.
fn default_name(agents: &[Agent], models: Option<&[String]>) -> String {
    let names: Vec<&str> = agents.iter().map(|a| a.name.as_str()).collect();
    let name = match models {
        Some(models) => format!("Benchmark of {} on {}", names.join(", "), models.join(", ")),
        None => format!("Benchmark of {}", names.join(", ")),
    };
    if name.chars().count() <= MAX_NAME_CHARS {
        name
    } else {
        let cut: String = name.chars().take(MAX_NAME_CHARS - 1).collect();
        format!("{cut}…")
    }
}

/// The account's benchmarks, newest first; `agentId` and `status` narrow the list.
#[utoipa::path(get, path = "/benchmarks", tag = "benchmarks", params(BenchmarkFilter, Paging),
    responses((status = 200, body = List<Benchmark>), (status = 400, body = converra_api::ErrorBody)))]
pub async fn list_benchmarks(
    State(state): State<AppState>,
    Caller(account): Caller,
    ApiQuery(filter): ApiQuery<BenchmarkFilter>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Json<List<Benchmark>>> {
    let page = PageRequest::from_query(&paging, Paging::DEFAULT_LIMIT)?;
    let (data, pagination) = state
        .store
        .list_benchmarks(&account.id, &filter, &page)
        .await?;
    Ok(Json(List { data, pagination }))
}

/// Queues a benchmark: every agent (or the one agent on every model) meets the same
/// personas in the first `scenarioCount` scenarios, with its current prompt.
#[utoipa::path(post, path = "/benchmarks", tag = "benchmarks", request_body = CreateBenchmark,
    responses((status = 201, body = Data<Benchmark>), (status = 400, body = converra_api::ErrorBody),
        (status = 403, body = converra_api::ErrorBody), (status = 404, body = converra_api::ErrorBody),
        (status = 429, body = converra_api::ErrorBody)))]
pub async fn create_benchmark(
    State(state): State<AppState>,
    Caller(account): Caller,
    ApiJson(input): ApiJson<CreateBenchmark>,
) -> ApiResult<(StatusCode, Json<Data<Benchmark>>)> {
    let engine = state.engine_for(&account.id).await?.name();
    let checked = validate_create(&input, engine.starts_with("model:"))?;
    let mut agents = Vec::with_capacity(checked.agent_ids.len());
    for id in &checked.agent_ids {
        agents.push(state.store.agent(&account.id, id).await?);
    }
    let name = checked
        .name
        .unwrap_or_else(|| default_name(&agents, checked.models.as_deref()));
    let new = NewBenchmark {
        name,
        agent_ids: checked.agent_ids,
        models: checked.models,
        persona_ids: checked.persona_ids,
        scenario_count: checked.scenario_count,
        max_turns: checked.max_turns,
        seed: SUITE_SEED,
        engine,
    };
    let now = state.clock.now_ms();
    let mut tx = state.store.begin_write().await?;
    crate::limits::ensure_benchmark_allowed(&mut tx, &account, now).await?;
    let benchmark = benchmark_store::insert_benchmark(&mut tx, &account.id, &new, now).await?;
    crate::store::usage::add_usage(
        &mut tx,
        &account.id,
        now,
        crate::store::usage::UsageDelta {
            benchmarks: 1,
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await?;
    state.wake(Channel::Benchmarks);
    Ok((StatusCode::CREATED, Json(Data::new(benchmark))))
}

#[utoipa::path(get, path = "/benchmarks/{id}", tag = "benchmarks", params(("id" = String, Path)),
    responses((status = 200, body = Data<Benchmark>), (status = 404, body = converra_api::ErrorBody)))]
pub async fn get_benchmark(
    State(state): State<AppState>,
    Caller(account): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Data<Benchmark>>> {
    Ok(Json(Data::new(
        state.store.benchmark(&account.id, &id).await?,
    )))
}

/// Cancels or deletes benchmarks by id, each on its own: an id that fails (unknown, another
/// account's, or a cancel of a finished benchmark) is listed in `failed` with the reason.
/// Deleting a running benchmark stops it.
#[utoipa::path(post, path = "/benchmarks/bulk", tag = "benchmarks", request_body = BenchmarkBulk,
    responses((status = 200, body = Data<BenchmarkBulkResult>), (status = 400, body = converra_api::ErrorBody)))]
pub async fn bulk_benchmarks(
    State(state): State<AppState>,
    Caller(account): Caller,
    ApiJson(input): ApiJson<BenchmarkBulk>,
) -> ApiResult<Json<Data<BenchmarkBulkResult>>> {
    let mut checks = Checks::default();
    if input.job_ids.is_empty() {
        checks.fail("jobIds", "must name at least one benchmark");
    } else if input.job_ids.len() > MAX_BULK_IDS {
        checks.fail("jobIds", format!("at most {MAX_BULK_IDS} ids"));
    }
    checks.finish()?;

    let now = state.clock.now_ms();
    let mut succeeded = Vec::new();
    let mut failed = Vec::new();
    let mut seen = HashSet::new();
    let mut tx = state.store.begin_write().await?;
    for id in &input.job_ids {
        // An id listed twice is acted on once.
        if !seen.insert(id.as_str()) {
            continue;
        }
        let outcome = match input.action {
            BulkAction::Delete => {
                if benchmark_store::delete_benchmark(&mut tx, &account.id, id).await? {
                    Ok(())
                } else {
                    Err("not found".to_owned())
                }
            }
            BulkAction::Cancel => {
                match benchmark_store::cancel_benchmark(&mut tx, &account.id, id, now).await? {
                    CancelOutcome::Cancelled => Ok(()),
                    CancelOutcome::NotFound => Err("not found".to_owned()),
                    CancelOutcome::Finished(status) => Err(format!(
                        "already {}; only a queued or running benchmark can be cancelled",
                        status.as_str()
                    )),
                }
            }
        };
        match outcome {
            Ok(()) => succeeded.push(id.clone()),
            Err(error) => failed.push(BulkFailure {
                id: id.clone(),
                error,
            }),
        }
    }
    tx.commit().await?;
    Ok(Json(Data::new(BenchmarkBulkResult {
        action: input.action,
        succeeded,
        failed,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_default_name_is_cut_to_the_limit() {
        let name = default_name(&[], None);
        assert_eq!(name, "Benchmark of ");
        let models: Vec<String> = (0..60).map(|i| format!("model-{i}")).collect();
        let name = default_name(&[], Some(&models));
        assert_eq!(name.chars().count(), MAX_NAME_CHARS);
        assert!(name.ends_with('…'));
    }
}
