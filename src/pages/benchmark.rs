//! `/benchmarks/:id`: one benchmark: its progress (followed live while it is queued or
//! running, and cancellable then), its settings, and once done its results: the overall
//! score per agent (or per model) as a chart and a table, and the 11 metrics per agent.

use std::collections::BTreeMap;

use converra_api::agents::AgentFilter;
use converra_api::benchmarks::{Benchmark, BenchmarkBulk, BenchmarkResult, BulkAction};
use converra_api::insights::Metric;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::api::agents::list_all_agents;
use crate::api::benchmarks::{bulk_benchmarks, get_benchmark};
use crate::api::ClientError;
use crate::components::benchmark_winner::winner_name;
use crate::components::boundary_errors::BoundaryErrors;
use crate::components::charts::{Bar, BarChart, BarChartData, HeatMapChart, HeatMapData};
use crate::components::error_panel::ErrorPanel;
use crate::components::insight_parts::{one_decimal, percent};
use crate::components::loading::Loading;
use crate::components::page_title::use_page_title;
use crate::components::poll::Poll;
use crate::components::progress_bar::ProgressBar;
use crate::components::status_badge::BenchmarkStatusBadge;
use crate::components::timestamp::Timestamp;
use crate::format::{self, thousands};
use crate::query::encode_component;
use crate::signed_in::client_of;
use crate::signed_in::use_signed_in;

/// A result's row name: the agent, and the model when the benchmark compares models.
pub fn result_label(result: &BenchmarkResult) -> String {
    match &result.model {
        Some(model) => format!("{} · {model}", result.agent_name),
        None => result.agent_name.clone(),
    }
}

/// The results, best overall score first (ties by name).
pub fn ranked_results(results: &[BenchmarkResult]) -> Vec<BenchmarkResult> {
    let mut ranked = results.to_vec();
    ranked.sort_by(|a, b| {
        b.overall_score
            .total_cmp(&a.overall_score)
            .then_with(|| result_label(a).cmp(&result_label(b)))
    });
    ranked
}

/// The overall scores as bars, the winner's note saying so.
pub fn score_bars(ranked: &[BenchmarkResult], winner: Option<&str>) -> Vec<Bar> {
    ranked
        .iter()
        .map(|r| {
            let mut note = format!("pass rate {}", percent(r.pass_rate));
            if winner == Some(r.agent_id.as_str()) {
                note.push_str(" · winner");
            }
            Bar::new(result_label(r), r.overall_score).with_note(note)
        })
        .collect()
}

