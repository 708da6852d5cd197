//! Insights: one conversation's, an agent's (with the fleet), step failures, and whether
//! applied changes worked.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use converra_api::agents::{AgentFilter, VersionSource};
use converra_api::conversations::InsightsStatus;
use converra_api::insights::{
    AgentInsights, AgentInsightsQuery, AgentInsightsQueued, ConversationInsights,
    ConversationInsightsState, ConversationRef, DeploymentSummary, DeploymentsImpact,
    DeploymentsQuery, DiagnosedStep, InsightMetrics, InsightsQueued, InsightsUnavailable, Metric,
    MetricValue, RegenerateAgentInsights, StepDiagnosis, StepFailures, TopIssue,
    VerificationStatus,
};
use converra_api::{Data, Paging};

use crate::auth::Caller;
use crate::clock::DAY_MS;
use crate::clock::{parse_rfc3339, rfc3339};
use crate::engine::aggregate::{self, AgentInsightsInput, Deployment};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJsonOrDefault, ApiQuery};
use crate::state::AppState;
use crate::store::insights::{queue_insights, StoredInsights};
use crate::store::notify::Channel;
use crate::store::paging::PageRequest;
use crate::validate::Checks;

pub fn router() -> Router<AppState> {
    let mut router = Router::new();
    for base in ["/conversations", "/runs"] {
        router = router
            .route(
                &format!("{base}/{{id}}/insights"),
                get(conversation_insights),
            )
            .route(
                &format!("{base}/{{id}}/insights/regenerate"),
                post(regenerate_conversation_insights),
            );
    }
    router
        .route("/agents/{id}/insights", get(agent_insights))
        .route(
            "/agents/{id}/insights/regenerate",
            post(regenerate_agent_insights),
        )
        .route("/agents/{id}/step-failures", get(step_failures))
        .route("/deployments/impact", get(deployments_impact))
}

/// The wire form of stored insights, each metric against the fleet's average.
fn insights_body(
    conversation_id: &str,
    stored: StoredInsights,
    fleet: Option<crate::engine::MetricScores>,
) -> ConversationInsights {
    let analysis = stored.analysis;
    let round = |v: f64| (v * 10.0).round() / 10.0;
    let values = Metric::ALL.map(|metric| MetricValue {
        value: round(analysis.metrics.get(metric)),
        benchmark: fleet.map(|f| round(f.get(metric))),
    });
    ConversationInsights {
        id: stored.id,
        conversation_id: conversation_id.to_owned(),
        title: analysis.title,
        executive_summary: analysis.executive_summary,
        summary: analysis.summary,
        user_facing_summary: analysis.user_facing_summary,
        top_issues: analysis
            .issues
            .into_iter()
            .map(|issue| TopIssue {
                title: issue.title,
                description: issue.description,
                severity: issue.severity,
                message_indexes: issue.message_indexes,
            })
            .collect(),
        additional_concerns: analysis.additional_concerns,
        next_steps: analysis.next_steps,
        keywords: analysis.keywords,
        topics: analysis.topics,
        sentiment: analysis.sentiment,
        sentiment_score: analysis.sentiment_score,
        task_completed: analysis.task_completed,
        business_impact: analysis.business_impact,
        step_diagnosis: (!analysis.steps.is_empty()).then(|| StepDiagnosis {
            steps: analysis
                .steps
                .into_iter()
                .map(|step| DiagnosedStep {
                    name: step.name,
                    status: step.status,
                    error: step.error,
                    message_index: step.message_index,
                    root_cause: step.root_cause,
                })
                .collect(),
        }),
        metrics: InsightMetrics::from_values(
            round(analysis.gated_score),
            round(analysis.quality_score),
            analysis.objective_multiplier,
            values,
        ),
        engine: stored.engine,
        created_at: rfc3339(stored.created_at),
        updated_at: rfc3339(stored.updated_at),
    }
}

