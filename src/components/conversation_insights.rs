//! A conversation's insights panel: where their lifecycle stands (with a Regenerate
//! button), and once ready the 11 metrics against the fleet's benchmark, the quality and
//! gated scores, the top issues (linked to their messages), next steps, keywords and the
//! step diagnosis. The ready shape is read leniently from JSON, field by field, so a field
//! the server leaves out only hides its part of the panel.

use std::time::Duration;

use converra_api::conversations::InsightsStatus;
use converra_api::insights::Metric;
use leptos::prelude::*;
use serde_json::Value;

use crate::api::conversations::{
    get_insights, regenerate_insights, ConversationInsights, InsightsNotReady,
};
use crate::api::ClientError;
use crate::app::use_signed_in;
use crate::components::boundary_errors::BoundaryErrors;
use crate::components::error_panel::ErrorPanel;
use crate::components::loading::Loading;
use crate::components::timestamp::Timestamp;

/// One metric's reading, on 0..100.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricReading {
    pub metric: Metric,
    pub value: Option<f64>,
    /// The fleet's average.
    pub benchmark: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IssueReading {
    pub title: String,
    pub description: Option<String>,
    pub severity: Option<String>,
    /// 0-based message indexes.
    pub message_indexes: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StepReading {
    pub name: String,
    pub failed: bool,
    pub error: Option<String>,
    pub message_index: Option<usize>,
    pub root_cause: Option<String>,
}

/// Ready insights as the panel shows them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReadyInsights {
    pub title: Option<String>,
    pub executive_summary: Option<String>,
    pub summary: Option<String>,
    pub business_impact: Option<String>,
    pub quality_score: Option<f64>,
    pub gated_score: Option<f64>,
    pub objective_multiplier: Option<f64>,
    pub sentiment: Option<String>,
    pub task_completed: Option<bool>,
    pub metrics: Vec<MetricReading>,
    pub top_issues: Vec<IssueReading>,
    pub additional_concerns: Vec<String>,
    pub next_steps: Vec<String>,
    pub keywords: Vec<String>,
    pub topics: Vec<String>,
    pub steps: Vec<StepReading>,
    pub updated_at: Option<String>,
}

fn text(value: &Value, key: &str) -> Option<String> {
    value
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// A list entry as text: a string, or an object's `title`/`text`/`description`/`name`.
fn entry_text(entry: &Value) -> Option<String> {
    match entry {
        Value::String(s) => Some(s.clone()),
        Value::Object(_) => ["title", "text", "description", "name", "action"]
            .iter()
            .find_map(|k| text(entry, k)),
        _ => None,
    }
}

fn texts(value: &Value, key: &str) -> Vec<String> {
    value
        .get(key)
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(entry_text).collect())
        .unwrap_or_default()
}

fn index(value: &Value) -> Option<usize> {
    value.as_u64().and_then(|i| usize::try_from(i).ok())
}

