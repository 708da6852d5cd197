//! `/benchmarks?status=running&cursor=…`: the account's benchmarks with their status and
//! progress (refreshed while any runs), a status filter and pages in the URL, and bulk
//! actions on the ones ticked: delete (after a confirmation) or cancel, each benchmark
//! succeeding or failing on its own.

use std::collections::BTreeSet;
use std::sync::Arc;

use converra_api::benchmarks::{
    Benchmark, BenchmarkBulk, BenchmarkBulkResult, BenchmarkFilter, BenchmarkStatus, BulkAction,
};
use converra_api::List;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::params::ParamsMap;
use leptos_router::NavigateOptions;

use crate::api::benchmarks::{bulk_benchmarks, list_benchmarks};
use crate::api::ClientError;
use crate::components::benchmark_winner::winner_name;
use crate::components::boundary_errors::BoundaryErrors;
use crate::components::confirm::ConfirmDialog;
use crate::components::empty_state::EmptyState;
use crate::components::error_panel::ErrorPanel;
use crate::components::loading::Loading;
use crate::components::page_title::use_page_title;
use crate::components::poll::Poll;
use crate::components::status_badge::BenchmarkStatusBadge;
use crate::components::timestamp::RelativeTime;
use crate::format::thousands;
use crate::query::{build_query, encode_component};
use crate::signed_in::client_of;
use crate::signed_in::use_signed_in;

/// Benchmarks per page.
const PAGE_SIZE: u32 = 25;

/// The ids ticked for a bulk action.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkSelection {
    selected: BTreeSet<String>,
}

impl BulkSelection {
    /// Whether `id` is ticked.
    pub fn is_selected(&self, id: &str) -> bool {
        self.selected.contains(id)
    }

    /// Ticks or unticks one id.
    pub fn set(&mut self, id: &str, on: bool) {
        if on {
            self.selected.insert(id.to_owned());
        } else {
            self.selected.remove(id);
        }
    }

    /// Whether every id of `visible` is ticked (and there is at least one).
    pub fn all_selected(&self, visible: &[String]) -> bool {
        !visible.is_empty() && visible.iter().all(|id| self.selected.contains(id))
    }

    /// Whether some but not all of `visible` are ticked: the "select all" box's
    /// indeterminate state.
    pub fn partly_selected(&self, visible: &[String]) -> bool {
        let ticked = visible
            .iter()
            .filter(|id| self.selected.contains(*id))
            .count();
        ticked > 0 && ticked < visible.len()
    }

    /// "Select all": ticks every visible id, or unticks them all when all were ticked.
    pub fn toggle_all(&mut self, visible: &[String]) {
        if self.all_selected(visible) {
            for id in visible {
                self.selected.remove(id);
            }
        } else {
            self.selected.extend(visible.iter().cloned());
        }
    }

    /// Forgets ids that are no longer listed (deleted, or on another page), so an action
    /// never touches what the user cannot see.
    pub fn retain_visible(&mut self, visible: &[String]) {
        self.selected.retain(|id| visible.contains(id));
    }

    /// Unticks the ids an action dealt with.
    pub fn remove_all(&mut self, ids: &[String]) {
        for id in ids {
            self.selected.remove(id);
        }
    }

    /// The ticked ids, sorted.
    pub fn ids(&self) -> Vec<String> {
        self.selected.iter().cloned().collect()
    }

    /// How many are ticked.
    pub fn len(&self) -> usize {
        self.selected.len()
    }

    /// Whether nothing is ticked.
    pub fn is_empty(&self) -> bool {
        self.selected.is_empty()
    }
}

/// The list's view as the URL keeps it: `?status=…&cursor=…`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BenchmarkListQuery {
    /// Only benchmarks in this status; `None` for all.
    pub status: Option<BenchmarkStatus>,
    /// The page's keyset cursor; none for the first page.
    pub cursor: Option<String>,
}

impl BenchmarkListQuery {
    /// The view the router's query map describes; an unknown status is ignored.
    pub fn from_params(params: &ParamsMap) -> Self {
        BenchmarkListQuery {
            status: params.get("status").and_then(|s| s.parse().ok()),
            cursor: params.get("cursor").filter(|c| !c.is_empty()),
        }
    }

