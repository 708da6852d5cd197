//! Optimizations: start one, follow it, compare its variants, apply the winner or stop it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use converra_api::agents::VersionSource;
use converra_api::insights::Metric;
use converra_api::optimizations::{
    AppliedVariant, ApplyVariant, CreateOptimization, JobError, LiveTraffic, Optimization,
    OptimizationFilter, OptimizationIntent, OptimizationMode, OptimizationStatus,
    OptimizationStrategy, SimulatedTranscript, SimulationPlan, StopOptimization, Variant,
};
use converra_api::webhooks::{AgentUpdated, OptimizationStopped};
use converra_api::{Data, List, Paging};

use crate::auth::Caller;
use crate::clock::rfc3339;
use crate::engine::personas::{persona, personas, scenario};
use crate::engine::rng::fnv1a;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiJsonOrDefault, ApiQuery};
use crate::limits::{ensure_optimization_concurrency, ensure_optimization_quota};
use crate::state::AppState;
use crate::store::agents::{self as agent_store, AgentChange, VersionOrigin};
use crate::store::notify::Channel;
use crate::store::optimizations::{
    self as optimization_store, finish_optimization, Finish, NewOptimization, VariantRecord,
    CONTROL_ID,
};
use crate::store::paging::PageRequest;
use crate::store::usage::{add_usage, UsageDelta};
use crate::store::webhooks::queue_event;
use crate::validate::Checks;

/// Replicates of each persona × scenario cell per arm, by mode.
const EXPLORATORY_REPLICATES: u32 = 2;
const VALIDATION_REPLICATES: u32 = 6;
/// The least confidence a validation run accepts.
const VALIDATION_CONFIDENCE: f64 = 0.95;
/// Generations of the reflective strategy when the request names none.
const DEFAULT_GENERATIONS: u32 = 3;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/optimizations",
            get(list_optimizations).post(create_optimization),
        )
        .route("/optimizations/{id}", get(get_optimization))
        .route("/optimizations/{id}/variants", get(list_variants))
        .route("/optimizations/{id}/apply", post(apply_variant))
        .route("/optimizations/{id}/stop", post(stop_optimization))
        .route(
            "/optimizations/{id}/simulations/{simulation_id}",
            get(get_simulation),
        )
}

/// Queues an optimization of the agent's current version. 403 `LIMIT_EXCEEDED` over the
/// month's quota; 429 `CONCURRENCY_LIMIT` when 10 are already queued or running.
#[utoipa::path(post, path = "/optimizations", tag = "optimizations", request_body = CreateOptimization,
    responses((status = 201, body = Data<Optimization>), (status = 400, body = converra_api::ErrorBody),
        (status = 403, body = converra_api::ErrorBody), (status = 404, body = converra_api::ErrorBody),
        (status = 429, body = converra_api::ErrorBody)))]
