//! The optimizations list (`/optimizations`): every optimization of the account with its
//! status, agent, mode and phase, a live progress bar for the queued and running ones
//! (polled with backoff while any is live), and agent and status filters kept in the URL
//! (`?agentId=…&status=…&cursor=…`).

use converra_api::agents::{Agent, AgentFilter};
use converra_api::optimizations::{
    Evidence, Optimization, OptimizationFilter, OptimizationOutcome, OptimizationStatus,
};
use converra_api::List;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::api::agents::list_all_agents;
use crate::api::optimizations::list_optimizations;
use crate::components::boundary_errors::BoundaryErrors;
use crate::components::empty_state::EmptyState;
use crate::components::loading::Loading;
use crate::components::optimization_progress::{is_live, phase_label, OptimizationProgressBar};
use crate::components::optimization_stats::format_lift;
use crate::components::page_title::use_page_title;
use crate::components::poll::Poll;
use crate::components::status_badge::{status_label, OptimizationStatusBadge};
use crate::components::timestamp::RelativeTime;
use crate::query::{build_query, encode_component, QueryState};
use crate::signed_in::client_of;
use crate::signed_in::use_signed_in;

/// Optimizations per page (the spec's default for this list).
pub const PAGE_SIZE: u32 = 10;
/// The list's view as the URL keeps it: `?agentId=…&status=…&cursor=…`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OptimizationListQuery {
    pub agent_id: Option<String>,
    pub status: Option<OptimizationStatus>,
    /// The page: the previous page's `nextCursor`; `None` for the first.
    pub cursor: Option<String>,
}

impl QueryState for OptimizationListQuery {
    /// The view the URL's values describe; an unknown status and empty values are ignored.
    fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let text = |key: &str| {
            get(key)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        OptimizationListQuery {
            // `promptId` is the API's older name for the agent filter.
            agent_id: text("agentId").or_else(|| text("promptId")),
            status: text("status").and_then(|s| s.parse().ok()),
            cursor: text("cursor"),
        }
    }
}

impl OptimizationListQuery {
    /// `?agentId=…&status=…&cursor=…`, leaving out what is unset; empty for the whole list.
    pub fn to_url_query(&self) -> String {
        let mut pairs = Vec::new();
        if let Some(agent) = &self.agent_id {
            pairs.push(("agentId", agent.clone()));
        }
        if let Some(status) = self.status {
            pairs.push(("status", status.as_str().to_owned()));
        }
        if let Some(cursor) = &self.cursor {
            pairs.push(("cursor", cursor.clone()));
        }
        build_query(pairs)
    }

    /// What `GET /optimizations` is asked for.
    pub fn filter(&self) -> OptimizationFilter {
        OptimizationFilter {
            agent_id: self.agent_id.clone(),
            status: self.status,
        }
    }

    pub fn is_filtered(&self) -> bool {
        self.agent_id.is_some() || self.status.is_some()
    }
}

/// What a finished run found, in a few words ("Variant won, +4.2%").
pub fn outcome_text(optimization: &Optimization) -> String {
    match (&optimization.results, optimization.status) {
        // A partial run names no winner, whatever its numbers read.
        (Some(_), OptimizationStatus::Stopped) => "Stopped: no winner named".to_owned(),
        (Some(results), _) => match results.outcome {
            OptimizationOutcome::VariantWon if optimization.evidence == Evidence::Scripted => {
                format!(
                    "Best in a scripted simulation ({})",
                    format_lift(results.lift)
                )
            }
            OptimizationOutcome::VariantWon => {
                format!("A variant won ({})", format_lift(results.lift))
            }
            OptimizationOutcome::OriginalWon => "The original won".to_owned(),
            OptimizationOutcome::Inconclusive => "Inconclusive".to_owned(),
        },
        (None, OptimizationStatus::Failed) => optimization
            .error
            .as_ref()
            .map(|e| format!("Failed: {}", e.code))
            .unwrap_or_else(|| "Failed".to_owned()),
        (None, OptimizationStatus::Stopped) => "Stopped before results".to_owned(),
        (None, _) => "—".to_owned(),
    }
}

