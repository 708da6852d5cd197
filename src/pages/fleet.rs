//! `/fleet?days=30&sort=score&dir=desc`: every agent of the account side by side on the 11
//! metrics (a heat map and a sortable table, with each agent's score and conversations),
//! and whether the changes applied to them worked (`GET /deployments/impact`). Each
//! agent's insights load a few at a time and show as they arrive; one that fails says why
//! in its row and can be retried alone.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

use converra_api::agents::AgentFilter;
use converra_api::insights::{
    AgentInsights, DeploymentImpact, DeploymentsImpact, DeploymentsQuery, Metric,
    VerificationStatus,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::api::agents::list_all_agents;
use crate::api::insights::{get_agent_insights, get_deployments_impact};
use crate::api::{ApiClient, ClientError};
use crate::components::boundary_errors::BoundaryErrors;
use crate::components::charts::{HeatMapChart, HeatMapData};
use crate::components::empty_state::EmptyState;
use crate::components::error_panel::ErrorPanel;
use crate::components::insight_parts::{
    one_decimal, percent, percent_of_100, period_days, period_pair, score_text, PeriodPicker,
};
use crate::components::loading::Loading;
use crate::components::page_title::use_page_title;
use crate::components::timestamp::Timestamp;
use crate::format::thousands;
use crate::query::{build_query, encode_component};
use crate::signed_in::client_of;
use crate::signed_in::use_signed_in;

/// How many agents' insights are fetched at once: enough to fill the page quickly, few
/// enough to stay far from the plan's rate limit.
const PARALLEL: usize = 3;

/// What one agent's insights say about it, as the fleet compares agents.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FleetFigures {
    /// The quality score over the period; `None` without analysed conversations.
    pub score: Option<f64>,
    /// Conversations in the period.
    pub conversations: u64,
    /// Of those, how many have insights.
    pub analysed: u64,
    /// 1 = best; `None` without analysed conversations.
    pub rank: Option<u64>,
    /// The 11 metrics' averages, by JSON key.
    pub averages: BTreeMap<String, f64>,
}

impl FleetFigures {
    /// The figures of one agent's insights.
    pub fn of(insights: &AgentInsights) -> Self {
        FleetFigures {
            score: insights.metrics.quality_score,
            conversations: insights.metrics.conversation_count,
            analysed: insights.metrics.analyzed_count,
            rank: insights.fleet_intelligence.rank,
            averages: insights.metrics.averages.clone(),
        }
    }

    /// One metric's average, if the agent has one.
    pub fn metric(&self, metric: Metric) -> Option<f64> {
        self.averages.get(metric.as_str()).copied()
    }
}

/// Where one agent's row stands.
#[derive(Debug, Clone, PartialEq)]
pub enum FleetResult {
    Loading,
    Ready(FleetFigures),
    Failed(ClientError),
}

/// One agent of the fleet.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetRow {
    /// The agent's id, for links and retries.
    pub agent_id: String,
    /// The agent's name, as the rows show it.
    pub agent_name: String,
    /// Its insights, once they arrive.
    pub result: FleetResult,
}

impl FleetRow {
    fn figures(&self) -> Option<&FleetFigures> {
        match &self.result {
            FleetResult::Ready(figures) => Some(figures),
            _ => None,
        }
    }
}

/// What the table is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FleetSortKey {
    Name,
    Score,
    Conversations,
    Metric(Metric),
}

impl FleetSortKey {
    /// The key's name in the URL (`name`, `score`, `conversations` or a metric's key).
    pub fn as_str(self) -> &'static str {
        match self {
            FleetSortKey::Name => "name",
            FleetSortKey::Score => "score",
            FleetSortKey::Conversations => "conversations",
            FleetSortKey::Metric(metric) => metric.as_str(),
        }
    }

    /// The key a URL's `sort` names; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "name" => Some(FleetSortKey::Name),
            "score" => Some(FleetSortKey::Score),
            "conversations" => Some(FleetSortKey::Conversations),
            other => other.parse().ok().map(FleetSortKey::Metric),
        }
    }

    /// Names read A to Z first; numbers best or biggest first.
    fn natural_descending(self) -> bool {
        self != FleetSortKey::Name
    }
}