pub async fn create_optimization(
    State(state): State<AppState>,
    Caller(account): Caller,
    ApiJson(input): ApiJson<CreateOptimization>,
) -> ApiResult<(StatusCode, Json<Data<Optimization>>)> {
    let settings = state.store.settings(&account.id).await?;
    let defaults = settings.optimization.simulation.clone();
    let mut checks = Checks::default();
    let agent_id = checks.text("agentId", &input.agent_id, 200);
    let variant_count = checks
        .range_u32("variantCount", input.variant_count, 1, 5)
        .unwrap_or(settings.optimization.variants_per_generation);
    let overrides = input
        .simulation
        .unwrap_or(converra_api::optimizations::SimulationOverrides {
            persona_count: None,
            scenarios_per_simulation: None,
            max_turns: None,
        });
    let persona_count = checks
        .range_u32("simulation.personaCount", overrides.persona_count, 1, 20)
        .unwrap_or(defaults.persona_count);
    let scenario_count = checks
        .range_u32(
            "simulation.scenariosPerSimulation",
            overrides.scenarios_per_simulation,
            1,
            10,
        )
        .unwrap_or(defaults.scenarios_per_simulation);
    let max_turns = checks
        .range_u32("simulation.maxTurns", overrides.max_turns, 2, 30)
        .unwrap_or(defaults.max_turns);
    let persona_ids: Vec<String> = match &input.persona_ids {
        Some(ids) => {
            if ids.is_empty() || ids.len() > CreateOptimization::MAX_PERSONA_IDS {
                checks.fail("personaIds", "must name 1 to 20 personas");
            }
            for id in ids {
                if persona(id).is_none() {
                    checks.fail(
                        "personaIds",
                        format!(
                            "'{id}' is not a persona; known: {}",
                            personas()
                                .iter()
                                .map(|p| p.id)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                }
            }
            ids.clone()
        }
        // More personas than the catalogue holds become more replicates below.
        None => personas()
            .iter()
            .take(persona_count as usize)
            .map(|p| p.id.to_owned())
            .collect(),
    };
    if let Some(intent) = &input.intent {
        if intent.target_improvements.len() > OptimizationIntent::MAX_TARGET_IMPROVEMENTS
            || intent
                .target_improvements
                .iter()
                .any(|t| t.len() > OptimizationIntent::MAX_TARGET_CHARS)
        {
            checks.fail(
                "intent.targetImprovements",
                "at most 10 entries of at most 500 characters",
            );
        }
        if intent
            .hypothesis
            .as_ref()
            .is_some_and(|h| h.len() > OptimizationIntent::MAX_HYPOTHESIS_CHARS)
        {
            checks.fail("intent.hypothesis", "at most 2000 characters");
        }
    }
    let max_iterations_allowed = settings.optimization.max_iterations.max(1);
    let max_iterations = checks
        .range_u32(
            "maxIterations",
            input.max_iterations,
            1,
            max_iterations_allowed,
        )
        .unwrap_or(DEFAULT_GENERATIONS.min(max_iterations_allowed));
    let engine = state.engine_for(&account.id).await?;
    let can_reflect = engine.reflector().is_some();
    let strategy = input
        .optimization_strategy
        .or_else(|| {
            settings
                .optimization
                .optimization_strategy
                .as_deref()
                .and_then(|s| s.parse().ok())
                .filter(|s| *s == OptimizationStrategy::Rewrite || can_reflect)
        })
        .unwrap_or(if can_reflect {
            OptimizationStrategy::Reflective
        } else {
            OptimizationStrategy::Rewrite
        });
    if strategy == OptimizationStrategy::Reflective && !can_reflect {
        checks.fail(
            "optimizationStrategy",
            "'reflective' needs a language model: set llm.baseUrl and llm.model in the settings, or use 'rewrite'",
        );
    }
    checks.finish()?;

    let mode = input.mode.unwrap_or_default();
    let level = settings.optimization.simulation.confidence_mode.level();
    let (replicates, confidence_level) = match mode {
        OptimizationMode::Exploratory => (EXPLORATORY_REPLICATES, level),
        OptimizationMode::Validation => (VALIDATION_REPLICATES, level.max(VALIDATION_CONFIDENCE)),
    };
    let cells_per_replicate =
        persona_count.max(u32::try_from(persona_ids.len()).unwrap_or(1)) * scenario_count;
    let plan = SimulationPlan {
        persona_count,
        scenarios_per_simulation: scenario_count,
        max_turns,
        conversations_per_variant: cells_per_replicate * replicates,
        confidence_level,
    };
    let now = state.clock.now_ms();
    let mut tx = state.store.begin_write().await?;
    let agent = agent_store::agent_in(&mut tx, &account.id, &agent_id).await?;
    ensure_optimization_quota(&mut tx, &account, now).await?;
    ensure_optimization_concurrency(&mut tx, &account).await?;
    let seed = input
        .seed
        .unwrap_or_else(|| fnv1a(crate::ids::new_id("seed").as_bytes()));
    let optimization = optimization_store::insert_optimization(
        &mut tx,
        &account.id,
        &NewOptimization {
            agent_id: agent.id,
            agent_version: agent.version,
            mode,
            variant_count,
            strategy,
            max_iterations: match strategy {
                OptimizationStrategy::Reflective => max_iterations,
                OptimizationStrategy::Rewrite => 0,
            },
            intent: input.intent,
            persona_ids,
            plan,
            seed,
            engine: engine.name(),
        },
        now,
    )
    .await?;
    add_usage(
        &mut tx,
        &account.id,
        now,
        UsageDelta {
            optimizations: 1,
            ..UsageDelta::default()
        },
    )
    .await?;
    tx.commit().await?;
    state.wake(Channel::Optimizations);
    Ok((StatusCode::CREATED, Json(Data::new(optimization))))
}

#[utoipa::path(get, path = "/optimizations", tag = "optimizations", params(OptimizationFilter, Paging),
    responses((status = 200, body = List<Optimization>), (status = 400, body = converra_api::ErrorBody)))]