/// The list with its filters, polling while anything on it is live.
#[component]
pub fn OptimizationsPage() -> impl IntoView {
    use_page_title(|| "Optimizations".to_owned());
    let signed_in = use_signed_in();
    let query_map = use_query_map();
    let list_query = Memo::new(move |_| OptimizationListQuery::from_params(&query_map.get()));
    let navigate = use_navigate();
    // Refetches the page while something on it is live.
    let poll = Poll::new();

    let optimizations = LocalResource::new(move || {
        let query = list_query.get();
        poll.track();
        let client = client_of(signed_in.get());
        async move {
            list_optimizations(
                &client?,
                &query.filter(),
                PAGE_SIZE,
                query.cursor.as_deref(),
            )
            .await
        }
    });
    let agents = LocalResource::new(move || {
        let client = client_of(signed_in.get());
        async move { list_all_agents(&client?, &AgentFilter::default()).await }
    });

    // A new view starts over at the first, short wait.
    Effect::new(move |previous: Option<OptimizationListQuery>| {
        let query = list_query.get();
        if previous.is_some_and(|previous| previous != query) {
            poll.restart();
        }
        query
    });
    poll.while_live(
        move || {
            optimizations
                .get()
                .and_then(|page| page.ok())
                .is_some_and(|page| page.data.iter().any(is_live))
        },
        u32::MAX,
    );

    let go = move |next: OptimizationListQuery| {
        navigate(
            &format!("/optimizations{}", next.to_url_query()),
            NavigateOptions {
                scroll: false,
                ..NavigateOptions::default()
            },
        );
    };
    let on_agent = {
        let go = go.clone();
        move |ev: leptos::ev::Event| {
            let value = event_target_value(&ev);
            go(OptimizationListQuery {
                agent_id: (!value.is_empty()).then_some(value),
                status: list_query.get_untracked().status,
                cursor: None,
            })
        }
    };
    let on_status = {
        let go = go.clone();
        move |ev: leptos::ev::Event| {
            go(OptimizationListQuery {
                status: event_target_value(&ev).parse().ok(),
                agent_id: list_query.get_untracked().agent_id,
                cursor: None,
            })
        }
    };
    let agent_options = move || {
        let chosen = list_query.with(|q| q.agent_id.clone());
        let mut list: Vec<Agent> = agents.get().and_then(Result::ok).unwrap_or_default();
        list.sort_by_key(|a| a.name.to_lowercase());
        // An agent the URL names but the list lacks (still loading, or another account's)
        // keeps an option, so the select shows what filters the list.
        let missing = chosen
            .as_ref()
            .filter(|id| !list.iter().any(|a| &a.id == *id))
            .cloned();
        let extra = missing.map(|id| {
            view! { <option value=id.clone() selected=true>{id.clone()}</option> }
        });
        let options = list
            .into_iter()
            .map(|agent| {
                let selected = chosen.as_deref() == Some(agent.id.as_str());
                view! { <option value=agent.id.clone() selected=selected>{agent.name.clone()}</option> }
            })
            .collect_view();
        view! { {extra} {options} }
    };
    let new_href = move || match list_query.with(|q| q.agent_id.clone()) {
        Some(agent) => format!("/optimizations/new?agentId={}", encode_component(&agent)),
        None => "/optimizations/new".to_owned(),
    };

    let list = move || {
        Suspend::new(async move {
            optimizations.await.map(|page| {
                if page.data.is_empty() {
                    let query = list_query.get_untracked();
                    return view! { <NoOptimizations query/> }.into_any();
                }
                view! { <OptimizationsTable page query=list_query.get_untracked()/> }.into_any()
            })
        })
    };

    view! {
        <section class="optimizations-page">
            <div class="page-head">
                <h1>"Optimizations"</h1>
                <A href=new_href attr:class="button-link" attr:data-testid="new-optimization">"Start an optimization"</A>
            </div>
            <form class="opt-filters" role="search" aria-label="Filter optimizations"
                on:submit=|ev: leptos::ev::SubmitEvent| ev.prevent_default()>
                <div class="field">
                    <label for="opt-filter-agent">"Agent"</label>
                    <select id="opt-filter-agent" on:change=on_agent>
                        <option value="" selected=move || list_query.with(|q| q.agent_id.is_none())>"Any agent"</option>
                        {agent_options}
                    </select>
                </div>
                <div class="field">
                    <label for="opt-filter-status">"Status"</label>
                    <select id="opt-filter-status" on:change=on_status>
                        <option value="" selected=move || list_query.with(|q| q.status.is_none())>"Any status"</option>
                        {OptimizationStatus::ALL.into_iter().map(|status| view! {
                            <option value=status.as_str()
                                selected=move || list_query.with(|q| q.status == Some(status))>{status_label(status)}</option>
                        }).collect_view()}
                    </select>
                </div>
            </form>
            <Transition fallback=|| view! { <Loading what="optimizations" rows=4/> }>
                <ErrorBoundary fallback=move |errors| view! {
                    <BoundaryErrors errors/>
                    <button type="button" class="retry" on:click=move |_| optimizations.refetch()>"Retry"</button>
                }>
                    {list}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

/// What the list shows with nothing in it: how to start one, or how to widen a filter.
#[component]
fn NoOptimizations(query: OptimizationListQuery) -> impl IntoView {
    if query.is_filtered() {
        view! {
            <EmptyState title="No optimizations match"
                hint="Try another agent or status, or clear the filters to see every optimization.">
                <A href="/optimizations">"Clear filters"</A>
            </EmptyState>
        }
        .into_any()
    } else {
        view! {
            <EmptyState title="No optimizations yet"
                hint="An optimization writes variants of an agent's prompt, tests them against the current one on simulated conversations and tells you which is better. Start one here, or with “Optimize this agent” on an agent's page.">
                <A href="/optimizations/new" attr:class="button-link">"Start an optimization"</A>
            </EmptyState>
        }
        .into_any()
    }
}

/// One page of optimizations as a table (cards on a narrow screen), with paging links.
#[component]
fn OptimizationsTable(page: List<Optimization>, query: OptimizationListQuery) -> impl IntoView {
    let total = page.pagination.total;
    let shown = page.data.len();
    let count = match total {
        1 => "1 optimization".to_owned(),
        n => format!("{} optimizations", crate::format::thousands(n)),
    };
    let count = if u64::try_from(shown).unwrap_or(u64::MAX) < total {
        format!("{count}; showing {shown}")
    } else {
        count
    };
    let live = page.data.iter().filter(|o| is_live(o)).count();
    let next = page
        .pagination
        .next_cursor
        .clone()
        .filter(|_| page.pagination.has_more)
        .map(|cursor| {
            OptimizationListQuery {
                cursor: Some(cursor),
                ..query.clone()
            }
            .to_url_query()
        });
    let first = query.cursor.is_some().then(|| {
        OptimizationListQuery {
            cursor: None,
            ..query.clone()
        }
        .to_url_query()
    });
    let rows = page
        .data
        .into_iter()
        .map(|o| {
            let href = format!("/optimizations/{}", encode_component(&o.id));
            let agent_href = format!("/agents/{}", encode_component(&o.agent_id));
            let progress = if is_live(&o) {
                view! { <OptimizationProgressBar optimization=o.clone()/> }.into_any()
            } else {
                view! { <span>{outcome_text(&o)}</span> }.into_any()
            };
            view! {
                <tr data-testid="optimization-row" data-status=o.status.as_str()>
                    <th scope="row" data-label="Optimization">
                        <A href=href attr:class="row-link">{format!("{} · v{}", o.agent_name, o.agent_version)}</A>
                        <span class="muted opt-id"><code>{o.id.clone()}</code></span>
                    </th>
                    <td data-label="Status"><OptimizationStatusBadge status=o.status/></td>
                    <td data-label="Agent"><A href=agent_href>{o.agent_name.clone()}</A></td>
                    <td data-label="Mode">{o.mode.as_str()}</td>
                    <td data-label="Phase">{phase_label(o.progress.phase)}</td>
                    <td data-label="Progress" class="opt-progress-cell">{progress}</td>
                    <td data-label="Variants" class="num">{o.variant_count}</td>
                    <td data-label="Created"><RelativeTime at=o.created_at.clone()/></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p class="result-count muted" role="status">
            {count}
            {(live > 0).then(|| format!(" · {live} live, updating"))}
        </p>
        <table class="list-table optimizations-table">
            <caption class="visually-hidden">"Optimizations, newest first"</caption>
            <thead>
                <tr>
                    <th scope="col">"Optimization"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Agent"</th>
                    <th scope="col">"Mode"</th>
                    <th scope="col">"Phase"</th>
                    <th scope="col">"Progress or outcome"</th>
                    <th scope="col" class="num">"Variants"</th>
                    <th scope="col">"Created"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        <nav class="pager" aria-label="Pages">
            {first.map(|q| view! { <A href=format!("/optimizations{q}")>"← First page"</A> })}
            {next.map(|q| view! { <A href=format!("/optimizations{q}")>"Next page →"</A> })}
        </nav>
    }
}
