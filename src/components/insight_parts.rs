//! Pieces the insights, step-failure, fleet and benchmark pages share: how shares, scores
//! and percentiles read, the period chosen in the URL, severity and root-cause badges, and
//! links to example conversations.

use converra_api::insights::{ConversationRef, Metric, RootCause, Severity};
use leptos::prelude::*;

use crate::query::{build_query, encode_component};

/// The periods `GET /agents/:id/insights` serves, in days.
pub const PERIODS: [u32; 3] = [7, 30, 90];
/// The period when the URL names none (the API's default too).
pub const DEFAULT_PERIOD: u32 = 30;

/// The period a URL's `days` value asks for; anything but 7, 30 or 90 means the default,
/// so a hand-edited link still opens a page.
pub fn period_days(value: Option<&str>) -> u32 {
    value
        .and_then(|v| v.trim().parse::<u32>().ok())
        .filter(|days| PERIODS.contains(days))
        .unwrap_or(DEFAULT_PERIOD)
}

/// The query pair that keeps a period in the URL; none for the default, so the plain page
/// URL and `?days=30` are the same view.
pub fn period_pair(days: u32) -> Option<(&'static str, String)> {
    (days != DEFAULT_PERIOD && PERIODS.contains(&days)).then(|| ("days", days.to_string()))
}

/// `?days=7`, or the empty string for the default period.
pub fn period_query(days: u32) -> String {
    build_query(period_pair(days))
}

/// A share given as a fraction (0..1) as a percentage with one decimal at most: `0.321` →
/// `"32.1%"`, `1.0` → `"100%"`.
pub fn percent(fraction: f64) -> String {
    percent_of_100(fraction * 100.0)
}

/// A value already on 0..100 as a percentage with one decimal at most: `66.94` → `"66.9%"`.
pub fn percent_of_100(value: f64) -> String {
    if !value.is_finite() {
        return "–".to_owned();
    }
    format!("{}%", one_decimal(value))
}

/// One decimal at most, no trailing `.0`: `91.66` → `"91.7"`, `40.0` → `"40"`.
pub fn one_decimal(value: f64) -> String {
    if !value.is_finite() {
        return "–".to_owned();
    }
    let rounded = (value * 10.0).round() / 10.0;
    // `-0.04` rounds to `-0`, which should read as plain `0`.
    let rounded = if rounded == 0.0 { 0.0 } else { rounded };
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.1}")
    }
}

/// A score that may be missing (no analysed conversations): `"91.7"` or `"—"`.
pub fn score_text(score: Option<f64>) -> String {
    match score {
        Some(v) if v.is_finite() => one_decimal(v),
        _ => "—".to_owned(),
    }
}

/// `1` → `"1st"`, `12` → `"12th"`, `22` → `"22nd"`: ranks and percentiles.
pub fn ordinal(n: u64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// A metric's label for people from its JSON key; an unknown key shows as it is.
pub fn metric_label(key: &str) -> String {
    key.parse::<Metric>()
        .map(|m| m.label().to_owned())
        .unwrap_or_else(|_| key.to_owned())
}

/// A root cause for people.
pub fn root_cause_label(cause: RootCause) -> &'static str {
    match cause {
        RootCause::PromptIssue => "Prompt",
        RootCause::ContextIssue => "Context",
        RootCause::ToolIssue => "Tool",
        RootCause::ModelLimitation => "Model limitation",
        RootCause::OrchestrationIssue => "Orchestration",
    }
}

/// The colour range of a heat map of 0..100 scores: from the lowest score rounded down to
/// ten (so that close scores still differ in colour) up to 100; `(0, 100)` without scores.
pub fn score_domain(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let lowest = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(f64::INFINITY, f64::min);
    if lowest.is_finite() {
        (((lowest / 10.0).floor() * 10.0).clamp(0.0, 90.0), 100.0)
    } else {
        (0.0, 100.0)
    }
}

/// A severity as a coloured pill (`low`, `medium`, `high`, `critical`).
#[component]
pub fn SeverityBadge(severity: Severity) -> impl IntoView {
    view! {
        <span class=format!("status-badge severity-{}", severity.as_str())>{severity.as_str()}</span>
    }
}

/// Links to conversations that show something, each by its title (an untitled one by the
/// start of its id); the whole id on hover.
#[component]
pub fn ConversationLinks(conversations: Vec<ConversationRef>) -> impl IntoView {
    if conversations.is_empty() {
        return view! { <span class="muted">"—"</span> }.into_any();
    }
    view! {
        <ul class="conversation-links">
            {conversations.into_iter().map(|conversation| {
                let href = format!("/conversations/{}", encode_component(&conversation.id));
                let label = match conversation.title.filter(|t| !t.trim().is_empty()) {
                    Some(title) => view! { {title} }.into_any(),
                    None => {
                        let short: String = conversation.id.chars().take(11).collect();
                        view! { "Untitled · "<code>{short}"…"</code> }.into_any()
                    }
                };
                view! {
                    <li><a href=href title=conversation.id.clone()>{label}</a></li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// The 7 / 30 / 90 days switch: plain links, so the period lives in the URL. `href` builds
/// the link of each period (keeping the page's other query pairs).
#[component]
pub fn PeriodPicker(
    #[prop(into)] current: Signal<u32>,
    #[prop(into)] href: Callback<u32, String>,
) -> impl IntoView {
    view! {
        <nav class="period-picker" aria-label="Period">
            {PERIODS.into_iter().map(|days| view! {
                <a href=move || href.run(days)
                    aria-current=move || (current.get() == days).then_some("page")>
                    {format!("{days} days")}
                </a>
            }).collect_view()}
        </nav>
    }
}
