//! A conversation's insights panel, from the typed `GET /conversations/:id/insights`:
//! where their lifecycle stands (pending, skipped, failed: with the code, reason, retries
//! and next retry), a Regenerate button that follows the new analysis until it is ready,
//! and once ready every field of the analysis: title and summaries, the quality and gated
//! scores, the 11 metrics against the fleet's benchmark, the top issues linked to their
//! messages in the transcript, concerns, next steps, keywords, topics, sentiment, task
//! completion, business impact and the step diagnosis with root causes.

use converra_api::conversations::InsightsStatus;
use converra_api::insights::{
    ConversationInsights, ConversationInsightsState, InsightMetrics, InsightsUnavailable, Metric,
    Sentiment, StepDiagnosis, StepStatus,
};
use leptos::prelude::*;

use crate::api::insights::{get_conversation_insights, regenerate_conversation_insights};
use crate::api::ClientError;
use crate::components::boundary_errors::BoundaryErrors;
use crate::components::charts::DataTable;
use crate::components::error_panel::ErrorPanel;
use crate::components::insight_parts::{root_cause_label, SeverityBadge};
use crate::components::loading::Loading;
use crate::components::poll::Poll;
use crate::components::timestamp::Timestamp;
use crate::components::transcript::message_element_id;
use crate::signed_in::client_of;
use crate::signed_in::use_signed_in;

/// One metric of the conversation against the fleet's average of it, on 0..100.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricReading {
    /// Which of the 11.
    pub metric: Metric,
    /// This conversation's value.
    pub value: f64,
    /// The fleet's average; `None` when the account has no other analysed conversation.
    pub benchmark: Option<f64>,
}

impl MetricReading {
    /// This conversation minus the fleet (positive: better than usual).
    pub fn difference(&self) -> Option<f64> {
        self.benchmark.map(|b| self.value - b)
    }

    /// Whether the conversation did worse than the fleet on this metric.
    pub fn below_benchmark(&self) -> bool {
        self.difference().is_some_and(|d| d < 0.0)
    }
}

/// The 11 metrics of the analysis, in [`Metric::ALL`] order.
pub fn metric_readings(metrics: &InsightMetrics) -> Vec<MetricReading> {
    Metric::ALL
        .into_iter()
        .map(|metric| {
            let reading = metrics.metric(metric);
            MetricReading {
                metric,
                value: reading.value,
                benchmark: reading.benchmark,
            }
        })
        .collect()
}

/// How many diagnosed steps failed.
pub fn failed_step_count(diagnosis: &StepDiagnosis) -> usize {
    diagnosis
        .steps
        .iter()
        .filter(|s| s.status == StepStatus::Failed)
        .count()
}

/// A score for people: one decimal at most.
pub fn format_score(value: f64) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.1}")
    }
}

/// A signed difference: `+4.2`, `-12`, `0`.
pub fn signed_score(value: f64) -> String {
    let text = format_score(value);
    if value > 0.0 && text != "0" {
        format!("+{text}")
    } else if text == "-0" {
        "0".to_owned()
    } else {
        text
    }
}

/// A sentiment for people.
pub fn sentiment_label(sentiment: Sentiment) -> &'static str {
    match sentiment {
        Sentiment::Positive => "Positive",
        Sentiment::Neutral => "Neutral",
        Sentiment::Negative => "Negative",
    }
}

/// What a not-ready status means, when the server sent no message of its own.
pub fn lifecycle_explanation(status: InsightsStatus) -> &'static str {
    match status {
        InsightsStatus::Pending => {
            "The analysis is queued or running; this panel updates by itself."
        }
        InsightsStatus::Skipped => {
            "No analysis was made for this conversation; regenerate to ask for one."
        }
        InsightsStatus::Failed => "The analysis failed; regenerate to try again.",
        InsightsStatus::Ready => "The insights are being replaced.",
    }
}

/// Whether an answer is a lifecycle that will change by itself (and so is polled).
pub fn is_pending(state: &ConversationInsightsState) -> bool {
    matches!(
        state,
        ConversationInsightsState::Unavailable(InsightsUnavailable {
            status: InsightsStatus::Pending | InsightsStatus::Ready,
            ..
        })
    )
}

