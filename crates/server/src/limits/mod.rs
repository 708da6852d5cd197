//! Plans enforced: the rate-limit layer over the windows of `rate`, and the monthly quotas
//! checked before a write.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use converra_api::{ErrorCode, PlanId};
use sqlx::AnyConnection;

use crate::store::sql::lock_named;

use crate::auth::Caller;
use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::accounts::AccountRecord;
use crate::store::{usage, webhooks, Backend};

pub mod bad_keys;
pub mod rate;
pub mod shared_turn;

/// The layer behind auth: admits the caller's request against its plan's requests per
/// minute, and puts the rate-limit headers on whatever the request gets back.
pub async fn enforce_rate_limit(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let Some(Caller(account)) = request.extensions().get::<Caller>() else {
        // Only reachable if this layer were mounted outside the auth layer by mistake.
        return Err(ApiError::Internal(anyhow::anyhow!(
            "the rate limit runs without the auth layer"
        )));
    };
    let (limit, plan) = (account.limits.requests_per_minute, account.plan);
    let now = state.clock.now_ms();
    let decision = match state.store.backend() {
        Backend::Sqlite => state.limiter.admit(&account.id, limit, now),
        // Several processes may serve this database: the window is counted in it.
        Backend::Postgres => {
            let admitted = state
                .store
                .admit_shared(&account.id, limit, rate::window_start(now))
                .await?;
            if admitted.is_some() {
                state.limiter.count_request(&account.id, now);
            }
            let count = admitted.map_or(limit, |n| u32::try_from(n).unwrap_or(u32::MAX));
            rate::RateDecision::new(admitted.is_some(), limit, count, now)
        }
    };
    let mut response = if decision.allowed {
        next.run(request).await
    } else {
        let secs = decision.retry_after_secs;
        ApiError::new(
            ErrorCode::RateLimited,
            format!(
                "Rate limit exceeded: the {} plan allows {limit} requests per minute; retry in {secs} second{} or {}",
                plan.display_name(),
                plural(secs),
                raise_limit(plan),
            ),
        )
        .retry_after(secs)
        .into_response()
    };
    decision.write_headers(response.headers_mut());
    Ok(response)
}

fn plural(many: u64) -> &'static str {
    if many == 1 {
        ""
    } else {
        "s"
    }
}

fn raise_limit(plan: PlanId) -> &'static str {
    match plan {
        PlanId::Free | PlanId::Pro => "upgrade your plan",
        PlanId::Enterprise => "ask us to raise your limit",
    }
}

/// Makes the account's limit checks take turns with the writes they allow, across server
/// processes sharing one PostgreSQL database, so a limit holds exactly.
async fn lock_account_limits(conn: &mut AnyConnection, account: &AccountRecord) -> ApiResult<()> {
    lock_named(conn, &limits_lock(account)).await?;
    Ok(())
}

/// The name of the lock that the account's limit checks take turns on.
fn limits_lock(account: &AccountRecord) -> String {
    format!("limits:{}", account.id)
}

/// 403 `LIMIT_EXCEEDED` unless the account may create one more agent. Call it in the
/// write transaction that inserts the agent, so two creates cannot both take the last place.
pub async fn ensure_agent_quota(
    conn: &mut AnyConnection,
    account: &AccountRecord,
) -> ApiResult<()> {
    lock_account_limits(conn, account).await?;
    let limit = account.limits.agents;
    let used = usage::count_agents(conn, &account.id).await?;
    if used < i64::from(limit) {
        return Ok(());
    }
    let advice = match account.plan {
        PlanId::Free | PlanId::Pro => "archive one or upgrade",
        PlanId::Enterprise => "archive one or ask us to raise your limit",
    };
    Err(ApiError::new(
        ErrorCode::LimitExceeded,
        format!(
            "The {} plan allows {limit} agent{}; {advice}",
            account.plan.display_name(),
            plural(u64::from(limit)),
        ),
    ))
}

/// Webhooks one account may have, whatever its plan: each event fans out to every
/// subscriber, so this bounds the deliveries one write can queue.
pub const MAX_WEBHOOKS_PER_ACCOUNT: i64 = 20;

/// 403 `LIMIT_EXCEEDED` once the account has [`MAX_WEBHOOKS_PER_ACCOUNT`]. Call it in the
/// write transaction that inserts the webhook, so two creates cannot both take the last place.
pub async fn ensure_webhook_limit(
    conn: &mut AnyConnection,
    account: &AccountRecord,
) -> ApiResult<()> {
    lock_account_limits(conn, account).await?;
    if webhooks::count_webhooks(conn, &account.id).await? < MAX_WEBHOOKS_PER_ACCOUNT {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::LimitExceeded,
        format!(
            "An account may have at most {MAX_WEBHOOKS_PER_ACCOUNT} webhooks; delete one to add another"
        ),
    ))
}