/// The page at `/benchmarks/:id`.
#[component]
pub fn BenchmarkPage() -> impl IntoView {
    let signed_in = use_signed_in();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let poll = Poll::new();
    let cancel = Action::new_local(move |id: &String| {
        let request = BenchmarkBulk {
            action: BulkAction::Cancel,
            job_ids: vec![id.clone()],
        };
        let client = client_of(signed_in.get_untracked());
        async move { bulk_benchmarks(&client?, &request).await }
    });
    let cancelled = cancel.version();
    let benchmark = LocalResource::new(move || {
        let id = id.get();
        poll.track();
        cancelled.track();
        let client = client_of(signed_in.get());
        async move { get_benchmark(&client?, &id).await }
    });
    use_page_title(move || {
        benchmark
            .try_get()
            .flatten()
            .and_then(Result::ok)
            .map_or_else(
                || "Benchmark".to_owned(),
                |b| format!("Benchmark {}", b.name),
            )
    });
    // Follow a queued or running benchmark: quick looks first, then backing off.
    poll.while_live(
        move || {
            benchmark
                .get()
                .is_some_and(|b| b.is_ok_and(|b| !b.status.is_finished()))
        },
        u32::MAX,
    );
    let cancel_failure = move || {
        let failure = match cancel.value().get()? {
            Err(error) => Some(error),
            // The bulk answer lists a refused cancel (already finished) per id.
            Ok(result) => result.failed.into_iter().next().map(|f| ClientError {
                status: 409,
                code: converra_api::ErrorCode::Conflict,
                message: f.error,
                retry_after: None,
                fields: Vec::new(),
            }),
        };
        failure.map(|error| view! { <ErrorPanel error/> })
    };
    // Names for the agent ids; without them (a failed call) the ids show.
    let agents = LocalResource::new(move || {
        let client = client_of(signed_in.get());
        async move { list_all_agents(&client?, &AgentFilter::default()).await }
    });
    let detail = move || {
        Suspend::new(async move {
            let benchmark = benchmark.await?;
            let names: BTreeMap<String, String> = agents
                .await
                .map(|agents| agents.into_iter().map(|a| (a.id, a.name)).collect())
                .unwrap_or_default();
            Ok::<_, ClientError>(view! {
                <BenchmarkDetail benchmark names cancelling=cancel.pending()
                    on_cancel=Callback::new(move |id: String| { cancel.dispatch_local(id); })/>
            })
        })
    };

    view! {
        <div class="benchmark-page">
            <p class="back-link"><a href="/benchmarks">"← Benchmarks"</a></p>
            {cancel_failure}
            <Transition fallback=|| view! { <Loading what="the benchmark" rows=8/> }>
                <ErrorBoundary fallback=move |errors| view! {
                    <h1>"Benchmark"</h1>
                    <BoundaryErrors errors/>
                    <button type="button" class="retry" on:click=move |_| benchmark.refetch()>"Retry"</button>
                }>
                    {detail}
                </ErrorBoundary>
            </Transition>
        </div>
    }
}

