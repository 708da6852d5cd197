//! `GET /usage`: this billing period's usage against the plan's limits, day by day.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use converra_api::usage::{
    DayUsage, MeteredUsage, OptimizationUsage, RequestUsage, Usage, UsagePeriod,
};
use converra_api::Data;

use crate::auth::Caller;
use crate::clock::{day_of, rfc3339};
use crate::error::ApiResult;
use crate::state::AppState;
use crate::store::usage::AccountUsage;

pub fn router() -> Router<AppState> {
    Router::new().route("/usage", get(get_usage))
}

/// This billing period (the calendar month in UTC): agents, optimizations, conversations,
/// tokens and requests against the plan's limits (`null` = unlimited), and every day so far.
#[utoipa::path(get, path = "/usage", tag = "account",
    responses((status = 200, body = Data<Usage>), (status = 401, body = converra_api::ErrorBody)))]
pub async fn get_usage(
    State(state): State<AppState>,
    Caller(account): Caller,
) -> ApiResult<Json<Data<Usage>>> {
    let now_ms = state.clock.now_ms();
    let mut usage = {
        // Requests move from memory to the database in batches; reading both while no
        // batch is in between counts each request once, including this one.
        let _no_flush = state.limiter.hold_flushes().await;
        let mut usage = state.store.account_usage(&account.id, now_ms).await?;
        let unflushed = state.limiter.unflushed_requests(&account.id);
        add_unflushed_requests(&mut usage, &unflushed);
        usage
    };
    usage.period.by_day.sort_by(|a, b| a.date.cmp(&b.date));
    let limits = &account.limits;
    let period = &usage.period;
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    let agents = count(usage.agents);
    Ok(Json(Data::new(Usage {
        period: UsagePeriod {
            start: rfc3339(period.start_ms),
            end: rfc3339(period.end_ms),
        },
        agents,
        prompts: agents,
        optimizations: OptimizationUsage {
            used: count(period.totals.optimizations),
            limit: Some(u64::from(limits.optimizations_per_month)),
            running: count(usage.running_optimizations),
        },
        conversations: MeteredUsage {
            used: count(period.totals.conversations),
            limit: Some(u64::from(limits.conversations_per_month)),
        },
        // No plan limits tokens; an operator may, per account.
        tokens: MeteredUsage {
            used: count(period.totals.tokens),
            limit: limits.tokens_per_month,
        },
        requests: RequestUsage {
            used: count(period.totals.requests),
        },
        by_day: period
            .by_day
            .iter()
            .map(|day| DayUsage {
                date: day.date.clone(),
                requests: count(day.usage.requests),
                conversations: count(day.usage.conversations),
                optimizations: count(day.usage.optimizations),
                tokens: count(day.usage.tokens),
            })
            .collect(),
    })))
}

/// Adds requests counted in memory to the period read from the database.
fn add_unflushed_requests(usage: &mut AccountUsage, unflushed: &[(i64, i64)]) {
    let period = &mut usage.period;
    for &(day_ms, requests) in unflushed {
        if day_ms < period.start_ms || day_ms >= period.end_ms {
            continue;
        }
        period.totals.requests += requests;
        let date = day_of(day_ms);
        match period.by_day.iter_mut().find(|d| d.date == date) {
            Some(day) => day.usage.requests += requests,
            None => period.by_day.push(crate::store::usage::DayUsage {
                date,
                usage: crate::store::usage::UsageDelta {
                    requests,
                    ..Default::default()
                },
            }),
        }
    }
}