/// The table's order: a key and a direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FleetSort {
    /// The column sorted by.
    pub key: FleetSortKey,
    /// Biggest (or Z) first.
    pub descending: bool,
}

impl Default for FleetSort {
    fn default() -> Self {
        FleetSort {
            key: FleetSortKey::Score,
            descending: true,
        }
    }
}

impl FleetSort {
    /// The order the URL's `sort` and `dir` ask for; unknown values fall back to the
    /// default (best score first), and a missing `dir` to the key's natural direction.
    pub fn from_query(sort: Option<&str>, dir: Option<&str>) -> Self {
        let Some(key) = sort.and_then(FleetSortKey::parse) else {
            return FleetSort::default();
        };
        let descending = match dir {
            Some("asc") => false,
            Some("desc") => true,
            _ => key.natural_descending(),
        };
        FleetSort { key, descending }
    }

    /// The URL pairs; none for the default order.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        if *self == FleetSort::default() {
            return Vec::new();
        }
        let dir = if self.descending { "desc" } else { "asc" };
        vec![
            ("sort", self.key.as_str().to_owned()),
            ("dir", dir.to_owned()),
        ]
    }

    /// The order after clicking `key`'s header: the same key flips, another starts in its
    /// natural direction.
    pub fn toggled(self, key: FleetSortKey) -> Self {
        if self.key == key {
            FleetSort {
                key,
                descending: !self.descending,
            }
        } else {
            FleetSort {
                key,
                descending: key.natural_descending(),
            }
        }
    }
}

/// The fleet page's URL: `?days=…&sort=…&dir=…`, leaving out defaults.
pub fn fleet_url_query(days: u32, sort: FleetSort) -> String {
    build_query(period_pair(days).into_iter().chain(sort.pairs()))
}

/// Sorts the rows in place. Rows still loading or failed go last (by name); among the
/// others, a missing value goes after every present one whatever the direction, and ties
/// go by name.
pub fn sort_fleet_rows(rows: &mut [FleetRow], sort: FleetSort) {
    use std::cmp::Ordering;
    let value = |row: &FleetRow| -> Option<f64> {
        let figures = row.figures()?;
        match sort.key {
            FleetSortKey::Name => None,
            FleetSortKey::Score => figures.score,
            FleetSortKey::Conversations => Some(figures.conversations as f64),
            FleetSortKey::Metric(metric) => figures.metric(metric),
        }
    };
    let by_name = |a: &FleetRow, b: &FleetRow| {
        a.agent_name
            .to_lowercase()
            .cmp(&b.agent_name.to_lowercase())
            .then_with(|| a.agent_id.cmp(&b.agent_id))
    };
    rows.sort_by(|a, b| {
        let loaded = b.figures().is_some().cmp(&a.figures().is_some());
        if loaded != Ordering::Equal {
            return loaded;
        }
        if a.figures().is_none() {
            return by_name(a, b);
        }
        let primary = if sort.key == FleetSortKey::Name {
            by_name(a, b)
        } else {
            match (value(a), value(b)) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                (Some(_), None) => return Ordering::Less,
                (None, Some(_)) => return Ordering::Greater,
                (None, None) => Ordering::Equal,
            }
        };
        let primary = if sort.descending {
            primary.reverse()
        } else {
            primary
        };
        primary.then_with(|| by_name(a, b))
    });
}

