//! `/agents/:id/step-failures`: which steps of an agent's conversations (tool calls and
//! turns) failed over the last 30 days, why (the root causes), how often per step, and the
//! most common failures with a fix for each.

use converra_api::insights::{RootCauseCount, StepFailureStats, StepFailures};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::api::insights::get_step_failures;
use crate::api::ClientError;
use crate::components::agent_subpage_head::{AgentSubpage, AgentSubpageHead};
use crate::components::boundary_errors::BoundaryErrors;
use crate::components::charts::{Bar, BarChart, BarChartData};
use crate::components::empty_state::EmptyState;
use crate::components::insight_parts::{
    percent, percent_of_100, root_cause_label, ConversationLinks, SeverityBadge,
};
use crate::components::loading::Loading;
use crate::components::timestamp::Timestamp;
use crate::format::{self, thousands};
use crate::signed_in::client_of;
use crate::signed_in::use_signed_in;

/// The steps, highest failure rate first; ties go to the step with more failures, then by
/// name.
pub fn rank_steps(mut steps: Vec<StepFailureStats>) -> Vec<StepFailureStats> {
    steps.sort_by(|a, b| {
        b.failure_rate
            .total_cmp(&a.failure_rate)
            .then(b.failures.cmp(&a.failures))
            .then_with(|| a.step.cmp(&b.step))
    });
    steps
}

/// The root causes as bars (count of failed steps), most common first.
pub fn root_cause_bars(causes: &[RootCauseCount]) -> Vec<Bar> {
    let mut causes = causes.to_vec();
    causes.sort_by(|a, b| b.count.cmp(&a.count).then(a.kind.cmp(&b.kind)));
    causes
        .into_iter()
        .map(|c| {
            Bar::new(root_cause_label(c.kind), c.count as f64)
                .with_note(format!("{} of failed steps", percent_of_100(c.percentage)))
        })
        .collect()
}

/// The page at `/agents/:id/step-failures`.
#[component]
pub fn StepFailuresPage() -> impl IntoView {
    let signed_in = use_signed_in();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let failures = LocalResource::new(move || {
        let id = id.get();
        let client = client_of(signed_in.get());
        async move { get_step_failures(&client?, &id).await }
    });
    let report = move || {
        Suspend::new(async move {
            let failures = failures.await?;
            Ok::<_, ClientError>(view! { <StepFailuresReport failures/> })
        })
    };

    view! {
        <div class="insights-page step-failures-page">
            <AgentSubpageHead agent_id=id page=AgentSubpage::StepFailures/>
            <Transition fallback=|| view! { <Loading what="step failures" rows=8/> }>
                <ErrorBoundary fallback=move |errors| view! {
                    <BoundaryErrors errors/>
                    <button type="button" class="retry" on:click=move |_| failures.refetch()>"Retry"</button>
                }>
                    {report}
                </ErrorBoundary>
            </Transition>
        </div>
    }
}