#[component]
fn BenchmarkDetail(
    benchmark: Benchmark,
    names: BTreeMap<String, String>,
    #[prop(into)] cancelling: Signal<bool>,
    on_cancel: Callback<String>,
) -> impl IntoView {
    let winner = winner_name(&benchmark);
    let Benchmark {
        id,
        name,
        status,
        agent_ids,
        models,
        persona_ids,
        scenario_count,
        max_turns,
        progress,
        results,
        winner: winner_id,
        engine,
        created_at,
        started_at,
        completed_at,
        error,
    } = benchmark;
    let unfinished = !status.is_finished();
    let results = results.unwrap_or_default();
    let ranked = ranked_results(&results);

    let chart = BarChartData {
        bars: score_bars(&ranked, winner_id.as_deref()),
        category_label: if models.is_some() {
            "Agent · model"
        } else {
            "Agent"
        }
        .to_owned(),
        value_label: "Overall score (0–100)".to_owned(),
        domain: Some((0.0, 100.0)),
        ..BarChartData::default()
    };
    let values: Vec<Vec<Option<f64>>> = ranked
        .iter()
        .map(|r| {
            Metric::ALL
                .iter()
                .map(|m| r.metrics.get(m.as_str()).copied())
                .collect()
        })
        .collect();
    let heat_map = HeatMapData::agent_metrics(ranked.iter().map(result_label).collect(), values);
    let score_format = Callback::new(one_decimal);
    let has_results = !ranked.is_empty();
    let settings_row = |label: &'static str, value: String| {
        view! { <div><dt>{label}</dt><dd>{value}</dd></div> }
    };

    view! {
        <header class="page-head benchmark-head">
            <div class="benchmark-title">
                <h1>{name}</h1>
                <BenchmarkStatusBadge status=status/>
            </div>
            {unfinished.then(|| {
                let id = id.clone();
                view! {
                    <button type="button" class="secondary danger" disabled=move || cancelling.get()
                        on:click=move |_| on_cancel.run(id.clone())>
                        {move || if cancelling.get() { "Cancelling…" } else { "Cancel benchmark" }}
                    </button>
                }
            })}
        </header>
        <section class="card benchmark-progress" aria-labelledby="progress-title" data-testid="benchmark-progress">
            <h2 id="progress-title">"Progress"</h2>
            <ProgressBar label="Conversations run" used=u64::from(progress.completed)
                limit=Some(u64::from(progress.total))/>
            <p class="muted" role="status">
                {match status {
                    s if !s.is_finished() => format!("{}: this page follows it live.", if s.as_str() == "queued" { "Queued" } else { "Running" }),
                    _ => match &winner {
                        Some(winner) => format!("Finished. Winner: {winner}."),
                        None => "Finished.".to_owned(),
                    },
                }}
            </p>
            {error.map(|e| view! {
                <div class="error-panel" role="alert">
                    <strong class="error-code">{e.code}</strong>
                    <p class="error-message">{e.message}</p>
                </div>
            })}
        </section>
        <section class="card" aria-labelledby="settings-title">
            <h2 id="settings-title">"Settings"</h2>
            <dl class="facts-list">
                <div>
                    <dt>"Agents"</dt>
                    <dd>
                        <ul class="inline-list">
                            {agent_ids.into_iter().map(|a| {
                                let href = format!("/agents/{}", encode_component(&a));
                                match names.get(&a) {
                                    Some(name) => view! { <li><a href=href>{name.clone()}</a></li> }.into_any(),
                                    None => view! { <li><a href=href><code>{a}</code></a></li> }.into_any(),
                                }
                            }).collect_view()}
                        </ul>
                    </dd>
                </div>
                {models.map(|m| settings_row("Models", m.join(", ")))}
                {settings_row("Personas", persona_ids.join(", "))}
                {settings_row("Scenarios", scenario_count.to_string())}
                {settings_row("Turns at most", max_turns.to_string())}
                {settings_row("Engine", engine)}
                <div><dt>"Created"</dt><dd><Timestamp value=created_at/></dd></div>
                {started_at.map(|t| view! { <div><dt>"Started"</dt><dd><Timestamp value=t/></dd></div> })}
                {completed_at.map(|t| view! { <div><dt>"Finished"</dt><dd><Timestamp value=t/></dd></div> })}
            </dl>
        </section>
        <section class="card insights-section" aria-labelledby="results-title" data-testid="benchmark-results">
            <h2 id="results-title">"Results"</h2>
            {if has_results {
                view! {
                    <BarChart title="Overall score per agent" data=Signal::stored(chart)
                        format_value=score_format test_id="benchmark-chart"/>
                    <div class="table-scroll">
                        <table class="list-table results-table" data-testid="results-table">
                            <caption class="visually-hidden">"Results, best overall score first"</caption>
                            <thead>
                                <tr>
                                    <th scope="col" class="num">"#"</th>
                                    <th scope="col">"Agent"</th>
                                    <th scope="col" class="num">"Overall score"</th>
                                    <th scope="col" class="num">"Pass rate"</th>
                                    <th scope="col" class="num">"Avg latency"</th>
                                    <th scope="col" class="num">"Conversations"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {ranked.into_iter().enumerate().map(|(i, r)| {
                                    let won = winner_id.as_deref() == Some(r.agent_id.as_str());
                                    view! {
                                        <tr class:winner=won>
                                            <td class="num">{i + 1}</td>
                                            <th scope="row">
                                                <a href=format!("/agents/{}", encode_component(&r.agent_id))>{result_label(&r)}</a>
                                                {won.then(|| view! { " " <span class="status-badge benchmark-completed">"winner"</span> })}
                                            </th>
                                            <td class="num">{one_decimal(r.overall_score)}</td>
                                            <td class="num">{percent(r.pass_rate)}</td>
                                            <td class="num">{r.avg_latency_ms.map(|ms| format!("{} ms", format::number(ms.round()))).unwrap_or_else(|| "—".to_owned())}</td>
                                            <td class="num">{thousands(u64::from(r.conversation_count))}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                    <HeatMapChart title="The 11 metrics per agent" data=Signal::stored(heat_map)
                        format_value=score_format test_id="benchmark-metrics"/>
                }.into_any()
            } else if unfinished {
                view! { <p class="muted">"Results show here when the benchmark finishes."</p> }.into_any()
            } else {
                view! { <p class="muted">"This benchmark has no results."</p> }.into_any()
            }}
        </section>
    }
}
