//! `/agents/:id/insights?days=30`: what the engine read in one agent's conversations over
//! 7, 30 or 90 days (the period lives in the URL): the daily trend, the documented metrics
//! and the 11 metric averages, issues ranked by how often they show (with example
//! conversations), recommendations, sentiment, topics, business impact, and how the agent
//! stands in its fleet. "Regenerate" queues the analysis again and follows it until done.

use std::collections::BTreeMap;

use converra_api::agents::AgentFilter;
use converra_api::conversations::InsightsStatus;
use converra_api::insights::{
    AgentInsights, AgentInsightsQueued, AgentIssue, FleetIntelligence, Metric,
    RegenerateAgentInsights,
};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::agents::list_all_agents;
use crate::api::conversations::list_all_conversations;
use crate::api::insights::{get_agent_insights, regenerate_agent_insights};
use crate::api::{ApiClient, ClientError};
use crate::components::agent_subpage_head::{AgentSubpage, AgentSubpageHead};
use crate::components::boundary_errors::BoundaryErrors;
use crate::components::charts::{
    Bar, BarChart, BarChartData, ChartKind, ReferenceLine, Series, TimeSeries, TimeSeriesChart,
};
use crate::components::empty_state::EmptyState;
use crate::components::error_panel::ErrorPanel;
use crate::components::insight_parts::{
    metric_label, one_decimal, ordinal, percent, percent_of_100, period_query, score_text,
    ConversationLinks, PeriodPicker, SeverityBadge,
};
use crate::components::loading::Loading;
use crate::components::poll::poll_delay;
use crate::components::progress_bar::ProgressBar;
use crate::format::{self, thousands};
use crate::query::{encode_component, ConversationQuery};
use crate::signed_in::client_of;
use crate::signed_in::use_signed_in;

/// The agent's issues, most frequent first; ties go to the more severe, then the one that
/// touched more conversations, then by title, so the order never flickers between loads.
pub fn rank_issues(mut issues: Vec<AgentIssue>) -> Vec<AgentIssue> {
    issues.sort_by(|a, b| {
        b.frequency
            .total_cmp(&a.frequency)
            .then(b.severity.cmp(&a.severity))
            .then(b.affected_conversations.cmp(&a.affected_conversations))
            .then_with(|| a.title.cmp(&b.title))
    });
    issues
}

/// The fleet percentiles of the 11 metrics, in [`Metric::ALL`] order, as bars; a metric
/// the server left out is left out here too.
pub fn percentile_bars(fleet: &FleetIntelligence) -> Vec<Bar> {
    Metric::ALL
        .into_iter()
        .filter_map(|metric| {
            let value = *fleet.percentiles.get(metric.as_str())?;
            Some(Bar::new(metric.label(), value))
        })
        .collect()
}

/// Where a regeneration stands: how many conversations were queued and how many of them
/// have been analysed since.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegenerationProgress {
    /// The newest conversations looked at.
    pub total: u32,
    /// Sent to the analysis queue.
    pub queued: u32,
    /// Already analysed and left alone (`force` off).
    pub skipped: u32,
    /// Of the queued, how many are analysed by now.
    pub analysed: u32,
    /// Nothing queued is still waiting.
    pub finished: bool,
}

impl RegenerationProgress {
    /// Right after the server queued the work; nothing queued is finished at once.
    pub fn started(queued: &AgentInsightsQueued) -> Self {
        RegenerationProgress {
            total: queued.total,
            queued: queued.queued,
            skipped: queued.skipped,
            analysed: 0,
            finished: queued.queued == 0,
        }
    }

    /// Takes in how many of the looked-at conversations still wait for their analysis.
    pub fn observe(&mut self, pending: u32) {
        self.analysed = self.queued.saturating_sub(pending);
        self.finished = pending == 0;
    }

    /// "12 of 50 analysed".
    pub fn text(&self) -> String {
        format!(
            "{} of {} analysed",
            thousands(u64::from(self.analysed)),
            thousands(u64::from(self.queued))
        )
    }
}

/// How many polls a regeneration is followed for (about ten minutes with the backoff).
const MAX_POLLS: u32 = 90;