#[component]
fn StepFailuresReport(failures: StepFailures) -> impl IntoView {
    let StepFailures {
        from,
        to,
        total_conversations,
        failed_conversations,
        by_root_cause,
        steps,
        top_failures,
        ..
    } = failures;
    let failed_share = if total_conversations == 0 {
        0.0
    } else {
        failed_conversations as f64 / total_conversations as f64
    };
    let totals = view! {
        <p class="muted period-line">{format!("{} – {} (the last 30 days)", format::date(&from), format::date(&to))}</p>
        <dl class="stat-strip" data-testid="step-totals">
            <div><dt>"Analysed conversations"</dt><dd>{thousands(total_conversations)}</dd></div>
            <div><dt>"With a failed step"</dt><dd>{thousands(failed_conversations)}</dd></div>
            <div><dt>"Share failed"</dt><dd>{percent(failed_share)}</dd></div>
            <div><dt>"Steps seen"</dt><dd>{thousands(steps.len() as u64)}</dd></div>
        </dl>
    };
    if steps.is_empty() {
        return view! {
            {totals}
            <EmptyState title="No steps to report"
                hint="No tool call or turn was diagnosed in the last 30 days. Steps show once conversations with tool calls are analysed."/>
        }
        .into_any();
    }

    let causes = BarChartData {
        bars: root_cause_bars(&by_root_cause),
        category_label: "Root cause".to_owned(),
        value_label: "Failed steps".to_owned(),
        ..BarChartData::default()
    };
    let has_causes = !causes.bars.is_empty();
    let ranked = rank_steps(steps);
    let rates = BarChartData {
        bars: ranked
            .iter()
            .map(|s| {
                Bar::new(s.step.clone(), s.failure_rate * 100.0).with_note(format!(
                    "{} of {} failed",
                    thousands(s.failures),
                    thousands(s.total)
                ))
            })
            .collect(),
        category_label: "Step".to_owned(),
        value_label: "Failure rate (%)".to_owned(),
        domain: Some((0.0, 100.0)),
        ..BarChartData::default()
    };
    let rate_format = Callback::new(percent_of_100);

    view! {
        {totals}
        <div class="chart-pair">
            <section class="card" aria-labelledby="causes-title">
                <h2 id="causes-title">"By root cause"</h2>
                {if has_causes {
                    view! {
                        <BarChart title="Failed steps by root cause" data=Signal::stored(causes) test_id="root-cause-chart"/>
                    }.into_any()
                } else {
                    view! { <p class="muted">"No step failed."</p> }.into_any()
                }}
            </section>
            <section class="card" aria-labelledby="rates-title">
                <h2 id="rates-title">"Where steps fail"</h2>
                <BarChart title="Failure rate per step" data=Signal::stored(rates)
                    format_value=rate_format test_id="step-rate-chart"/>
            </section>
        </div>

        <section class="card insights-section" aria-labelledby="steps-title">
            <h2 id="steps-title">"Steps"</h2>
            <div class="table-scroll">
                <table class="list-table steps-table" data-testid="steps-table">
                    <thead>
                        <tr>
                            <th scope="col">"Step"</th>
                            <th scope="col" class="num">"Runs"</th>
                            <th scope="col" class="num">"Failures"</th>
                            <th scope="col" class="num">"Rate"</th>
                            <th scope="col">"Top root cause"</th>
                            <th scope="col">"Top errors"</th>
                            <th scope="col">"Last failed"</th>
                            <th scope="col">"Examples"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {ranked.into_iter().map(|s| view! {
                            <tr>
                                <th scope="row"><code>{s.step}</code></th>
                                <td class="num">{thousands(s.total)}</td>
                                <td class="num">{thousands(s.failures)}</td>
                                <td class="num">{percent(s.failure_rate)}</td>
                                <td>{s.top_root_cause.map(root_cause_label).unwrap_or("—")}</td>
                                <td>
                                    {if s.top_errors.is_empty() {
                                        view! { <span class="muted">"—"</span> }.into_any()
                                    } else {
                                        view! {
                                            <ul class="top-errors">
                                                {s.top_errors.into_iter().map(|e| view! {
                                                    <li>{e.message}<span class="muted">{format!(" ×{}", thousands(e.count))}</span></li>
                                                }).collect_view()}
                                            </ul>
                                        }.into_any()
                                    }}
                                </td>
                                <td class="nowrap">
                                    {match s.last_failed_at {
                                        Some(at) => view! { <Timestamp value=at/> }.into_any(),
                                        None => view! { <span class="muted">"never"</span> }.into_any(),
                                    }}
                                </td>
                                <td><ConversationLinks conversations=s.example_conversations/></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>

        <section class="card insights-section" aria-labelledby="fixes-title">
            <h2 id="fixes-title">"Top failures and their fixes"</h2>
            {if top_failures.is_empty() {
                view! { <p class="muted">"Nothing failed often enough to suggest a fix."</p> }.into_any()
            } else {
                view! {
                    <ol class="top-failures" data-testid="top-failures">
                        {top_failures.into_iter().map(|f| view! {
                            <li>
                                <p class="failure-head">
                                    <SeverityBadge severity=f.severity/>
                                    " " <span class="failure-summary">{f.summary}</span>
                                    <span class="muted">{format!(" · {} times", thousands(f.count))}</span>
                                </p>
                                <p class="failure-fix"><strong>"Fix: "</strong>{f.fix}</p>
                            </li>
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
        </section>
    }
    .into_any()
}