pub async fn list_optimizations(
    State(state): State<AppState>,
    Caller(account): Caller,
    ApiQuery(filter): ApiQuery<OptimizationFilter>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Json<List<Optimization>>> {
    let page = PageRequest::from_query(&paging, Paging::DEFAULT_LIMIT)?;
    let (data, pagination) = state
        .store
        .list_optimizations(&account.id, &filter, &page)
        .await?;
    Ok(Json(List { data, pagination }))
}

#[utoipa::path(get, path = "/optimizations/{id}", tag = "optimizations", params(("id" = String, Path)),
    responses((status = 200, body = Data<Optimization>), (status = 404, body = converra_api::ErrorBody)))]
pub async fn get_optimization(
    State(state): State<AppState>,
    Caller(account): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Data<Optimization>>> {
    Ok(Json(Data::new(
        state.store.optimization(&account.id, &id).await?.wire,
    )))
}

fn variant_body(
    optimization_id: &str,
    record: VariantRecord,
    status: OptimizationStatus,
    live: Option<LiveTraffic>,
) -> Variant {
    let id = record.public_id().to_owned();
    let is_control = record.position == 0;
    let tested_status = match (&record.report, status) {
        (Some(report), _) if !report.ran_every_cell => "not_run",
        (Some(_), _) => "tested",
        (None, OptimizationStatus::Running) => "testing",
        (None, _) => "pending",
    };
    let report = record.report.unwrap_or_else(empty_report);
    Variant {
        id,
        optimization_id: optimization_id.to_owned(),
        name: record.name,
        is_control,
        is_winner: report.is_winner,
        content: record.content,
        change_summary: record.change_summary,
        status: tested_status.to_owned(),
        metrics: report.metrics,
        stats: report.stats,
        difference: report.difference,
        test: report.test,
        p_value: report.p_value,
        p_value_adjusted: report.p_value_adjusted,
        probability_better_than_control: report.probability_better_than_control,
        probability_best: report.probability_best,
        enough_data: report.enough_data,
        minimum_detectable_effect: report.minimum_detectable_effect,
        tokens: report.tokens,
        latency_ms: report.latency_ms,
        persona_results: report.persona_results,
        conversation_scores: report.conversation_scores,
        sample_conversation_ids: report.sample_conversation_ids,
        live,
    }
}

/// An arm not evaluated yet: zeros, and no claim of enough data.
fn empty_report() -> crate::engine::optimizer::VariantReport {
    use converra_api::optimizations::{CostComparison, VariantMetrics};
    crate::engine::optimizer::VariantReport {
        is_winner: false,
        metrics: VariantMetrics {
            task_completion: 0.0,
            response_quality: 0.0,
            sentiment: 0.0,
            overall_score: 0.0,
            lift: 0.0,
            confidence: 0.0,
            simulation_count: 0,
        },
        stats: Default::default(),
        difference: None,
        test: None,
        p_value: None,
        p_value_adjusted: None,
        probability_better_than_control: None,
        probability_best: 0.0,
        enough_data: false,
        ran_every_cell: true,
        minimum_detectable_effect: None,
        tokens: CostComparison {
            mean: 0.0,
            difference: 0.0,
        },
        latency_ms: CostComparison {
            mean: 0.0,
            difference: 0.0,
        },
        persona_results: Vec::new(),
        conversation_scores: Vec::new(),
        sample_conversation_ids: Vec::new(),
    }
}

/// The control first, then each variant with its statistics against the control.
#[utoipa::path(get, path = "/optimizations/{id}/variants", tag = "optimizations", params(("id" = String, Path)),
    responses((status = 200, body = Data<Vec<Variant>>), (status = 404, body = converra_api::ErrorBody)))]