/// Polls the agent's newest `total` conversations until none of them is pending, telling
/// `progress` after each look. Stops early when the page is gone (the signal disposed).
async fn follow_regeneration(
    client: &ApiClient,
    agent_id: &str,
    mut state: RegenerationProgress,
    progress: RwSignal<Option<RegenerationProgress>>,
) -> Result<RegenerationProgress, ClientError> {
    let query = ConversationQuery {
        agent_id: Some(agent_id.to_owned()),
        ..ConversationQuery::default()
    };
    let mut attempt = 0;
    while !state.finished && attempt < MAX_POLLS {
        gloo_timers::future::sleep(poll_delay(attempt)).await;
        attempt += 1;
        if progress.is_disposed() {
            break;
        }
        let rows = list_all_conversations(client, &query, state.total as usize, |_, _| {}).await?;
        let pending = rows
            .iter()
            .filter(|c| c.insights_status == InsightsStatus::Pending)
            .count();
        state.observe(u32::try_from(pending).unwrap_or(u32::MAX));
        progress.try_set(Some(state));
    }
    Ok(state)
}

/// The page at `/agents/:id/insights`.
#[component]
pub fn AgentInsightsPage() -> impl IntoView {
    let signed_in = use_signed_in();
    let params = use_params_map();
    let query = use_query_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let days = Memo::new(move |_| {
        query.with(|q| crate::components::insight_parts::period_days(q.get("days").as_deref()))
    });
    // Bumped when a regeneration finishes, so the report reloads.
    let reloads = RwSignal::new(0u32);

    let insights = LocalResource::new(move || {
        let (id, days) = (id.get(), days.get());
        reloads.track();
        let client = client_of(signed_in.get());
        async move { get_agent_insights(&client?, &id, days).await }
    });
    // Names for the fleet's agent ids; without them the ids show.
    let names = LocalResource::new(move || {
        let client = client_of(signed_in.get());
        async move {
            let agents = list_all_agents(&client?, &AgentFilter::default()).await?;
            Ok::<_, ClientError>(
                agents
                    .into_iter()
                    .map(|a| (a.id, a.name))
                    .collect::<BTreeMap<_, _>>(),
            )
        }
    });

    let period_href = Callback::new(move |d: u32| {
        format!(
            "{}{}",
            AgentSubpage::Insights.href(&id.get()),
            period_query(d)
        )
    });
    let report = move || {
        Suspend::new(async move {
            let insights = insights.await?;
            let names = names.await.unwrap_or_default();
            Ok::<_, ClientError>(view! { <InsightsReport insights names/> })
        })
    };

    view! {
        <div class="insights-page">
            <AgentSubpageHead agent_id=id page=AgentSubpage::Insights/>
            <div class="insights-toolbar">
                <PeriodPicker current=days href=period_href/>
                <RegeneratePanel agent_id=id on_done=Callback::new(move |()| reloads.update(|n| *n += 1))/>
            </div>
            <Transition fallback=|| view! { <Loading what="insights" rows=8/> }>
                <ErrorBoundary fallback=move |errors| view! {
                    <BoundaryErrors errors/>
                    <button type="button" class="retry" on:click=move |_| insights.refetch()>"Retry"</button>
                }>
                    {report}
                </ErrorBoundary>
            </Transition>
        </div>
    }
}