/// Ready insights, or where they stand: `pending` (with the last error and the next
/// retry, if one failed), `skipped` (auto-generation is off) or `failed` (with the reason).
#[utoipa::path(get, path = "/conversations/{id}/insights", tag = "insights", params(("id" = String, Path)),
    responses((status = 200, body = Data<ConversationInsightsState>), (status = 404, body = converra_api::ErrorBody)))]
pub async fn conversation_insights(
    State(state): State<AppState>,
    Caller(account): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Data<ConversationInsightsState>>> {
    state.store.conversation(&account.id, &id).await?;
    let lifecycle = state.store.insights_lifecycle(&account.id, &id).await?;
    if lifecycle.status == InsightsStatus::Ready {
        if let Some(stored) = state.store.stored_insights(&account.id, &id).await? {
            let fleet = state.store.fleet_metric_means(&account.id).await?;
            return Ok(Json(Data::new(ConversationInsightsState::Ready(Box::new(
                insights_body(&id, stored, fleet),
            )))));
        }
    }
    let message = match lifecycle.status {
        InsightsStatus::Pending if lifecycle.error.is_some() => {
            "The last attempt failed; insights will be retried.".to_owned()
        }
        InsightsStatus::Pending => "Insights are being generated.".to_owned(),
        InsightsStatus::Skipped => {
            "Insights are not generated automatically (settings: insights.autoGenerate is off); regenerate to ask for them.".to_owned()
        }
        InsightsStatus::Failed => format!(
            "Insights failed after {} attempts; regenerate to try again.",
            lifecycle.attempts
        ),
        InsightsStatus::Ready => "Insights are being replaced.".to_owned(),
    };
    Ok(Json(Data::new(ConversationInsightsState::Unavailable(
        InsightsUnavailable {
            conversation_id: id,
            status: lifecycle.status,
            message: Some(message),
            code: lifecycle.error_code,
            reason: lifecycle.error,
            retry_count: (lifecycle.attempts > 0)
                .then(|| u32::try_from(lifecycle.attempts).unwrap_or(u32::MAX)),
            next_retry_at: lifecycle
                .next_attempt_at
                .filter(|_| lifecycle.attempts > 0)
                .map(rfc3339),
        },
    ))))
}

#[utoipa::path(post, path = "/conversations/{id}/insights/regenerate", tag = "insights", params(("id" = String, Path)),
    responses((status = 202, body = Data<InsightsQueued>), (status = 404, body = converra_api::ErrorBody)))]
pub async fn regenerate_conversation_insights(
    State(state): State<AppState>,
    Caller(account): Caller,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<Data<InsightsQueued>>)> {
    let now = state.clock.now_ms();
    let mut tx = state.store.begin_write().await?;
    crate::store::conversations::conversation_in(&mut tx, &account.id, &id).await?;
    queue_insights(&mut tx, &account.id, &id, now).await?;
    tx.commit().await?;
    state.wake(Channel::Insights);
    Ok((
        StatusCode::ACCEPTED,
        Json(Data::new(InsightsQueued {
            conversation_id: id,
            status: "queued".to_owned(),
        })),
    ))
}

/// Every agent of the account, id → name.
async fn agent_names(state: &AppState, account_id: &str) -> ApiResult<BTreeMap<String, String>> {
    let mut names = BTreeMap::new();
    let mut paging = Paging {
        limit: Some(Paging::MAX_LIMIT),
        ..Paging::default()
    };
    loop {
        let page = PageRequest::from_query(&paging, Paging::MAX_LIMIT)?;
        let (agents, pagination) = state
            .store
            .list_agents(account_id, &AgentFilter::default(), &page)
            .await?;
        names.extend(agents.into_iter().map(|a| (a.id, a.name)));
        match pagination.next_cursor {
            Some(cursor) => paging.cursor = Some(cursor),
            None => return Ok(names),
        }
    }
}

#[utoipa::path(get, path = "/agents/{id}/insights", tag = "insights", params(("id" = String, Path), AgentInsightsQuery),
    responses((status = 200, body = Data<AgentInsights>), (status = 400, body = converra_api::ErrorBody),
        (status = 404, body = converra_api::ErrorBody)))]