/// A percentage width for a 0..100 value, clamped.
fn width(value: f64) -> String {
    format!("{:.1}%", value.clamp(0.0, 100.0))
}

/// How many times a pending analysis is asked about again (about ten minutes with the
/// backoff) before the panel stops and offers a manual check.
const POLL_MAX: u32 = 80;

/// The insights panel of one conversation.
#[component]
pub fn ConversationInsightsPanel(
    #[prop(into)] conversation_id: String,
    /// Set to a message index to scroll the transcript there.
    focus: RwSignal<Option<usize>>,
) -> impl IntoView {
    let signed_in = use_signed_in();
    let id = StoredValue::new(conversation_id);
    // Asks again while the analysis is pending; its attempts are the checks since the last
    // regeneration.
    let poll = Poll::new();
    let regenerate = Action::new_local(move |_: &()| {
        let client = client_of(signed_in.get_untracked());
        let id = id.get_value();
        async move {
            let queued = regenerate_conversation_insights(&client?, &id).await?;
            poll.restart();
            Ok::<_, ClientError>(queued)
        }
    });
    let regenerated = regenerate.version();
    let insights = LocalResource::new(move || {
        regenerated.track();
        poll.track();
        let client = client_of(signed_in.get());
        let id = id.get_value();
        async move { get_conversation_insights(&client?, &id).await }
    });
    // While the analysis is pending, ask again, less often as time passes.
    poll.while_live(
        move || {
            insights
                .get()
                .is_some_and(|r| r.is_ok_and(|state| is_pending(&state)))
        },
        POLL_MAX,
    );
    let waiting = move || {
        regenerate.pending().get()
            || (regenerated.get() > 0
                && insights
                    .get()
                    .is_some_and(|r| r.is_ok_and(|state| is_pending(&state))))
    };
    let progress = move || {
        if regenerate.pending().get() {
            return Some("Queueing a new analysis…".to_owned());
        }
        if !waiting() {
            return match regenerate.value().get() {
                Some(Ok(_)) if insights.get().is_some_and(|r| r.is_ok()) => {
                    Some("The new analysis is ready.".to_owned())
                }
                _ => None,
            };
        }
        let checks = poll.attempts();
        Some(if checks >= POLL_MAX {
            "Still analysing. Reload the page to check again.".to_owned()
        } else {
            format!(
                "Analysing… checked {checks} time{} so far.",
                if checks == 1 { "" } else { "s" }
            )
        })
    };
    let regenerate_error = move || {
        regenerate
            .value()
            .get()
            .and_then(Result::err)
            .map(|error| view! { <ErrorPanel error/> })
    };

    view! {
        <section class="insights card" aria-labelledby="insights-heading" data-testid="conversation-insights">
            <div class="section-head">
                <h2 id="insights-heading">"Insights"</h2>
                <button type="button" class="secondary" disabled=waiting
                    on:click=move |_| { regenerate.dispatch(()); }>
                    {move || if waiting() { "Regenerating…" } else { "Regenerate" }}
                </button>
            </div>
            <p class="regenerate-status muted" role="status" data-testid="insights-progress">{progress}</p>
            {regenerate_error}
            <Transition fallback=|| view! { <Loading what="insights" rows=4/> }>
                <ErrorBoundary fallback=move |errors| view! {
                    <BoundaryErrors errors/>
                    <button type="button" class="retry" on:click=move |_| insights.refetch()>"Retry"</button>
                }>
                    // Fallible: a Transition may poll its child once more after the page is gone.
                    {move || insights.try_get().flatten().map(|result| result.map(|state| match state {
                        ConversationInsightsState::Unavailable(not_ready) => view! { <InsightsLifecycle not_ready/> }.into_any(),
                        ConversationInsightsState::Ready(ready) => view! { <InsightsReadyView insights=*ready focus/> }.into_any(),
                    }))}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

/// Where a not-ready analysis stands.
#[component]
pub fn InsightsLifecycle(not_ready: InsightsUnavailable) -> impl IntoView {
    let InsightsUnavailable {
        status,
        message,
        code,
        reason,
        retry_count,
        next_retry_at,
        ..
    } = not_ready;
    view! {
        <p class="insights-lifecycle" data-testid="insights-lifecycle">
            <span class=format!("status-badge insights-{}", status.as_str())>{status.as_str()}</span>
            " " {message.unwrap_or_else(|| lifecycle_explanation(status).to_owned())}
        </p>
        <dl class="facts">
            {code.map(|c| view! { <dt>"Code"</dt><dd><code>{c}</code></dd> })}
            {reason.map(|r| view! { <dt>"Reason"</dt><dd>{r}</dd> })}
            {retry_count.map(|n| view! { <dt>"Retries"</dt><dd>{n}</dd> })}
            {next_retry_at.map(|t| view! { <dt>"Next retry"</dt><dd><Timestamp value=t/></dd> })}
        </dl>
    }
}

/// A link to message `index` of the transcript: a real anchor (`#msg-4`), which also asks
/// the transcript to reveal the message (it renders long transcripts in chunks).
fn message_link(index: usize, focus: RwSignal<Option<usize>>) -> impl IntoView {
    view! {
        <a class="message-link" href=format!("#{}", message_element_id(index))
            aria-label=format!("Show message {}", index + 1)
            on:click=move |ev| {
                ev.prevent_default();
                focus.set(Some(index));
            }>
            {format!("#{}", index + 1)}
        </a>
    }
}

/// Links to each message an issue shows in.
fn message_links(indexes: Vec<usize>, focus: RwSignal<Option<usize>>) -> impl IntoView {
    (!indexes.is_empty()).then(|| {
        view! {
            <span class="message-links">
                "Messages "
                {indexes.into_iter().map(|i| message_link(i, focus)).collect_view()}
            </span>
        }
    })
}

/// Every field of ready insights.
#[component]
pub fn InsightsReadyView(
    insights: ConversationInsights,
    focus: RwSignal<Option<usize>>,
) -> impl IntoView {
    let ConversationInsights {
        title,
        executive_summary,
        summary,
        user_facing_summary,
        top_issues,
        additional_concerns,
        next_steps,
        keywords,
        topics,
        sentiment,
        sentiment_score,
        task_completed,
        business_impact,
        step_diagnosis,
        metrics,
        engine,
        updated_at,
        ..
    } = insights;
    let readings = metric_readings(&metrics);
    let table_rows: Vec<Vec<String>> = readings
        .iter()
        .map(|r| {
            vec![
                r.metric.label().to_owned(),
                format_score(r.value),
                r.benchmark
                    .map(format_score)
                    .unwrap_or_else(|| "–".to_owned()),
                r.difference()
                    .map(signed_score)
                    .unwrap_or_else(|| "–".to_owned()),
            ]
        })
        .collect();
    let table_columns = vec![
        "Metric".to_owned(),
        "Value".to_owned(),
        "Fleet".to_owned(),
        "Difference".to_owned(),
    ];
    let score = |label: &'static str, value: String| {
        view! {
            <div class="score">
                <span class="score-value">{value}</span>
                <span class="score-label">{label}</span>
            </div>
        }
    };
    let failed_steps = step_diagnosis.as_ref().map(failed_step_count).unwrap_or(0);

    view! {
        <h3 class="insights-title">{title}</h3>
        <div class="scores" data-testid="insights-scores">
            {score("Quality", format_score(metrics.quality_score))}
            {score("Gated score", format_score(metrics.gated_score))}
            {score("Objective multiplier", format!("×{:.2}", metrics.objective_multiplier))}
        </div>
        <p class="executive-summary">{executive_summary}</p>
        <p>{summary}</p>
        {user_facing_summary.map(|s| view! { <p class="muted"><strong>"For the user: "</strong>{s}</p> })}
        <dl class="facts">
            <dt>"Sentiment"</dt>
            <dd>{format!("{} ({:.2} on 0–1)", sentiment_label(sentiment), sentiment_score)}</dd>
            <dt>"Task completed"</dt>
            <dd>{if task_completed { "Yes" } else { "No" }}</dd>
            {business_impact.map(|b| view! { <dt>"Business impact"</dt><dd>{b}</dd> })}
            <dt>"Analysed"</dt>
            <dd><Timestamp value=updated_at/>{format!(" · {engine} engine")}</dd>
        </dl>

        <h3>"Metrics against the fleet"</h3>
        <p class="muted legend">
            <span class="legend-bar"></span>" this conversation  "
            <span class="legend-mark"></span>" fleet benchmark (average)"
        </p>
        <ul class="metric-bars" data-testid="metric-bars">
            {readings.into_iter().map(|reading| {
                let numbers = match reading.benchmark {
                    Some(b) => format!("{} (fleet {})", format_score(reading.value), format_score(b)),
                    None => format_score(reading.value),
                };
                view! {
                    <li class="metric" class:below-benchmark=reading.below_benchmark()>
                        <span class="metric-label">{reading.metric.label()}</span>
                        <span class="metric-track" aria-hidden="true">
                            <span class="metric-fill" style:width=width(reading.value)></span>
                            {reading.benchmark.map(|b| view! { <span class="metric-benchmark" style:left=width(b)></span> })}
                        </span>
                        <span class="metric-numbers">{numbers}</span>
                    </li>
                }
            }).collect_view()}
        </ul>
        <details class="chart-table">
            <summary>"Show as table"</summary>
            <DataTable caption="Metrics against the fleet benchmark (0–100)"
                columns=table_columns rows=table_rows/>
        </details>

        <h3>"Top issues"</h3>
        {if top_issues.is_empty() {
            view! { <p class="muted">"No issues found."</p> }.into_any()
        } else {
            view! {
                <ul class="issues" data-testid="top-issues">
                    {top_issues.into_iter().map(|issue| view! {
                        <li class="issue">
                            <SeverityBadge severity=issue.severity/>" "
                            <strong>{issue.title}</strong>
                            <p>{issue.description}</p>
                            {message_links(issue.message_indexes, focus)}
                        </li>
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
        {(!additional_concerns.is_empty()).then(|| view! {
            <h3>"Other concerns"</h3>
            <ul>{additional_concerns.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}</ul>
        })}
        {(!next_steps.is_empty()).then(|| view! {
            <h3>"Next steps"</h3>
            <ol class="next-steps">{next_steps.into_iter().map(|s| view! { <li>{s}</li> }).collect_view()}</ol>
        })}
        {(!keywords.is_empty()).then(|| view! {
            <h3>"Keywords"</h3>
            <ul class="chips">{keywords.into_iter().map(|k| view! { <li class="chip">{k}</li> }).collect_view()}</ul>
        })}
        {(!topics.is_empty()).then(|| view! {
            <h3>"Topics"</h3>
            <ul class="chips">{topics.into_iter().map(|t| view! { <li class="chip topic-chip">{t}</li> }).collect_view()}</ul>
        })}
        {step_diagnosis.filter(|d| !d.steps.is_empty()).map(|diagnosis| view! {
            <h3>"Step diagnosis"</h3>
            <p class="muted">{format!("{failed_steps} of {} steps failed.", diagnosis.steps.len())}</p>
            <div class="table-scroll">
                <table class="list-table steps" data-testid="step-diagnosis">
                    <thead><tr><th scope="col">"Step"</th><th scope="col">"Status"</th><th scope="col">"Root cause"</th><th scope="col">"Message"</th></tr></thead>
                    <tbody>
                        {diagnosis.steps.into_iter().map(|step| {
                            let failed = step.status == StepStatus::Failed;
                            view! {
                                <tr class:failed=failed>
                                    <th scope="row">
                                        <code>{step.name}</code>
                                        {step.error.map(|e| view! { <div class="tool-error-inline">{e}</div> })}
                                    </th>
                                    <td>{if failed {
                                        view! { <span class="status-badge badge-danger">"failed"</span> }.into_any()
                                    } else {
                                        view! { <span class="status-badge badge-ok">"ok"</span> }.into_any()
                                    }}</td>
                                    <td>{step.root_cause.map(root_cause_label).unwrap_or("—")}</td>
                                    <td>{message_link(step.message_index, focus)}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        })}
    }
}