/// The Regenerate form and, once started, its progress.
#[component]
fn RegeneratePanel(#[prop(into)] agent_id: Signal<String>, on_done: Callback<()>) -> impl IntoView {
    let signed_in = use_signed_in();
    let progress = RwSignal::new(None::<RegenerationProgress>);
    let limit = RwSignal::new(50u32);
    let force = RwSignal::new(true);
    let run = Action::new_local(move |request: &RegenerateAgentInsights| {
        let request = request.clone();
        let agent_id = agent_id.get_untracked();
        let client = client_of(signed_in.get_untracked());
        async move {
            let client = client?;
            let queued = regenerate_agent_insights(&client, &agent_id, &request).await?;
            let started = RegenerationProgress::started(&queued);
            progress.try_set(Some(started));
            let state = follow_regeneration(&client, &agent_id, started, progress).await?;
            if state.finished {
                on_done.run(());
            }
            Ok::<_, ClientError>(state)
        }
    });
    let running = run.pending();
    let start = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        progress.set(None);
        run.dispatch_local(RegenerateAgentInsights {
            force: Some(force.get_untracked()),
            limit: Some(limit.get_untracked().clamp(1, 200)),
        });
    };
    let status = move || {
        let state = progress.get()?;
        let line = if state.queued == 0 {
            format!(
                "Nothing to analyse: the newest {} conversations already have insights.",
                thousands(u64::from(state.total))
            )
        } else if state.finished {
            format!("Done: {}. The report below is up to date.", state.text())
        } else if running.get() {
            format!("{}…", state.text())
        } else {
            format!(
                "{}; the rest are still queued. Reload later to see them.",
                state.text()
            )
        };
        Some(view! {
            <div class="regenerate-progress" data-testid="regenerate-progress">
                {(state.queued > 0).then(|| view! {
                    <ProgressBar label="Conversations analysed" used=u64::from(state.analysed)
                        limit=Some(u64::from(state.queued))/>
                })}
                <p role="status">{line}</p>
            </div>
        })
    };
    let failure = move || {
        run.value()
            .get()
            .and_then(Result::err)
            .map(|error| view! { <ErrorPanel error/> })
    };

    view! {
        <form class="regenerate card" on:submit=start aria-labelledby="regenerate-title">
            <h2 id="regenerate-title" class="visually-hidden">"Regenerate insights"</h2>
            <div class="regenerate-fields">
                <div class="field">
                    <label for="regenerate-limit">"Newest conversations"</label>
                    <input id="regenerate-limit" type="number" min="1" max="200" inputmode="numeric"
                        prop:value=move || limit.get().to_string()
                        on:change=move |ev| {
                            if let Ok(n) = event_target_value(&ev).trim().parse::<u32>() {
                                limit.set(n.clamp(1, 200));
                            }
                        }/>
                </div>
                <label class="checkbox">
                    <input type="checkbox" prop:checked=move || force.get()
                        on:change=move |ev| force.set(event_target_checked(&ev))/>
                    "Redo ones that already have insights"
                </label>
                <button type="submit" disabled=move || running.get()>
                    {move || if running.get() { "Regenerating…" } else { "Regenerate" }}
                </button>
            </div>
            {status}
            {failure}
        </form>
    }
}