/// The heat map of the loaded agents (in the table's order) × the 11 metrics.
pub fn fleet_heat_map(rows: &[FleetRow]) -> HeatMapData {
    let loaded: Vec<(&FleetRow, &FleetFigures)> = rows
        .iter()
        .filter_map(|r| Some((r, r.figures()?)))
        .collect();
    let values: Vec<Vec<Option<f64>>> = loaded
        .iter()
        .map(|(_, f)| Metric::ALL.iter().map(|m| f.metric(*m)).collect())
        .collect();
    HeatMapData::agent_metrics(
        loaded.iter().map(|(r, _)| r.agent_name.clone()).collect(),
        values,
    )
}

/// Fetches the agents' insights from the shared queue, one at a time, until it is empty or
/// a newer load (another period) has started.
async fn fleet_worker(
    client: ApiClient,
    queue: Rc<RefCell<VecDeque<String>>>,
    days: u32,
    rows: RwSignal<Vec<FleetRow>>,
    generation: StoredValue<u32>,
    mine: u32,
) {
    loop {
        let next = queue.borrow_mut().pop_front();
        let Some(agent_id) = next else {
            break;
        };
        if generation.try_get_value() != Some(mine) {
            break;
        }
        let result = get_agent_insights(&client, &agent_id, days).await;
        if generation.try_get_value() != Some(mine) {
            break;
        }
        set_result(rows, &agent_id, result);
    }
}

fn set_result(
    rows: RwSignal<Vec<FleetRow>>,
    agent_id: &str,
    result: Result<AgentInsights, ClientError>,
) {
    let result = match result {
        Ok(insights) => FleetResult::Ready(FleetFigures::of(&insights)),
        Err(error) => FleetResult::Failed(error),
    };
    rows.try_update(|rows| {
        if let Some(row) = rows.iter_mut().find(|r| r.agent_id == agent_id) {
            row.result = result;
        }
    });
}