/// 403 `LIMIT_EXCEEDED` once this month's conversations reach the plan's limit. Call it in
/// the write transaction that inserts the conversation (and counts it with `add_usage`).
pub async fn ensure_conversation_quota(
    conn: &mut AnyConnection,
    account: &AccountRecord,
    now_ms: i64,
) -> ApiResult<()> {
    lock_account_limits(conn, account).await?;
    let used = usage::period_totals(conn, &account.id, now_ms).await?;
    ensure_monthly(
        account,
        "conversations",
        used.conversations,
        u64::from(account.limits.conversations_per_month),
        now_ms,
    )?;
    ensure_tokens(account, used.tokens, now_ms)
}

/// 403 `LIMIT_EXCEEDED` once this month's optimizations reach the plan's limit. Call it in
/// the write transaction that inserts the optimization (and counts it with `add_usage`).
pub async fn ensure_optimization_quota(
    conn: &mut AnyConnection,
    account: &AccountRecord,
    now_ms: i64,
) -> ApiResult<()> {
    lock_account_limits(conn, account).await?;
    let used = usage::period_totals(conn, &account.id, now_ms).await?;
    ensure_monthly(
        account,
        "optimizations",
        used.optimizations,
        u64::from(account.limits.optimizations_per_month),
        now_ms,
    )?;
    ensure_tokens(account, used.tokens, now_ms)
}

/// At most the plan's `concurrentOptimizations` (10) queued or running at once; the next
/// one is refused with 429 `CONCURRENCY_LIMIT` until one finishes.
pub async fn ensure_optimization_concurrency(
    conn: &mut AnyConnection,
    account: &AccountRecord,
) -> ApiResult<()> {
    lock_account_limits(conn, account).await?;
    let running = usage::count_running_optimizations(conn, &account.id).await?;
    let limit = account.limits.concurrent_optimizations;
    if running < i64::from(limit) {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::ConcurrencyLimit,
        format!(
            "{running} optimizations are already queued or running, the most this account may run at once ({limit}); wait for one to finish or stop one"
        ),
    ))
}

/// 403 `LIMIT_EXCEEDED` once this month's benchmarks reach the plan's optimizations per
/// month (a benchmark costs what an optimization does), and 429 `CONCURRENCY_LIMIT` while 3
/// are queued or running. Call it in the write transaction that inserts the benchmark, and
/// count it there with `add_usage`.
pub async fn ensure_benchmark_allowed(
    conn: &mut AnyConnection,
    account: &AccountRecord,
    now_ms: i64,
) -> ApiResult<()> {
    lock_account_limits(conn, account).await?;
    let running = usage::count_running_benchmarks(conn, &account.id).await?;
    let limit = converra_api::PlanLimits::CONCURRENT_BENCHMARKS;
    if running >= i64::from(limit) {
        return Err(ApiError::new(
            ErrorCode::ConcurrencyLimit,
            format!(
                "{running} benchmarks are already queued or running, the most an account may run at once ({limit}); wait for one to finish or cancel one"
            ),
        ));
    }
    let used = usage::period_totals(conn, &account.id, now_ms).await?;
    ensure_monthly(
        account,
        "benchmarks",
        used.benchmarks,
        u64::from(account.limits.optimizations_per_month),
        now_ms,
    )?;
    ensure_tokens(account, used.tokens, now_ms)
}

/// 403 `LIMIT_EXCEEDED` once this month's tokens reach the account's limit, if it has one.
fn ensure_tokens(account: &AccountRecord, used: i64, now_ms: i64) -> ApiResult<()> {
    match account.limits.tokens_per_month {
        Some(limit) => ensure_monthly(account, "tokens", used, limit, now_ms),
        None => Ok(()),
    }
}

fn ensure_monthly(
    account: &AccountRecord,
    what: &str,
    used: i64,
    limit: u64,
    now_ms: i64,
) -> ApiResult<()> {
    if u64::try_from(used).unwrap_or(0) < limit {
        return Ok(());
    }
    let (_, next_period) = usage::billing_period(now_ms);
    // Limits an operator set for this account are the account's, not the plan's.
    let allowed_by = if account.limits == account.plan.default_limits() {
        format!("The {} plan allows", account.plan.display_name())
    } else {
        "This account's limits allow".to_owned()
    };
    Err(ApiError::new(
        ErrorCode::LimitExceeded,
        format!(
            "{allowed_by} {limit} {what} a month and this month's are used up; {} or wait for the next period, which starts {}",
            raise_limit(account.plan),
            rfc3339(next_period),
        ),
    ))
}