impl ReadyInsights {
    pub fn from_value(data: &Value) -> Self {
        let metrics = data.get("metrics").unwrap_or(&Value::Null);
        let number = |key: &str| {
            metrics
                .get(key)
                .and_then(Value::as_f64)
                .or_else(|| data.get(key).and_then(Value::as_f64))
        };
        let readings = Metric::ALL
            .into_iter()
            .filter_map(|metric| {
                let entry = metrics.get(metric.as_str())?;
                let (value, benchmark) = match entry {
                    Value::Number(n) => (n.as_f64(), None),
                    _ => (
                        entry.get("value").and_then(Value::as_f64),
                        entry.get("benchmark").and_then(Value::as_f64),
                    ),
                };
                Some(MetricReading {
                    metric,
                    value,
                    benchmark,
                })
            })
            .collect();
        let top_issues = data
            .get("topIssues")
            .and_then(Value::as_array)
            .map(|issues| {
                issues
                    .iter()
                    .filter_map(|issue| {
                        Some(IssueReading {
                            title: entry_text(issue)?,
                            description: text(issue, "description")
                                .filter(|d| Some(d) != text(issue, "title").as_ref()),
                            severity: text(issue, "severity"),
                            message_indexes: issue
                                .get("messageIndexes")
                                .and_then(Value::as_array)
                                .map(|ix| ix.iter().filter_map(index).collect())
                                .unwrap_or_default(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let steps = data
            .get("stepDiagnosis")
            .and_then(|d| d.get("steps"))
            .and_then(Value::as_array)
            .map(|steps| {
                steps
                    .iter()
                    .filter_map(|step| {
                        Some(StepReading {
                            name: text(step, "name")?,
                            failed: text(step, "status").as_deref() == Some("failed"),
                            error: text(step, "error"),
                            message_index: step.get("messageIndex").and_then(index),
                            root_cause: text(step, "rootCause"),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        ReadyInsights {
            title: text(data, "title"),
            executive_summary: text(data, "executiveSummary"),
            summary: text(data, "summary"),
            business_impact: text(data, "businessImpact"),
            quality_score: number("qualityScore"),
            gated_score: number("gatedScore"),
            objective_multiplier: number("objectiveMultiplier"),
            sentiment: text(data, "sentiment"),
            task_completed: data.get("taskCompleted").and_then(Value::as_bool),
            metrics: readings,
            top_issues,
            additional_concerns: texts(data, "additionalConcerns"),
            next_steps: texts(data, "nextSteps"),
            keywords: texts(data, "keywords"),
            topics: texts(data, "topics"),
            steps,
            updated_at: text(data, "updatedAt"),
        }
    }
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

/// A percentage width for a 0..100 value, clamped.
fn width(value: f64) -> String {
    format!("{:.1}%", value.clamp(0.0, 100.0))
}

/// How often a pending status is asked for again, and for how long.
const POLL_EVERY: Duration = Duration::from_secs(5);
const POLL_MAX: u32 = 60;

/// The insights panel of one conversation.
#[component]
pub fn ConversationInsightsPanel(
    #[prop(into)] conversation_id: String,
    /// Set to a message index to scroll the transcript there.
    focus: RwSignal<Option<usize>>,
) -> impl IntoView {
    let signed_in = use_signed_in();
    let id = StoredValue::new(conversation_id);
    let polls = RwSignal::new(0u32);
    let regenerate = Action::new_local(move |_: &()| {
        let client = signed_in.get_untracked().map(|s| s.client);
        let id = id.get_value();
        async move {
            match client {
                Some(client) => regenerate_insights(&client, &id).await.map(|_| ()),
                None => Err(not_signed_in()),
            }
        }
    });
    let insights = LocalResource::new(move || {
        regenerate.version().get();
        polls.get();
        let client = signed_in.get().map(|s| s.client);
        let id = id.get_value();
        async move {
            match client {
                Some(client) => get_insights(&client, &id).await,
                None => Err(not_signed_in()),
            }
        }
    });
    // While the insights are pending, ask again every few seconds.
    Effect::new(move |_| {
        let pending = matches!(
            insights.get(),
            Some(Ok(ConversationInsights::NotReady(InsightsNotReady {
                status: InsightsStatus::Pending,
                ..
            })))
        );
        if pending && polls.get_untracked() < POLL_MAX {
            if let Ok(handle) = set_timeout_with_handle(
                move || {
                    polls.try_update(|n| *n += 1);
                },
                POLL_EVERY,
            ) {
                on_cleanup(move || handle.clear());
            }
        }
    });
    let regenerate_error = move || {
        regenerate
            .value()
            .get()
            .and_then(Result::err)
            .map(|error| view! { <ErrorPanel error/> })
    };
    let regenerate_button = move || {
        view! {
            <button type="button" class="secondary" disabled=move || regenerate.pending().get()
                on:click=move |_| { regenerate.dispatch(()); }>
                {move || if regenerate.pending().get() { "Regenerating…" } else { "Regenerate" }}
            </button>
        }
    };

    view! {
        <section class="insights card" aria-labelledby="insights-heading">
            <div class="section-head">
                <h2 id="insights-heading">"Insights"</h2>
                {regenerate_button}
            </div>
            {regenerate_error}
            <Transition fallback=|| view! { <Loading what="insights" rows=4/> }>
                <ErrorBoundary fallback=|errors| view! { <BoundaryErrors errors/> }>
                    {move || insights.get().map(|result| result.map(|insights| match insights {
                        ConversationInsights::NotReady(not_ready) => view! { <InsightsLifecycle not_ready/> }.into_any(),
                        ConversationInsights::Ready(data) => view! {
                            <ReadyInsightsView insights=ReadyInsights::from_value(&data) focus/>
                        }.into_any(),
                    }))}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

fn not_signed_in() -> ClientError {
    ClientError {
        status: 401,
        code: converra_api::ErrorCode::Unauthorized,
        message: "Sign in to see this conversation.".to_owned(),
        retry_after: None,
    }
}

#[component]
fn InsightsLifecycle(not_ready: InsightsNotReady) -> impl IntoView {
    let InsightsNotReady {
        status,
        message,
        code,
        reason,
        retry_count,
        next_retry_at,
        ..
    } = not_ready;
    let explanation = match status {
        InsightsStatus::Pending => {
            "The analysis is queued or running; this panel updates by itself."
        }
        InsightsStatus::Skipped => "No analysis was made for this conversation.",
        InsightsStatus::Failed => "The analysis failed.",
        InsightsStatus::Ready => "",
    };
    view! {
        <p class="insights-lifecycle">
            <span class=format!("status-badge insights-{}", status.as_str())>{status.as_str()}</span>
            " " {message.unwrap_or_else(|| explanation.to_owned())}
        </p>
        <dl class="facts">
            {reason.map(|r| view! { <dt>"Reason"</dt><dd>{r}</dd> })}
            {code.map(|c| view! { <dt>"Code"</dt><dd><code>{c}</code></dd> })}
            {retry_count.map(|n| view! { <dt>"Retries"</dt><dd>{n}</dd> })}
            {next_retry_at.map(|t| view! { <dt>"Next retry"</dt><dd><Timestamp value=t/></dd> })}
        </dl>
    }
}

/// Buttons that scroll the transcript to each message.
fn message_links(indexes: Vec<usize>, focus: RwSignal<Option<usize>>) -> impl IntoView {
    (!indexes.is_empty()).then(|| {
        view! {
            <span class="message-links">
                "Messages "
                {indexes.into_iter().map(|i| view! {
                    <button type="button" class="link-button" on:click=move |_| focus.set(Some(i))
                        aria-label=format!("Show message {}", i + 1)>
                        {format!("#{}", i + 1)}
                    </button>
                }).collect_view()}
            </span>
        }
    })
}

#[component]
fn ReadyInsightsView(insights: ReadyInsights, focus: RwSignal<Option<usize>>) -> impl IntoView {
    let ReadyInsights {
        title,
        executive_summary,
        summary,
        business_impact,
        quality_score,
        gated_score,
        objective_multiplier,
        sentiment,
        task_completed,
        metrics,
        top_issues,
        additional_concerns,
        next_steps,
        keywords,
        topics,
        steps,
        updated_at,
    } = insights;
    let score = |label: &'static str, value: Option<f64>| {
        value.map(|v| {
            view! {
                <div class="score">
                    <span class="score-value">{format_score(v)}</span>
                    <span class="score-label">{label}</span>
                </div>
            }
        })
    };
    view! {
        {title.map(|t| view! { <h3 class="insights-title">{t}</h3> })}
        <div class="scores">
            {score("Quality", quality_score)}
            {score("Gated score", gated_score)}
            {objective_multiplier.map(|m| view! {
                <div class="score">
                    <span class="score-value">{format!("×{m:.2}")}</span>
                    <span class="score-label">"Objective multiplier"</span>
                </div>
            })}
        </div>
        {executive_summary.map(|s| view! { <p class="executive-summary">{s}</p> })}
        {summary.map(|s| view! { <p>{s}</p> })}
        <dl class="facts">
            {sentiment.map(|s| view! { <dt>"Sentiment"</dt><dd>{s}</dd> })}
            {task_completed.map(|done| view! { <dt>"Task completed"</dt><dd>{if done { "Yes" } else { "No" }}</dd> })}
            {business_impact.map(|b| view! { <dt>"Business impact"</dt><dd>{b}</dd> })}
            {updated_at.map(|t| view! { <dt>"Analysed"</dt><dd><Timestamp value=t/></dd> })}
        </dl>
        {(!metrics.is_empty()).then(|| view! {
            <h3>"Metrics"</h3>
            <p class="muted legend"><span class="legend-bar"></span>" this conversation  "<span class="legend-mark"></span>" fleet benchmark"</p>
            <ul class="metric-bars">
                {metrics.into_iter().map(|reading| {
                    let value = reading.value;
                    let benchmark = reading.benchmark;
                    let numbers = match (value, benchmark) {
                        (Some(v), Some(b)) => format!("{} (fleet {})", format_score(v), format_score(b)),
                        (Some(v), None) => format_score(v),
                        (None, Some(b)) => format!("– (fleet {})", format_score(b)),
                        (None, None) => "–".to_owned(),
                    };
                    let below = matches!((value, benchmark), (Some(v), Some(b)) if v < b);
                    view! {
                        <li class="metric" class:below-benchmark=below>
                            <span class="metric-label">{reading.metric.label()}</span>
                            <span class="metric-track" aria-hidden="true">
                                {value.map(|v| view! { <span class="metric-fill" style:width=width(v)></span> })}
                                {benchmark.map(|b| view! { <span class="metric-benchmark" style:left=width(b)></span> })}
                            </span>
                            <span class="metric-numbers">{numbers}</span>
                        </li>
                    }
                }).collect_view()}
            </ul>
        })}
        {(!top_issues.is_empty()).then(|| view! {
            <h3>"Top issues"</h3>
            <ul class="issues">
                {top_issues.into_iter().map(|issue| view! {
                    <li class="issue">
                        {issue.severity.clone().map(|s| view! { <span class=format!("status-badge severity-{s}")>{s.clone()}</span> " " })}
                        <strong>{issue.title}</strong>
                        {issue.description.map(|d| view! { <p>{d}</p> })}
                        {message_links(issue.message_indexes, focus)}
                    </li>
                }).collect_view()}
            </ul>
        })}
        {(!additional_concerns.is_empty()).then(|| view! {
            <h3>"Other concerns"</h3>
            <ul>{additional_concerns.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}</ul>
        })}
        {(!next_steps.is_empty()).then(|| view! {
            <h3>"Next steps"</h3>
            <ol class="next-steps">{next_steps.into_iter().map(|s| view! { <li>{s}</li> }).collect_view()}</ol>
        })}
        {(!keywords.is_empty() || !topics.is_empty()).then(|| view! {
            <h3>"Keywords"</h3>
            <ul class="chips">
                {keywords.into_iter().chain(topics).map(|k| view! { <li class="chip">{k}</li> }).collect_view()}
            </ul>
        })}
        {(!steps.is_empty()).then(|| view! {
            <h3>"Step diagnosis"</h3>
            <div class="table-scroll">
                <table class="list-table steps">
                    <thead><tr><th scope="col">"Step"</th><th scope="col">"Status"</th><th scope="col">"Root cause"</th><th scope="col">"Message"</th></tr></thead>
                    <tbody>
                        {steps.into_iter().map(|step| view! {
                            <tr class:failed=step.failed>
                                <td>
                                    <code>{step.name}</code>
                                    {step.error.map(|e| view! { <div class="tool-error-inline">{e}</div> })}
                                </td>
                                <td>{if step.failed { view! { <span class="status-badge badge-danger">"failed"</span> }.into_any() } else { view! { <span class="status-badge badge-ok">"ok"</span> }.into_any() }}</td>
                                <td>{step.root_cause.map(|r| r.replace('_', " "))}</td>
                                <td>{step.message_index.map(|i| view! {
                                    <button type="button" class="link-button" on:click=move |_| focus.set(Some(i))
                                        aria-label=format!("Show message {}", i + 1)>{format!("#{}", i + 1)}</button>
                                })}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        })}
    }
}
