//! `/usage`: this billing period against the plan's limits, the requests, conversations and
//! tokens of each day, and how much of this minute's request budget is left.

use std::time::Duration;

use converra_api::usage::Usage;
use converra_api::Account;
use leptos::prelude::*;

use crate::api::usage::get_usage;
use crate::api::{last_rate_limit, ClientError, RateLimitHeadroom};
use crate::components::boundary_errors::BoundaryErrors;
use crate::components::charts::{Series, TimeSeries, TimeSeriesChart};
use crate::components::loading::Loading;
use crate::components::page_title::use_page_title;
use crate::components::progress_bar::ProgressBar;
use crate::format::{self, thousands};
use crate::signed_in::use_signed_in;

/// Seconds since the Unix epoch, now.
fn now_secs() -> u64 {
    (web_sys::js_sys::Date::now() / 1_000.0) as u64
}

/// "57 of 60 requests left this minute, resets in 42 s."
pub fn headroom_text(headroom: RateLimitHeadroom, now_secs: u64) -> String {
    let left = format!(
        "{} of {} requests left this minute",
        thousands(headroom.remaining),
        thousands(headroom.limit)
    );
    match headroom.reset.saturating_sub(now_secs) {
        0 => format!("{left}; the minute has reset."),
        seconds => format!("{left}, resets in {seconds} s."),
    }
}

#[component]
pub fn UsagePage() -> impl IntoView {
    use_page_title(|| "Usage".to_owned());
    let Some(signed_in) = use_signed_in().get_untracked() else {
        return ().into_any();
    };
    let client = signed_in.client;
    let account = signed_in.account;
    let usage = LocalResource::new(move || {
        let client = client.clone();
        async move { get_usage(&client).await }
    });

    view! {
        <div class="usage-page">
            <div class="page-head">
                <h1>"Usage"</h1>
                <button type="button" class="secondary" on:click=move |_| usage.refetch()>"Refresh"</button>
            </div>
            <Transition fallback=|| view! { <Loading what="usage" rows=6/> }>
                <ErrorBoundary fallback=|errors| view! { <BoundaryErrors errors/> }>
                    {
                        let account = account.clone();
                        move || {
                            let account = account.clone();
                            Suspend::new(async move {
                                let usage = usage.await?;
                                Ok::<_, ClientError>(view! { <UsageReport usage=usage account=account/> })
                            })
                        }
                    }
                </ErrorBoundary>
            </Transition>
        </div>
    }
    .into_any()
}

#[component]
fn UsageReport(usage: Usage, account: Account) -> impl IntoView {
    // Read now, right after the usage answer: its headers are the latest.
    let headroom = last_rate_limit();
    let now = RwSignal::new(now_secs());
    if headroom.is_some() {
        // The countdown ticks; the interval goes with the page.
        if let Ok(handle) =
            set_interval_with_handle(move || now.set(now_secs()), Duration::from_secs(1))
        {
            on_cleanup(move || handle.clear());
        }
    }
    let limits = account.plan.limits;
    let period = format!(
        "{} – {} (UTC)",
        format::date(&usage.period.start),
        format::last_day_before(&usage.period.end)
    );
    let resets = format!("Resets on {}.", format::date(&usage.period.end));
    let running = usage.optimizations.running;
    let running_note = format!(
        "{} running now, at most {} at once.",
        thousands(running),
        limits.concurrent_optimizations
    );
    let days: Vec<String> = usage.by_day.iter().map(|d| d.date.clone()).collect();
    let per_day = |pick: fn(&converra_api::usage::DayUsage) -> u64, name: &str| {
        let values = usage.by_day.iter().map(|d| pick(d) as f64).collect();
        Signal::stored(TimeSeries::daily(&days, vec![Series::new(name, values)]))
    };
    let requests = per_day(|d| d.requests, "Requests");
    let conversations = per_day(|d| d.conversations, "Conversations");
    let tokens = per_day(|d| d.tokens, "Tokens");

    view! {
        <p class="period">
            <span class="muted">"Billing period "</span>
            <strong>{period}</strong>
            <span class="muted">{format!(" · {resets}")}</span>
        </p>
        {headroom.map(|headroom| view! {
            <p class="headroom" data-testid="rate-limit-headroom">
                {move || headroom_text(headroom, now.get())}
            </p>
        })}

        <section class="card usage-totals" aria-labelledby="usage-totals-title">
            <h2 id="usage-totals-title">"This period against your "{account.plan.name.clone()}" plan"</h2>
            <div class="progress-grid">
                <ProgressBar label="Agents" used=usage.agents limit=Some(u64::from(limits.agents))/>
                <ProgressBar label="Conversations this month" used=usage.conversations.used
                    limit=usage.conversations.limit/>
                <ProgressBar label="Optimizations this month" used=usage.optimizations.used
                    limit=usage.optimizations.limit note=running_note/>
                <ProgressBar label="Tokens this month" used=usage.tokens.used limit=usage.tokens.limit/>
            </div>
            <p class="muted requests-total">
                {format!(
                    "{} API requests this period; the plan allows {} a minute.",
                    thousands(usage.requests.used),
                    thousands(u64::from(limits.requests_per_minute))
                )}
            </p>
        </section>

        <section class="usage-charts" aria-labelledby="usage-days-title">
            <h2 id="usage-days-title">"Day by day"</h2>
            <div class="chart-grid">
                <div class="card">
                    <TimeSeriesChart title="Requests per day" data=requests y_label="Requests"/>
                </div>
                <div class="card">
                    <TimeSeriesChart title="Conversations per day" data=conversations y_label="Conversations"/>
                </div>
                <div class="card">
                    <TimeSeriesChart title="Tokens per day" data=tokens y_label="Tokens"/>
                </div>
            </div>
        </section>
    }
}