/// The page at `/fleet`.
#[component]
pub fn FleetPage() -> impl IntoView {
    use_page_title(|| "Fleet".to_owned());
    let signed_in = use_signed_in();
    let query = use_query_map();
    let navigate = use_navigate();
    let days = Memo::new(move |_| query.with(|q| period_days(q.get("days").as_deref())));
    let sort = Memo::new(move |_| {
        query.with(|q| FleetSort::from_query(q.get("sort").as_deref(), q.get("dir").as_deref()))
    });

    let rows = RwSignal::new(Vec::<FleetRow>::new());
    let listing = RwSignal::new(true);
    let list_error = RwSignal::new(None::<ClientError>);
    // A new period starts a new load; workers of an older one stop at their next step.
    let generation = StoredValue::new(0u32);
    let load = move |days: u32| {
        let mine = generation.get_value().wrapping_add(1);
        generation.set_value(mine);
        listing.set(true);
        list_error.set(None);
        let client = client_of(signed_in.get_untracked());
        spawn_local(async move {
            let listed = match &client {
                Ok(client) => list_all_agents(client, &AgentFilter::default()).await,
                Err(error) => Err(error.clone()),
            };
            if generation.try_get_value() != Some(mine) {
                return;
            }
            listing.try_set(false);
            let (client, agents) = match (client, listed) {
                (Ok(client), Ok(agents)) => (client, agents),
                (Err(error), _) | (_, Err(error)) => {
                    list_error.try_set(Some(error));
                    return;
                }
            };
            rows.try_set(
                agents
                    .iter()
                    .map(|a| FleetRow {
                        agent_id: a.id.clone(),
                        agent_name: a.name.clone(),
                        result: FleetResult::Loading,
                    })
                    .collect(),
            );
            let queue = Rc::new(RefCell::new(
                agents.into_iter().map(|a| a.id).collect::<VecDeque<_>>(),
            ));
            for _ in 0..PARALLEL {
                spawn_local(fleet_worker(
                    client.clone(),
                    queue.clone(),
                    days,
                    rows,
                    generation,
                    mine,
                ));
            }
        });
    };
    Effect::new(move |_| load(days.get()));

    let retry_agent = Callback::new(move |agent_id: String| {
        let Ok(client) = client_of(signed_in.get_untracked()) else {
            return;
        };
        let days = days.get_untracked();
        rows.update(|rows| {
            if let Some(row) = rows.iter_mut().find(|r| r.agent_id == agent_id) {
                row.result = FleetResult::Loading;
            }
        });
        let mine = generation.get_value();
        spawn_local(async move {
            let result = get_agent_insights(&client, &agent_id, days).await;
            if generation.try_get_value() == Some(mine) {
                set_result(rows, &agent_id, result);
            }
        });
    });

    let sorted = Memo::new(move |_| {
        let mut sorted = rows.get();
        sort_fleet_rows(&mut sorted, sort.get());
        sorted
    });
    let heat_map = Signal::derive(move || sorted.with(|rows| fleet_heat_map(rows)));
    let loaded = move || {
        rows.with(|rows| {
            let done = rows
                .iter()
                .filter(|r| r.result != FleetResult::Loading)
                .count();
            (done, rows.len())
        })
    };
    let period_href =
        Callback::new(move |d: u32| format!("/fleet{}", fleet_url_query(d, sort.get_untracked())));
    let sort_by = Callback::new(move |key: FleetSortKey| {
        let next = sort.get_untracked().toggled(key);
        navigate(
            &format!("/fleet{}", fleet_url_query(days.get_untracked(), next)),
            NavigateOptions {
                scroll: false,
                ..NavigateOptions::default()
            },
        );
    });

    let deployments = LocalResource::new(move || {
        let client = client_of(signed_in.get());
        async move {
            let query = DeploymentsQuery {
                limit: Some(100),
                ..DeploymentsQuery::default()
            };
            get_deployments_impact(&client?, &query).await
        }
    });
    let impact = move || {
        Suspend::new(async move {
            let impact = deployments.await?;
            Ok::<_, ClientError>(view! { <DeploymentsSection impact/> })
        })
    };

    let comparison = move || {
        if let Some(error) = list_error.get() {
            return view! {
                <ErrorPanel error/>
                <button type="button" class="retry" on:click=move |_| load(days.get_untracked())>"Retry"</button>
            }
            .into_any();
        }
        if listing.get() {
            return view! { <Loading what="the agents" rows=6/> }.into_any();
        }
        if rows.with(Vec::is_empty) {
            return view! {
                <EmptyState title="No agents yet" hint="Register an agent to compare it here.">
                    <a href="/agents">"Go to the agents"</a>
                </EmptyState>
            }
            .into_any();
        }
        view! {
            <p class="muted" role="status" data-testid="fleet-loaded">
                {move || {
                    let (done, total) = loaded();
                    if done < total {
                        format!("Loaded {done} of {total} agents…")
                    } else {
                        format!("All {total} agents loaded.")
                    }
                }}
            </p>
            <section class="card insights-section" aria-labelledby="heat-title">
                <h2 id="heat-title">"Metrics per agent"</h2>
                <p class="muted">"Each metric's average over the period, 0–100; higher is better."</p>
                <HeatMapChart title="The 11 metrics per agent" data=heat_map
                    format_value=Callback::new(one_decimal) test_id="fleet-heat-map"/>
            </section>
            <section class="card insights-section" aria-labelledby="fleet-table-title">
                <h2 id="fleet-table-title">"Agents compared"</h2>
                <FleetTable rows=sorted sort=sort sort_by=sort_by retry=retry_agent/>
            </section>
        }
        .into_any()
    };

    view! {
        <div class="insights-page fleet-page">
            <header class="page-head">
                <div>
                    <h1>"Fleet"</h1>
                    <p class="muted page-subtitle">"Every agent of the account on the same metrics."</p>
                </div>
                <PeriodPicker current=days href=period_href/>
            </header>
            {comparison}
            <section class="card insights-section" aria-labelledby="deployments-title">
                <h2 id="deployments-title">"Did the applied changes work?"</h2>
                <Transition fallback=|| view! { <Loading what="deployments" rows=4/> }>
                    <ErrorBoundary fallback=move |errors| view! {
                        <BoundaryErrors errors/>
                        <button type="button" class="retry" on:click=move |_| deployments.refetch()>"Retry"</button>
                    }>
                        {impact}
                    </ErrorBoundary>
                </Transition>
            </section>
        </div>
    }
}