pub async fn agent_insights(
    State(state): State<AppState>,
    Caller(account): Caller,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<AgentInsightsQuery>,
) -> ApiResult<Json<Data<AgentInsights>>> {
    let days = query.days.unwrap_or(30);
    if !AgentInsightsQuery::DAYS.contains(&days) {
        return Err(ApiError::invalid_field("days", "must be 7, 30 or 90"));
    }
    state.store.agent(&account.id, &id).await?;
    let now = state.clock.now_ms();
    let from = now - i64::from(days) * DAY_MS;
    let settings = state.store.settings(&account.id).await?;
    let facts = state
        .store
        .conversation_facts(&account.id, &id, from, now + 1)
        .await?;
    let fleet_rows = state
        .store
        .insight_rows(&account.id, None, from, now + 1)
        .await?;
    let fleet_issues = state
        .store
        .issue_rows(&account.id, None, from, now + 1)
        .await?;
    let names = agent_names(&state, &account.id).await?;
    let mut insights = aggregate::agent_insights(&AgentInsightsInput {
        agent_id: &id,
        days,
        from_ms: from,
        now_ms: now,
        facts: &facts,
        fleet_rows: &fleet_rows,
        fleet_issues: &fleet_issues,
        agent_names: &names,
        value_per_conversation: settings.business_impact.value_per_conversation,
        currency: &settings.business_impact.currency,
    });
    let examples = insights.issues.iter_mut().map(|i| {
        (
            &i.example_conversation_ids[..],
            &mut i.example_conversations,
        )
    });
    name_examples(&state, &account.id, examples.collect()).await?;
    Ok(Json(Data::new(insights)))
}

/// Fills each list of example conversations from its ids, with their titles read in one
/// query, in the order given.
async fn name_examples(
    state: &AppState,
    account_id: &str,
    examples: Vec<(&[String], &mut Vec<ConversationRef>)>,
) -> ApiResult<()> {
    let ids: Vec<String> = examples
        .iter()
        .flat_map(|(ids, _)| ids.iter().cloned())
        .collect();
    let titles: HashMap<String, Option<String>> =
        state.store.conversation_titles(account_id, &ids).await?;
    for (ids, named) in examples {
        *named = ids
            .iter()
            .map(|id| ConversationRef {
                id: id.clone(),
                title: titles.get(id).cloned().flatten(),
            })
            .collect();
    }
    Ok(())
}

#[utoipa::path(post, path = "/agents/{id}/insights/regenerate", tag = "insights", params(("id" = String, Path)),
    request_body = Option<RegenerateAgentInsights>,
    responses((status = 202, body = Data<AgentInsightsQueued>), (status = 400, body = converra_api::ErrorBody),
        (status = 404, body = converra_api::ErrorBody)))]
pub async fn regenerate_agent_insights(
    State(state): State<AppState>,
    Caller(account): Caller,
    Path(id): Path<String>,
    ApiJsonOrDefault(input): ApiJsonOrDefault<RegenerateAgentInsights>,
) -> ApiResult<(StatusCode, Json<Data<AgentInsightsQueued>>)> {
    let mut checks = Checks::default();
    let limit = checks.range_u32("limit", input.limit, 1, 200).unwrap_or(50);
    checks.finish()?;
    state.store.agent(&account.id, &id).await?;
    let (total, queued) = state
        .store
        .queue_agent_insights(
            &account.id,
            &id,
            input.force.unwrap_or(false),
            i64::from(limit),
            state.clock.now_ms(),
        )
        .await?;
    state.wake(Channel::Insights);
    Ok((
        StatusCode::ACCEPTED,
        Json(Data::new(AgentInsightsQueued {
            agent_id: id,
            total,
            queued,
            skipped: total - queued,
            status: "queued".to_owned(),
        })),
    ))
}

#[utoipa::path(get, path = "/agents/{id}/step-failures", tag = "insights", params(("id" = String, Path)),
    responses((status = 200, body = Data<StepFailures>), (status = 404, body = converra_api::ErrorBody)))]