pub async fn list_variants(
    State(state): State<AppState>,
    Caller(account): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Data<Vec<Variant>>>> {
    let run = state.store.optimization(&account.id, &id).await?;
    let records = state.store.variants(&account.id, &id).await?;
    let mut variants = Vec::with_capacity(records.len());
    for record in records {
        let live = state
            .store
            .live_traffic(&account.id, &run.wire.agent_id, record.public_id(), &id)
            .await?;
        variants.push(variant_body(&id, record, run.wire.status, live));
    }
    Ok(Json(Data::new(variants)))
}

/// Makes the chosen variant (default: the winner) the agent's new version.
#[utoipa::path(post, path = "/optimizations/{id}/apply", tag = "optimizations", params(("id" = String, Path)),
    request_body = Option<ApplyVariant>,
    responses((status = 200, body = Data<AppliedVariant>), (status = 400, body = converra_api::ErrorBody),
        (status = 404, body = converra_api::ErrorBody), (status = 409, body = converra_api::ErrorBody)))]
pub async fn apply_variant(
    State(state): State<AppState>,
    Caller(account): Caller,
    Path(id): Path<String>,
    ApiJsonOrDefault(input): ApiJsonOrDefault<ApplyVariant>,
) -> ApiResult<Json<Data<AppliedVariant>>> {
    let now = state.clock.now_ms();
    let mut tx = state.store.begin_write().await?;
    let run = optimization_store::optimization_in(&mut tx, &account.id, &id).await?;
    let has_results = run.wire.results.is_some();
    let appliable = run.wire.status == OptimizationStatus::Completed
        || (run.wire.status == OptimizationStatus::Stopped && has_results);
    if !appliable {
        return Err(ApiError::conflict(format!(
            "Optimization '{id}' is {}; only a completed one (or a stopped one with results) can be applied",
            run.wire.status.as_str()
        )));
    }
    let variant_id = match input.variant_id {
        Some(v) => v,
        None => run
            .wire
            .results
            .as_ref()
            .and_then(|r| r.winning_variant_id.clone())
            .ok_or_else(|| {
                ApiError::invalid_field(
                    "variantId",
                    "this optimization named no winner; pass the variantId to apply",
                )
            })?,
    };
    if variant_id == CONTROL_ID {
        return Err(ApiError::invalid_field(
            "variantId",
            "var_control is the agent's current prompt; there is nothing to apply",
        ));
    }
    let variants = optimization_store::variants_in(&mut tx, &account.id, &id).await?;
    let variant = variants
        .into_iter()
        .find(|v| v.public_id() == variant_id)
        .ok_or_else(|| ApiError::not_found("Variant", &variant_id))?;
    let agent = agent_store::update_agent(
        &mut tx,
        &account.id,
        &run.wire.agent_id,
        &AgentChange {
            content: Some(variant.content.clone()),
            ..AgentChange::default()
        },
        &VersionOrigin {
            source: VersionSource::Optimization,
            optimization_id: Some(id.clone()),
            variant_id: Some(variant_id.clone()),
        },
        now,
    )
    .await?;
    optimization_store::record_applied_variant(
        &mut tx,
        &account.id,
        &id,
        &agent.id,
        &variant_id,
        now,
    )
    .await?;
    let agent = agent_store::agent_in(&mut tx, &account.id, &agent.id).await?;
    queue_event(
        &mut tx,
        &account.id,
        &AgentUpdated {
            agent_id: agent.id.clone(),
            name: agent.name.clone(),
            version: agent.version,
            source: VersionSource::Optimization,
            optimization_id: Some(id.clone()),
            variant_id: Some(variant_id.clone()),
            updated_at: rfc3339(now),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    state.wake(Channel::Webhooks);
    Ok(Json(Data::new(AppliedVariant {
        success: true,
        agent_id: agent.id.clone(),
        variant_id,
        applied_at: rfc3339(now),
        agent,
    })))
}

/// Stops a queued or running optimization; what was measured so far is kept (the runner
/// evaluates it). 409 once it has finished.
#[utoipa::path(post, path = "/optimizations/{id}/stop", tag = "optimizations", params(("id" = String, Path)),
    request_body = Option<StopOptimization>,
    responses((status = 200, body = Data<Optimization>), (status = 404, body = converra_api::ErrorBody),
        (status = 409, body = converra_api::ErrorBody)))]