    /// `?status=…&cursor=…`, leaving out what is unset.
    pub fn to_url_query(&self) -> String {
        let mut pairs = Vec::new();
        if let Some(status) = self.status {
            pairs.push(("status", status.as_str().to_owned()));
        }
        if let Some(cursor) = &self.cursor {
            pairs.push(("cursor", cursor.clone()));
        }
        build_query(pairs)
    }

    /// What `GET /benchmarks` is asked for.
    pub fn filter(&self) -> BenchmarkFilter {
        BenchmarkFilter {
            agent_id: None,
            status: self.status,
        }
    }
}

/// What a finished bulk action says: "Deleted 2 benchmarks." and, per failed id, why.
pub fn bulk_outcome_text(result: &BenchmarkBulkResult) -> String {
    let done = result.succeeded.len();
    let verb = match result.action {
        BulkAction::Delete => "Deleted",
        BulkAction::Cancel => "Cancelled",
    };
    let noun = if done == 1 { "benchmark" } else { "benchmarks" };
    match result.failed.len() {
        0 => format!("{verb} {done} {noun}."),
        failed => format!("{verb} {done} {noun}; {failed} could not be: see below."),
    }
}

/// The page at `/benchmarks`.
#[component]
pub fn BenchmarksPage() -> impl IntoView {
    use_page_title(|| "Benchmarks".to_owned());
    let signed_in = use_signed_in();
    let query_map = use_query_map();
    let navigate = use_navigate();
    let query = Memo::new(move |_| query_map.with(BenchmarkListQuery::from_params));
    let selection = RwSignal::new(BulkSelection::default());
    let confirming = RwSignal::new(false);
    let outcome = RwSignal::new(None::<BenchmarkBulkResult>);

    let bulk = Action::new_local(move |request: &BenchmarkBulk| {
        let request = request.clone();
        let client = client_of(signed_in.get_untracked());
        async move { bulk_benchmarks(&client?, &request).await }
    });
    let acted = bulk.version();
    // Refetches the page while a benchmark on it is queued or running.
    let poll = Poll::new();
    let benchmarks = LocalResource::new(move || {
        let query = query.get();
        acted.track();
        poll.track();
        let client = client_of(signed_in.get());
        async move {
            list_benchmarks(
                &client?,
                &query.filter(),
                PAGE_SIZE,
                query.cursor.as_deref(),
            )
            .await
        }
    });
    // What is ticked but no longer listed (deleted, another page) cannot be acted on.
    Effect::new(move |_| {
        if let Some(Ok(page)) = benchmarks.get() {
            let visible: Vec<String> = page.data.iter().map(|b| b.id.clone()).collect();
            if selection.with_untracked(|s| s.ids().iter().any(|id| !visible.contains(id))) {
                selection.update(|s| s.retain_visible(&visible));
            }
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(result)) = bulk.value().get() {
            selection.update(|s| s.remove_all(&result.succeeded));
            confirming.set(false);
            outcome.set(Some(result));
        }
    });
    // While anything runs, ask again in a moment; each answer schedules the next.
    poll.while_live(
        move || {
            benchmarks.get().is_some_and(|page| {
                page.is_ok_and(|page| page.data.iter().any(|b| !b.status.is_finished()))
            })
        },
        u32::MAX,
    );

    let go = move |next: BenchmarkListQuery| {
        navigate(
            &format!("/benchmarks{}", next.to_url_query()),
            NavigateOptions::default(),
        );
    };
    let set_status = {
        let go = go.clone();
        move |ev: leptos::ev::Event| {
            selection.set(BulkSelection::default());
            go(BenchmarkListQuery {
                status: event_target_value(&ev).parse().ok(),
                cursor: None,
            });
        }
    };
    let run_bulk = move |action: BulkAction, ids: Vec<String>| {
        outcome.set(None);
        bulk.dispatch_local(BenchmarkBulk {
            action,
            job_ids: ids,
        });
    };
    let busy = bulk.pending();
    let selected_count = move || selection.with(BulkSelection::len);
    let delete_message = Signal::derive(move || {
        let n = selected_count();
        format!(
            "Delete {n} {}? Running ones are stopped first. Their results are gone for good.",
            if n == 1 { "benchmark" } else { "benchmarks" }
        )
    });
    let bulk_error = move || {
        bulk.value()
            .get()
            .and_then(Result::err)
            .map(|error| view! { <ErrorPanel error/> })
    };
    let outcome_view = move || {
        outcome.get().map(|result| {
            let text = bulk_outcome_text(&result);
            view! {
                <div class="notice bulk-outcome" role="status" data-testid="bulk-outcome">
                    <p>{text}</p>
                    {(!result.failed.is_empty()).then(|| view! {
                        <ul class="bulk-failures">
                            {result.failed.into_iter().map(|f| view! {
                                <li><code>{f.id}</code>": "{f.error}</li>
                            }).collect_view()}
                        </ul>
                    })}
                </div>
            }
        })
    };

    let list = move || {
        Suspend::new(async move {
            let page = benchmarks.await?;
            Ok::<_, ClientError>(view! {
                <BenchmarkTable page selection query=query.get_untracked() busy
                    on_cancel=Callback::new(move |id: String| run_bulk(BulkAction::Cancel, vec![id]))/>
            })
        })
    };

    view! {
        <div class="benchmarks-page">
            <header class="page-head">
                <h1>"Benchmarks"</h1>
                <a class="button-link" href="/benchmarks/new">"New benchmark"</a>
            </header>
            <div class="benchmark-toolbar">
                <div class="field">
                    <label for="benchmark-status">"Status"</label>
                    <select id="benchmark-status" on:change=set_status>
                        <option value="" selected=move || query.get().status.is_none()>"Any"</option>
                        {BenchmarkStatus::ALL.into_iter().map(|status| view! {
                            <option value=status.as_str() selected=move || query.get().status == Some(status)>{status.as_str()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="bulk-actions" role="group" aria-label="With the selected benchmarks">
                    <span class="muted" data-testid="selected-count">{move || format!("{} selected", selected_count())}</span>
                    <button type="button" class="secondary" data-testid="bulk-cancel"
                        disabled=move || selected_count() == 0 || busy.get()
                        on:click=move |_| run_bulk(BulkAction::Cancel, selection.get_untracked().ids())>"Cancel selected"</button>
                    <button type="button" class="danger" data-testid="bulk-delete"
                        disabled=move || selected_count() == 0 || busy.get()
                        on:click=move |_| { outcome.set(None); confirming.set(true); }>"Delete selected"</button>
                </div>
            </div>
            {outcome_view}
            {bulk_error}
            <Transition fallback=|| view! { <Loading what="benchmarks" rows=6/> }>
                <ErrorBoundary fallback=move |errors| view! {
                    <BoundaryErrors errors/>
                    <button type="button" class="retry" on:click=move |_| benchmarks.refetch()>"Retry"</button>
                }>
                    {list}
                </ErrorBoundary>
            </Transition>
            <ConfirmDialog open=confirming title="Delete benchmarks" message=delete_message
                confirm_label="Delete" danger=true busy=busy
                on_confirm=Callback::new(move |()| run_bulk(BulkAction::Delete, selection.get_untracked().ids()))
                on_cancel=Callback::new(move |()| confirming.set(false))/>
        </div>
    }
}

/// One page of benchmarks with a tick box each and a "select all" box.
#[component]
fn BenchmarkTable(
    page: List<Benchmark>,
    selection: RwSignal<BulkSelection>,
    query: BenchmarkListQuery,
    #[prop(into)] busy: Signal<bool>,
    on_cancel: Callback<String>,
) -> impl IntoView {
    if page.data.is_empty() {
        return if query.status.is_some() || query.cursor.is_some() {
            view! {
                <EmptyState title="No benchmarks match" hint="Try another status, or go back to the first page.">
                    <a href="/benchmarks">"All benchmarks"</a>
                </EmptyState>
            }
            .into_any()
        } else {
            view! {
                <EmptyState title="No benchmarks yet"
                    hint="A benchmark runs the same personas and scenarios against several agents and compares them.">
                    <a href="/benchmarks/new">"Create a benchmark"</a>
                </EmptyState>
            }
            .into_any()
        };
    }
    // Shared by the header's closures, which may run once more while the table is replaced.
    let visible: Arc<Vec<String>> = Arc::new(page.data.iter().map(|b| b.id.clone()).collect());
    let next = page
        .pagination
        .next_cursor
        .filter(|_| page.pagination.has_more)
        .map(|cursor| {
            BenchmarkListQuery {
                cursor: Some(cursor),
                ..query.clone()
            }
            .to_url_query()
        });
    let first = query.cursor.is_some().then(|| {
        BenchmarkListQuery {
            cursor: None,
            ..query.clone()
        }
        .to_url_query()
    });
    let all_checked = {
        let visible = visible.clone();
        move || selection.with(|s| s.all_selected(&visible))
    };
    let partly = {
        let visible = visible.clone();
        move || selection.with(|s| s.partly_selected(&visible))
    };

    let rows = page
        .data
        .into_iter()
        .map(|b| {
            let id: Arc<str> = Arc::from(b.id.as_str());
            let href = format!("/benchmarks/{}", encode_component(&b.id));
            let checked = {
                let id = id.clone();
                move || selection.with(|s| s.is_selected(&id))
            };
            let row_checked = checked.clone();
            let toggle = {
                let id = id.clone();
                move |ev: leptos::ev::Event| {
                    let on = event_target_checked(&ev);
                    selection.update(|s| s.set(&id, on));
                }
            };
            let winner = winner_name(&b);
            let progress = format!(
                "{} of {}",
                thousands(u64::from(b.progress.completed)),
                thousands(u64::from(b.progress.total))
            );
            let fraction = if b.progress.total == 0 {
                0.0
            } else {
                f64::from(b.progress.completed) / f64::from(b.progress.total)
            };
            let unfinished = !b.status.is_finished();
            let name = b.name.clone();
            view! {
                <tr class:selected=row_checked>
                    <td class="select-cell">
                        <input type="checkbox" prop:checked=checked on:change=toggle
                            aria-label=format!("Select {name}")/>
                    </td>
                    <th scope="row" data-label="Name"><a href=href>{b.name}</a></th>
                    <td data-label="Status"><BenchmarkStatusBadge status=b.status/></td>
                    <td data-label="Progress" class="progress-cell">
                        <span class="mini-track" aria-hidden="true">
                            <span class="mini-fill" style:width=format!("{:.1}%", fraction * 100.0)></span>
                        </span>
                        <span class="num">{progress}</span>
                    </td>
                    <td data-label="Agents" class="num">{b.agent_ids.len()}</td>
                    <td data-label="Winner">{winner.unwrap_or_else(|| "—".to_owned())}</td>
                    <td data-label="Created" class="nowrap"><RelativeTime at=b.created_at/></td>
                    <td class="row-actions">
                        {unfinished.then(|| view! {
                            <button type="button" class="secondary small" disabled=move || busy.get()
                                on:click=move |_| on_cancel.run(id.to_string())>"Cancel"</button>
                        })}
                    </td>
                </tr>
            }
        })
        .collect_view();

    view! {
        <div class="table-scroll">
            <table class="list-table benchmarks-table" data-testid="benchmarks-table">
                <caption class="visually-hidden">"Benchmarks, newest first"</caption>
                <thead>
                    <tr>
                        <th scope="col" class="select-cell">
                            <input type="checkbox" aria-label="Select all benchmarks on this page"
                                data-testid="select-all"
                                prop:checked=all_checked prop:indeterminate=partly
                                on:change=move |_| selection.update(|s| s.toggle_all(&visible))/>
                        </th>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Progress"</th>
                        <th scope="col" class="num">"Agents"</th>
                        <th scope="col">"Winner"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        {(next.is_some() || first.is_some()).then(|| view! {
            <nav class="pager" aria-label="Pages">
                {first.map(|q| view! { <a href=format!("/benchmarks{q}")>"← First page"</a> })}
                {next.map(|q| view! { <a href=format!("/benchmarks{q}")>"Next page →"</a> })}
            </nav>
        })}
    }
    .into_any()
}