pub async fn step_failures(
    State(state): State<AppState>,
    Caller(account): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Data<StepFailures>>> {
    state.store.agent(&account.id, &id).await?;
    let now = state.clock.now_ms();
    let from = now - 30 * DAY_MS;
    let analysed = state
        .store
        .insight_rows(&account.id, Some(&id), from, now + 1)
        .await?
        .len() as u64;
    let steps = state
        .store
        .step_rows(&account.id, &id, from, now + 1)
        .await?;
    let mut failures = aggregate::step_failures(&id, from, now, analysed, &steps);
    let examples = failures.steps.iter_mut().map(|s| {
        (
            &s.example_conversation_ids[..],
            &mut s.example_conversations,
        )
    });
    name_examples(&state, &account.id, examples.collect()).await?;
    Ok(Json(Data::new(failures)))
}

/// Each change of an agent's prompt after its first version, judged on the failures before
/// and after it.
#[utoipa::path(get, path = "/deployments/impact", tag = "insights", params(DeploymentsQuery),
    responses((status = 200, body = Data<DeploymentsImpact>), (status = 400, body = converra_api::ErrorBody),
        (status = 404, description = "agentId names no agent of this account", body = converra_api::ErrorBody)))]
pub async fn deployments_impact(
    State(state): State<AppState>,
    Caller(account): Caller,
    ApiQuery(query): ApiQuery<DeploymentsQuery>,
) -> ApiResult<Json<Data<DeploymentsImpact>>> {
    let mut checks = Checks::default();
    let limit = checks.range_u32("limit", query.limit, 1, 100).unwrap_or(20) as usize;
    checks.finish()?;
    let names = match &query.agent_id {
        Some(agent_id) => {
            let agent = state.store.agent(&account.id, agent_id).await?;
            BTreeMap::from([(agent.id, agent.name)])
        }
        None => agent_names(&state, &account.id).await?,
    };
    let now = state.clock.now_ms();
    let mut impacts = Vec::new();
    for (agent_id, agent_name) in &names {
        let mut versions = state.store.agent_versions(&account.id, agent_id).await?;
        versions.sort_by_key(|v| v.version);
        let times: Vec<i64> = versions
            .iter()
            .map(|v| parse_rfc3339(&v.created_at).unwrap_or(0))
            .collect();
        if versions.len() < 2 {
            continue;
        }
        let from = times[1] - 30 * DAY_MS;
        let rows = state
            .store
            .insight_rows(&account.id, Some(agent_id), from, now + 1)
            .await?;
        let issues = state
            .store
            .issue_rows(&account.id, Some(agent_id), from, now + 1)
            .await?;
        for (index, version) in versions.iter().enumerate().skip(1) {
            // Model-only changes by the SDK are not fixes anyone deployed.
            if version.source == VersionSource::Sdk {
                continue;
            }
            let deployment = Deployment {
                agent_id,
                agent_name,
                version: version.version,
                deployed_at: times[index],
                previous_deployed_at: index.checked_sub(1).filter(|i| *i > 0).map(|i| times[i]),
                next_deployed_at: times.get(index + 1).copied(),
            };
            impacts.push(aggregate::deployment_impact(
                &deployment,
                now,
                &rows,
                &issues,
            ));
        }
    }
    impacts.sort_by(|a, b| b.deployed_at.cmp(&a.deployed_at));
    let mut summary = DeploymentSummary::default();
    for impact in &impacts {
        summary.total_deployments += 1;
        match impact.verification_status {
            VerificationStatus::Verified => summary.verified += 1,
            VerificationStatus::Monitoring => summary.monitoring += 1,
            VerificationStatus::NotFixed => summary.not_fixed += 1,
            VerificationStatus::Regressed => summary.regressed += 1,
            VerificationStatus::Confounded => summary.confounded += 1,
        }
    }
    let agents = impacts
        .into_iter()
        .filter(|i| query.status.is_none_or(|s| s == i.verification_status))
        .take(limit)
        .collect();
    Ok(Json(Data::new(DeploymentsImpact { agents, summary })))
}