pub async fn stop_optimization(
    State(state): State<AppState>,
    Caller(account): Caller,
    Path(id): Path<String>,
    ApiJsonOrDefault(input): ApiJsonOrDefault<StopOptimization>,
) -> ApiResult<Json<Data<Optimization>>> {
    let mut checks = Checks::default();
    let reason = checks.optional_text("reason", input.reason.as_deref(), 500);
    checks.finish()?;
    let now = state.clock.now_ms();
    let mut tx = state.store.begin_write().await?;
    let run = optimization_store::optimization_in(&mut tx, &account.id, &id).await?;
    if run.wire.status.is_finished() {
        return Err(ApiError::conflict(format!(
            "Optimization '{id}' has already finished ({})",
            run.wire.status.as_str()
        )));
    }
    let error = JobError {
        code: "STOPPED".to_owned(),
        message: reason
            .clone()
            .unwrap_or_else(|| "Stopped on request.".to_owned()),
    };
    finish_optimization(
        &mut tx,
        &account.id,
        &id,
        &Finish {
            status: OptimizationStatus::Stopped,
            results: None,
            error: Some(&error),
        },
        now,
    )
    .await?;
    queue_event(
        &mut tx,
        &account.id,
        &OptimizationStopped {
            optimization_id: id.clone(),
            agent_id: run.wire.agent_id.clone(),
            reason,
            simulations_completed: run.wire.progress.simulations_completed,
            stopped_at: rfc3339(now),
        },
        now,
    )
    .await?;
    let stopped = optimization_store::optimization_in(&mut tx, &account.id, &id).await?;
    tx.commit().await?;
    state.wake(Channel::Webhooks);
    Ok(Json(Data::new(stopped.wire)))
}

#[utoipa::path(get, path = "/optimizations/{id}/simulations/{simulation_id}", tag = "optimizations",
    params(("id" = String, Path), ("simulation_id" = String, Path)),
    responses((status = 200, body = Data<SimulatedTranscript>), (status = 404, body = converra_api::ErrorBody)))]
pub async fn get_simulation(
    State(state): State<AppState>,
    Caller(account): Caller,
    Path((id, simulation_id)): Path<(String, String)>,
) -> ApiResult<Json<Data<SimulatedTranscript>>> {
    let simulation = state
        .store
        .simulation(&account.id, &id, &simulation_id)
        .await?;
    let variants = state.store.variants(&account.id, &id).await?;
    let variant = variants
        .iter()
        .find(|v| v.row_id == simulation.variant_row_id);
    Ok(Json(Data::new(SimulatedTranscript {
        id: simulation.id,
        optimization_id: id,
        variant_id: variant
            .map(|v| v.public_id().to_owned())
            .unwrap_or_default(),
        variant_name: variant.map(|v| v.name.clone()).unwrap_or_default(),
        persona_name: persona(&simulation.persona_id)
            .map(|p| p.name.to_owned())
            .unwrap_or_else(|| simulation.persona_id.clone()),
        persona_id: simulation.persona_id,
        scenario_title: scenario(&simulation.scenario_id)
            .map(|s| s.title.to_owned())
            .unwrap_or_else(|| simulation.scenario_id.clone()),
        scenario_id: simulation.scenario_id,
        messages: simulation.messages,
        overall_score: simulation.overall,
        metrics: Metric::ALL
            .into_iter()
            .map(|m| (m.as_str().to_owned(), simulation.metrics.get(m)))
            .collect(),
        task_completed: simulation.task_completed,
    })))
}