/// Everything `GET /agents/:id/insights` answered.
#[component]
fn InsightsReport(insights: AgentInsights, names: BTreeMap<String, String>) -> impl IntoView {
    let AgentInsights {
        period,
        generated_at,
        metrics,
        topics,
        issues,
        recommendations,
        sentiment,
        trend,
        business_impact,
        fleet_intelligence,
        ..
    } = insights;
    if metrics.conversation_count == 0 {
        return view! {
            <EmptyState title="No conversations in this period"
                hint="Insights come from the agent's conversations. Pick a longer period, or send conversations through the API or the SDK."/>
        }
        .into_any();
    }

    let days: Vec<String> = trend.iter().map(|p| p.date.clone()).collect();
    let quality = TimeSeries::daily(
        &days,
        vec![Series::new(
            "Quality",
            trend
                .iter()
                .map(|p| p.quality_score.unwrap_or(f64::NAN))
                .collect(),
        )],
    );
    let volume = TimeSeries::daily(
        &days,
        vec![Series::new(
            "Conversations",
            trend.iter().map(|p| p.conversations as f64).collect(),
        )],
    );
    let score_format = Callback::new(one_decimal);

    // Each tile says what it counts and out of what: "Tasks completed" is a share of
    // conversations, unlike the task completion score the table below averages.
    let analysed = format!("of {} analysed", thousands(metrics.analyzed_count));
    let all = format!("of {} conversations", thousands(metrics.conversation_count));
    let stats = [
        (
            "Quality",
            score_text(metrics.quality_score),
            format!("mean, 0–100, {analysed}"),
        ),
        (
            "Conversations",
            thousands(metrics.conversation_count),
            "in the period".to_owned(),
        ),
        (
            "Analysed",
            thousands(metrics.analyzed_count),
            "insights ready".to_owned(),
        ),
        (
            "Tasks completed",
            percent_of_100(metrics.task_completion),
            analysed.clone(),
        ),
        (
            "Completion rate",
            percent_of_100(metrics.completion_rate),
            format!("status completed, {all}"),
        ),
        (
            "Abandonment rate",
            percent_of_100(metrics.abandonment_rate),
            format!("status abandoned, {all}"),
        ),
        (
            "Average turns",
            one_decimal(metrics.average_turns),
            "per conversation".to_owned(),
        ),
        (
            "Average sentiment",
            format!("{:.2}", metrics.average_sentiment),
            format!("0 to 1, {analysed}"),
        ),
    ];

    let averages = metrics.averages.clone();
    let metric_rows = Metric::ALL
        .into_iter()
        .map(|metric| {
            let average = averages.get(metric.as_str()).copied();
            let rank = fleet_intelligence.percentiles.get(metric.as_str()).copied();
            view! {
                <tr>
                    <th scope="row">{metric.label()}</th>
                    <td class="num">{score_text(average)}</td>
                    <td class="num">{rank.map(|p| ordinal(p.round() as u64)).unwrap_or_else(|| "—".to_owned())}</td>
                </tr>
            }
        })
        .collect_view();

    let ranked = rank_issues(issues);
    let sentiment_total = sentiment.positive + sentiment.neutral + sentiment.negative;
    let share = move |n: u64| {
        if sentiment_total == 0 {
            0.0
        } else {
            n as f64 / sentiment_total as f64
        }
    };
    let topic_total: u64 = topics.iter().map(|t| t.count).sum();

    view! {
        <p class="muted period-line">
            {format!(
                "{} – {} · generated {}",
                format::date(&period.from),
                format::date(&period.to),
                format::date_time(&generated_at)
            )}
        </p>
        <dl class="stat-strip" data-testid="insights-metrics">
            {stats.into_iter().map(|(label, value, basis)| view! {
                <div><dt>{label}</dt><dd>{value}</dd><dd class="stat-basis">{basis}</dd></div>
            }).collect_view()}
        </dl>

        <section class="insights-section" aria-labelledby="trend-title" data-testid="trend">
            <h2 id="trend-title">"Trend"</h2>
            <div class="chart-pair">
                <div class="card">
                    <TimeSeriesChart title="Quality per day" data=Signal::stored(quality)
                        y_label="Quality (0–100)" kind=ChartKind::Line y_max=100.0 format_value=score_format/>
                </div>
                <div class="card">
                    <TimeSeriesChart title="Conversations per day" data=Signal::stored(volume) y_label="Conversations"/>
                </div>
            </div>
        </section>

        <section class="card insights-section" aria-labelledby="issues-title">
            <h2 id="issues-title">"Issues, most frequent first"</h2>
            {if ranked.is_empty() {
                view! { <p class="muted">"No issues found in this period."</p> }.into_any()
            } else {
                view! { <IssuesTable issues=ranked/> }.into_any()
            }}
        </section>

        {(!recommendations.is_empty()).then(|| view! {
            <section class="card insights-section" aria-labelledby="recommendations-title">
                <h2 id="recommendations-title">"Recommendations"</h2>
                <ol class="recommendations">
                    {recommendations.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}
                </ol>
            </section>
        })}

        <div class="insights-grid">
            <section class="card" aria-labelledby="sentiment-title">
                <h2 id="sentiment-title">"Sentiment"</h2>
                <div class="sentiment-split" aria-hidden="true">
                    <span class="sentiment-positive" style:width=format!("{:.1}%", share(sentiment.positive) * 100.0)></span>
                    <span class="sentiment-neutral" style:width=format!("{:.1}%", share(sentiment.neutral) * 100.0)></span>
                    <span class="sentiment-negative" style:width=format!("{:.1}%", share(sentiment.negative) * 100.0)></span>
                </div>
                <dl class="sentiment-counts">
                    <div><dt><span class="swatch sentiment-positive"></span>"Positive"</dt><dd>{format!("{} ({})", thousands(sentiment.positive), percent(share(sentiment.positive)))}</dd></div>
                    <div><dt><span class="swatch sentiment-neutral"></span>"Neutral"</dt><dd>{format!("{} ({})", thousands(sentiment.neutral), percent(share(sentiment.neutral)))}</dd></div>
                    <div><dt><span class="swatch sentiment-negative"></span>"Negative"</dt><dd>{format!("{} ({})", thousands(sentiment.negative), percent(share(sentiment.negative)))}</dd></div>
                </dl>
            </section>
            <section class="card" aria-labelledby="topics-title">
                <h2 id="topics-title">"Topics"</h2>
                {if topics.is_empty() {
                    view! { <p class="muted">"No topics yet."</p> }.into_any()
                } else {
                    view! {
                        <table class="list-table compact-table">
                            <thead><tr><th scope="col">"Topic"</th><th scope="col" class="num">"Conversations"</th><th scope="col" class="num">"Share"</th></tr></thead>
                            <tbody>
                                {topics.into_iter().map(|t| view! {
                                    <tr>
                                        <th scope="row">{t.name}</th>
                                        <td class="num">{thousands(t.count)}</td>
                                        <td class="num">{percent(if topic_total == 0 { 0.0 } else { t.count as f64 / topic_total as f64 })}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }}
            </section>
            <section class="card" aria-labelledby="impact-title" data-testid="business-impact">
                <h2 id="impact-title">"Business impact"</h2>
                <dl class="facts-list">
                    <div><dt>"Conversations affected"</dt><dd>{thousands(business_impact.conversations_affected)}</dd></div>
                    <div><dt>"Failure rate"</dt><dd>{percent(business_impact.failure_rate)}</dd></div>
                    <div><dt>"Revenue at risk"</dt><dd>{format!("{} {}", format::number(business_impact.estimated_revenue_at_risk), business_impact.currency)}</dd></div>
                </dl>
                <p>{business_impact.summary}</p>
            </section>
        </div>

        <section class="card insights-section" aria-labelledby="averages-title">
            <h2 id="averages-title">"The 11 metrics"</h2>
            <p class="muted">"Averages over the period's analysed conversations (0–100, higher is better), and where the agent ranks among the account's agents."</p>
            <div class="table-scroll">
                <table class="list-table metric-averages" data-testid="metric-averages">
                    <thead><tr><th scope="col">"Metric"</th><th scope="col" class="num">"Average"</th><th scope="col" class="num">"Fleet percentile"</th></tr></thead>
                    <tbody>{metric_rows}</tbody>
                </table>
            </div>
        </section>

        <FleetSection fleet=fleet_intelligence names/>
    }
    .into_any()
}

/// The ranked issues: how often, how severe, and where to see them.
#[component]
fn IssuesTable(issues: Vec<AgentIssue>) -> impl IntoView {
    view! {
        <div class="table-scroll">
            <table class="list-table issues-table" data-testid="issues">
                <thead>
                    <tr>
                        <th scope="col" class="num">"#"</th>
                        <th scope="col">"Issue"</th>
                        <th scope="col">"Severity"</th>
                        <th scope="col" class="num">"Frequency"</th>
                        <th scope="col" class="num">"Conversations"</th>
                        <th scope="col">"Examples"</th>
                    </tr>
                </thead>
                <tbody>
                    {issues.into_iter().enumerate().map(|(i, issue)| view! {
                        <tr>
                            <td class="num" data-label="Rank">{i + 1}</td>
                            <th scope="row" data-label="Issue">
                                <span class="issue-title">{issue.title}</span>
                                <span class="issue-description muted">{issue.description}</span>
                            </th>
                            <td data-label="Severity"><SeverityBadge severity=issue.severity/></td>
                            <td class="num" data-label="Frequency">{percent(issue.frequency)}</td>
                            <td class="num" data-label="Conversations">{thousands(issue.affected_conversations)}</td>
                            <td data-label="Examples"><ConversationLinks conversations=issue.example_conversations/></td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// Rank, percentile and score against the fleet, the percentile of each metric, the
/// patterns the agent shares with others, and whom to learn from.
#[component]
fn FleetSection(fleet: FleetIntelligence, names: BTreeMap<String, String>) -> impl IntoView {
    let name_of = move |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_owned());
    let rank = match fleet.rank {
        Some(rank) => format!("{} of {}", thousands(rank), thousands(fleet.total_agents)),
        None => format!("Unranked of {}", thousands(fleet.total_agents)),
    };
    let percentile = fleet
        .percentile
        .map(|p| format!("{} percentile", ordinal(p.round() as u64)))
        .unwrap_or_else(|| "—".to_owned());
    let difference = match (fleet.agent_score, fleet.fleet_average_score) {
        (Some(agent), Some(average)) => {
            let delta = agent - average;
            let sign = if delta > 0.0 { "+" } else { "" };
            format!("{sign}{} against the fleet", one_decimal(delta))
        }
        _ => String::new(),
    };
    let chart = BarChartData {
        bars: percentile_bars(&fleet),
        category_label: "Metric".to_owned(),
        value_label: "Percentile among the account's agents (0–100)".to_owned(),
        reference: Some(ReferenceLine {
            value: 50.0,
            label: "50th: the fleet's middle".to_owned(),
        }),
        domain: Some((0.0, 100.0)),
        ..BarChartData::default()
    };
    let has_percentiles = !chart.bars.is_empty();
    let percentile_format = Callback::new(|v: f64| ordinal(v.round().max(0.0) as u64));
    let patterns = fleet.shared_patterns;
    let practices = fleet.best_practices_from;

    view! {
        <section class="card insights-section fleet-intelligence" aria-labelledby="fleet-title" data-testid="fleet-intelligence">
            <h2 id="fleet-title">"Fleet intelligence"</h2>
            <dl class="stat-strip fleet-stats">
                <div><dt>"Rank"</dt><dd data-testid="fleet-rank">{rank}</dd></div>
                <div><dt>"Percentile"</dt><dd>{percentile}</dd></div>
                <div><dt>"This agent"</dt><dd>{score_text(fleet.agent_score)}</dd></div>
                <div><dt>"Fleet average"</dt><dd>{score_text(fleet.fleet_average_score)}</dd></div>
            </dl>
            {(!difference.is_empty()).then(|| view! { <p class="muted">{format!("Quality {difference}.")}</p> })}
            {if has_percentiles {
                view! {
                    <BarChart title="Fleet percentile per metric" data=Signal::stored(chart)
                        format_value=percentile_format test_id="percentile-chart"/>
                }.into_any()
            } else {
                view! { <p class="muted">"No percentiles yet: the agent has no analysed conversations in this period."</p> }.into_any()
            }}
            <h3>"Shared patterns"</h3>
            {if patterns.is_empty() {
                view! { <p class="muted">"No issue is shared with other agents."</p> }.into_any()
            } else {
                let name_of = name_of.clone();
                view! {
                    <ul class="shared-patterns">
                        {patterns.into_iter().map(|p| view! {
                            <li>
                                <strong>{p.pattern}</strong>
                                <span class="muted">{format!(" · {} agents: ", thousands(p.affected_agents))}</span>
                                <span class="agent-list">
                                    {p.agent_ids.into_iter().map(|id| view! {
                                        <a href=format!("/agents/{}/insights", encode_component(&id))>{name_of(&id)}</a>
                                    }).collect_view()}
                                </span>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <h3>"Best practices from other agents"</h3>
            {if practices.is_empty() {
                view! { <p class="muted">"No other agent does clearly better on any metric."</p> }.into_any()
            } else {
                view! {
                    <ul class="best-practices" data-testid="best-practices">
                        {practices.into_iter().map(|p| view! {
                            <li>
                                <a href=format!("/agents/{}/insights", encode_component(&p.agent_id))>{p.agent_name}</a>
                                {format!(" scores {} on {}: see how its prompt handles it.", one_decimal(p.value), metric_label(&p.metric))}
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}