/// The sortable comparison table: one row per agent, a header button per column.
#[component]
fn FleetTable(
    #[prop(into)] rows: Signal<Vec<FleetRow>>,
    #[prop(into)] sort: Signal<FleetSort>,
    sort_by: Callback<FleetSortKey>,
    retry: Callback<String>,
) -> impl IntoView {
    let columns: Vec<(FleetSortKey, String)> = [
        (FleetSortKey::Name, "Agent".to_owned()),
        (FleetSortKey::Score, "Quality".to_owned()),
        (FleetSortKey::Conversations, "Conversations".to_owned()),
    ]
    .into_iter()
    .chain(
        Metric::ALL
            .iter()
            .map(|m| (FleetSortKey::Metric(*m), m.label().to_owned())),
    )
    .collect();
    let span = (columns.len() - 1).to_string();
    let header = columns
        .into_iter()
        .map(|(key, label)| {
            let aria_sort = move || {
                let current = sort.get();
                if current.key != key {
                    "none"
                } else if current.descending {
                    "descending"
                } else {
                    "ascending"
                }
            };
            let arrow = move || {
                let current = sort.get();
                match (current.key == key, current.descending) {
                    (false, _) => "",
                    (true, true) => " ↓",
                    (true, false) => " ↑",
                }
            };
            let class = if key == FleetSortKey::Name { "" } else { "num" };
            view! {
                <th scope="col" class=class aria-sort=aria_sort>
                    <button type="button" class="sort-button" on:click=move |_| sort_by.run(key)>
                        {label}<span aria-hidden="true">{arrow}</span>
                    </button>
                </th>
            }
        })
        .collect_view();

    view! {
        <div class="table-scroll">
            <table class="list-table fleet-table" data-testid="fleet-table">
                <caption class="visually-hidden">"Agents compared on their score, conversations and the 11 metrics; the column headers sort."</caption>
                <thead><tr>{header}</tr></thead>
                <tbody>
                    {move || rows.get().into_iter().map(|row| {
                        let href = format!("/agents/{}/insights", encode_component(&row.agent_id));
                        let name = view! { <th scope="row"><a href=href>{row.agent_name.clone()}</a></th> };
                        match row.result {
                            FleetResult::Ready(figures) => view! {
                                <tr>
                                    {name}
                                    <td class="num">{score_text(figures.score)}</td>
                                    <td class="num">{thousands(figures.conversations)}</td>
                                    {Metric::ALL.iter().map(|m| view! {
                                        <td class="num">{score_text(figures.metric(*m))}</td>
                                    }).collect_view()}
                                </tr>
                            }.into_any(),
                            FleetResult::Loading => view! {
                                <tr class="loading-row">
                                    {name}
                                    <td colspan=span.clone() class="muted">"Loading…"</td>
                                </tr>
                            }.into_any(),
                            FleetResult::Failed(error) => {
                                let agent_id = row.agent_id.clone();
                                view! {
                                    <tr class="failed-row">
                                        {name}
                                        <td colspan=span.clone()>
                                            <span class="row-error" role="alert">
                                                <code>{error.code.as_str()}</code>" "{error.message}
                                            </span>
                                            " "
                                            <button type="button" class="secondary small"
                                                on:click=move |_| retry.run(agent_id.clone())>"Retry"</button>
                                        </td>
                                    </tr>
                                }.into_any()
                            }
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

fn verification_label(status: VerificationStatus) -> &'static str {
    match status {
        VerificationStatus::Verified => "Verified",
        VerificationStatus::Monitoring => "Monitoring",
        VerificationStatus::NotFixed => "Not fixed",
        VerificationStatus::Regressed => "Regressed",
        VerificationStatus::Confounded => "Confounded",
    }
}

/// How the failure rate moved, as a relative change with its direction in words, so that a
/// rise never reads as a small fix. The direction comes from the rates themselves: a change
/// too small to show at one decimal still says which way it went.
pub fn failure_change(rate_before: f64, rate_after: f64, reduction_percent: f64) -> String {
    let amount = |percent: f64| {
        if percent.abs() < 0.05 {
            "under 0.1%".to_owned()
        } else {
            percent_of_100(percent.abs())
        }
    };
    if rate_after < rate_before {
        format!("fell {}", amount(reduction_percent))
    } else if rate_after > rate_before {
        format!("rose {}", amount(reduction_percent))
    } else {
        "unchanged".to_owned()
    }
}

fn p_value_label(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".to_owned()
    } else {
        format!("{p:.3}")
    }
}

/// The deployments' verdicts, counted and one by one.
#[component]
fn DeploymentsSection(impact: DeploymentsImpact) -> impl IntoView {
    let summary = impact.summary;
    if summary.total_deployments == 0 {
        return view! {
            <p class="muted">"No changes applied yet. When a new version of an agent's prompt goes live (by an edit or an optimization), whether it reduced failures shows here."</p>
        }
        .into_any();
    }
    let tiles = [
        (VerificationStatus::Verified, summary.verified),
        (VerificationStatus::Monitoring, summary.monitoring),
        (VerificationStatus::NotFixed, summary.not_fixed),
        (VerificationStatus::Regressed, summary.regressed),
        (VerificationStatus::Confounded, summary.confounded),
    ];
    view! {
        <p class="muted">{format!("{} changes applied.", thousands(summary.total_deployments))}</p>
        <p class="muted deployment-rule">"Each change is compared with as many days before it, on the share of conversations whose task failed. With at least 30 conversations on each side, Fisher's exact test decides: verified when the change is significant at 5% and failures fell by more than half, regressed when they rose significantly, not fixed otherwise."</p>
        <dl class="stat-strip deployment-summary" data-testid="deployment-summary">
            {tiles.into_iter().map(|(status, count)| view! {
                <div class=format!("verdict-{}", status.as_str())>
                    <dt>{verification_label(status)}</dt>
                    <dd>{thousands(count)}</dd>
                </div>
            }).collect_view()}
        </dl>
        <div class="table-scroll">
            <table class="list-table deployments-table" data-testid="deployments-table">
                <thead>
                    <tr>
                        <th scope="col">"Agent"</th>
                        <th scope="col" class="num">"Version"</th>
                        <th scope="col">"Deployed"</th>
                        <th scope="col">"Verdict"</th>
                        <th scope="col" class="num">"Failure rate before → after"</th>
                        <th scope="col" class="num">"Change in failures"</th>
                        <th scope="col" class="num">"p (Fisher)"</th>
                        <th scope="col" class="num">"Conversations before / after"</th>
                    </tr>
                </thead>
                <tbody>
                    {impact.agents.into_iter().map(|d: DeploymentImpact| view! {
                        <tr>
                            <th scope="row"><a href=format!("/agents/{}/insights", encode_component(&d.agent_id))>{d.agent_name}</a></th>
                            <td class="num">{format!("v{}", d.version)}</td>
                            <td class="nowrap"><Timestamp value=d.deployed_at/></td>
                            <td><span class=format!("status-badge verdict-{}", d.verification_status.as_str())>{verification_label(d.verification_status)}</span></td>
                            <td class="num">{format!("{} → {}", percent(d.failure_rate_before), percent(d.failure_rate_after))}</td>
                            <td class="num">{failure_change(d.failure_rate_before, d.failure_rate_after, d.reduction_percent)}</td>
                            <td class="num">{d.p_value.map_or_else(|| "—".to_owned(), p_value_label)}</td>
                            <td class="num">{format!("{} / {}", thousands(d.pre_fix_conversation_count), thousands(d.post_fix_conversation_count))}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
