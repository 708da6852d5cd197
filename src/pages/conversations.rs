//! `/conversations`: every conversation of the account, filtered, sorted and paged by the
//! server. The whole view (filters, sort, page cursor) lives in the URL, so back, forward,
//! reload and a shared link restore it; views can be saved by name and exported.

use std::time::Duration;

use converra_api::agents::Agent;
use converra_api::conversations::{
    Conversation, ConversationFilter, ConversationSort, ConversationSource, ConversationStatus,
    InsightsStatus,
};
use converra_api::{FieldError, List};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;

use crate::api::agents::list_all_agents;
use crate::api::conversations::{list_all_conversations, list_conversations};
use crate::api::ClientError;
use crate::components::boundary_errors::BoundaryErrors;
use crate::components::conversation_insights::format_score;
use crate::components::empty_state::EmptyState;
use crate::components::error_panel::ErrorPanel;
use crate::components::export::{
    dated_filename, download_text, to_csv, ExportControls, ExportFormat, ExportRequest, ExportScope,
};
use crate::components::form_fields::{invalid, FieldErrorLine};
use crate::components::loading::Loading;
use crate::components::page_title::use_page_title;
use crate::components::saved_views::SavedViews;
use crate::components::search_snippet::SnippetText;
use crate::components::timestamp::Timestamp;
use crate::format::thousands;
use crate::query::{day_part, sort_url_name, typed_quality, ConversationQuery};
use crate::signed_in::{not_signed_in, use_signed_in};

/// Rows per page.
pub const PAGE_SIZE: u32 = 50;
/// The most rows "export all pages" brings.
pub const EXPORT_MAX_ROWS: usize = 10_000;
/// Where this page's saved views are kept.
pub const SAVED_VIEWS_KEY: &str = "converra.savedViews.conversations";
/// How long the search waits for typing to pause.
const SEARCH_DEBOUNCE: Duration = Duration::from_millis(350);
/// How long typing in a quality box pauses before the list follows.
const QUALITY_PAUSE: Duration = Duration::from_millis(500);

/// The columns of an export.
pub const EXPORT_HEADERS: [&str; 15] = [
    "id",
    "createdAt",
    "agentId",
    "agentName",
    "title",
    "status",
    "source",
    "messageCount",
    "qualityScore",
    "totalTokens",
    "hasFailedSteps",
    "insightsStatus",
    "sessionId",
    "userId",
    "llmModel",
];

/// One conversation as an export row, in [`EXPORT_HEADERS`] order.
pub fn export_row(c: &Conversation) -> Vec<String> {
    vec![
        c.id.clone(),
        c.created_at.clone(),
        c.agent_id.clone(),
        c.agent_name.clone(),
        c.title.clone().unwrap_or_default(),
        c.status.as_str().to_owned(),
        c.source.as_str().to_owned(),
        c.message_count.to_string(),
        c.quality_score.map(|q| q.to_string()).unwrap_or_default(),
        c.total_tokens.to_string(),
        c.has_failed_steps.to_string(),
        c.insights_status.as_str().to_owned(),
        c.session_id.clone().unwrap_or_default(),
        c.user_id.clone().unwrap_or_default(),
        c.llm_model.clone().unwrap_or_default(),
    ]
}

/// How a conversation arrived, as the list names it.
fn source_label(source: ConversationSource) -> &'static str {
    match source {
        ConversationSource::Sdk => "SDK",
        ConversationSource::Api => "API",
        ConversationSource::Otel => "OpenTelemetry",
    }
}

fn status_label(status: ConversationStatus) -> &'static str {
    match status {
        ConversationStatus::InProgress => "In progress",
        ConversationStatus::Active => "Active",
        ConversationStatus::Completed => "Completed",
        ConversationStatus::Abandoned => "Abandoned",
    }
}

fn sort_label(sort: ConversationSort) -> &'static str {
    match sort {
        ConversationSort::NewestFirst => "Newest first",
        ConversationSort::OldestFirst => "Oldest first",
        ConversationSort::BestFirst => "Best quality first",
        ConversationSort::WorstFirst => "Worst quality first",
    }
}

#[component]
pub fn ConversationsPage() -> impl IntoView {
    use_page_title(|| "Conversations".to_owned());
    let signed_in = use_signed_in();
    let location = use_location();
    let navigate = use_navigate();
    let query = Memo::new(move |_| ConversationQuery::from_search(&location.search.get()));

    // Every change of the view is a navigation: the URL is the state.
    let go = Callback::new(move |(next, scroll): (ConversationQuery, bool)| {
        navigate(
            &format!("/conversations{}", next.to_url_query()),
            NavigateOptions {
                scroll,
                ..Default::default()
            },
        );
    });
    let change = Callback::new(move |next: ConversationQuery| go.run((next.first_page(), false)));

    let agents = LocalResource::new(move || {
        let client = signed_in.get().map(|s| s.client);
        async move {
            match client {
                Some(client) => list_all_agents(&client, &Default::default()).await,
                None => Err(not_signed_in()),
            }
        }
    });
    let page = LocalResource::new(move || {
        let query = query.get();
        let client = signed_in.get().map(|s| s.client);
        async move {
            match client {
                Some(client) => list_conversations(&client, &query, PAGE_SIZE).await,
                None => Err(not_signed_in()),
            }
        }
    });
    let total = Signal::derive(move || {
        page.get()
            .and_then(Result::ok)
            .map(|list| list.pagination.total)
    });

    // Exports.
    let export_progress = RwSignal::new(None::<String>);
    let export_error = RwSignal::new(None::<ClientError>);
    let on_export = Callback::new(move |request: ExportRequest| {
        export_error.set(None);
        let stem = match request.scope {
            ExportScope::Page => "conversations-page",
            ExportScope::All => "conversations",
        };
        let finish = move |rows: Vec<Conversation>| {
            let filename = dated_filename(stem, request.format.extension());
            let text = match request.format {
                ExportFormat::Csv => to_csv(
                    &EXPORT_HEADERS,
                    &rows.iter().map(export_row).collect::<Vec<_>>(),
                ),
                ExportFormat::Json => {
                    serde_json::to_string_pretty(&rows).unwrap_or_else(|_| "[]".to_owned())
                }
            };
            if let Err(message) = download_text(&filename, request.format.mime(), &text) {
                export_error.set(Some(ClientError {
                    status: 0,
                    code: converra_api::ErrorCode::InternalError,
                    message: format!("The download could not start: {message}"),
                    retry_after: None,
                    fields: Vec::new(),
                }));
            }
        };
        match request.scope {
            ExportScope::Page => {
                let rows = page
                    .get_untracked()
                    .and_then(Result::ok)
                    .map(|list| list.data)
                    .unwrap_or_default();
                finish(rows);
            }
            ExportScope::All => {
                let Some(client) = signed_in.get_untracked().map(|s| s.client) else {
                    return;
                };
                let view = query.get_untracked();
                export_progress.set(Some("Exporting…".to_owned()));
                spawn_local(async move {
                    let result =
                        list_all_conversations(&client, &view, EXPORT_MAX_ROWS, |done, total| {
                            let total = total.min(EXPORT_MAX_ROWS as u64);
                            export_progress.try_set(Some(format!(
                                "Fetched {} of {} rows…",
                                thousands(done as u64),
                                thousands(total)
                            )));
                        })
                        .await;
                    export_progress.try_set(None);
                    match result {
                        Ok(rows) => finish(rows),
                        Err(err) => {
                            export_error.try_set(Some(err));
                        }
                    }
                });
            }
        }
    });

    let current_view = Signal::derive(move || query.get().first_page().to_url_query());
    let apply_view = Callback::new(move |saved: String| {
        go.run((ConversationQuery::from_search(&saved).first_page(), false));
    });

    view! {
        <div class="conversations-page">
            <div class="page-head">
                <h1>"Conversations"</h1>
                <p class="muted">
                    {move || total.get().map(|t| format!("{} conversation{} in this view", thousands(t), if t == 1 { "" } else { "s" }))}
                </p>
            </div>
            <ConversationFilters query=query agents=agents on_change=change/>
            <div class="list-tools">
                <SavedViews storage_key=SAVED_VIEWS_KEY current=current_view on_apply=apply_view/>
                <div class="export-area">
                    <ExportControls on_export total progress=export_progress
                        page_size=u64::from(converra_api::Paging::MAX_LIMIT) max_rows=EXPORT_MAX_ROWS as u64/>
                    {move || export_error.get().map(|error| view! { <ErrorPanel error/> })}
                </div>
            </div>
            <Transition fallback=|| view! { <Loading what="conversations" rows=10/> }>
                <ErrorBoundary fallback=|errors| view! { <BoundaryErrors errors/> }>
                    // Fallible: a Transition may poll its child once more after the page is gone.
                    {move || page.try_get().flatten().map(|result| result.map(|list| view! {
                        <ConversationTable list query go/>
                    }))}
                </ErrorBoundary>
            </Transition>
        </div>
    }
}

/// The filter bar: every filter of `GET /conversations` and the sort.
#[component]
fn ConversationFilters(
    query: Memo<ConversationQuery>,
    agents: LocalResource<Result<Vec<Agent>, ClientError>>,
    on_change: Callback<ConversationQuery>,
) -> impl IntoView {
    let update = move |edit: &dyn Fn(&mut ConversationQuery)| {
        let mut next = query.get_untracked();
        edit(&mut next);
        if next != query.get_untracked() {
            on_change.run(next);
        }
    };
    let non_empty = |ev: &leptos::ev::Event| {
        let value = event_target_value(ev);
        (!value.trim().is_empty()).then_some(value)
    };

    // The search box keeps what is typed; the URL follows once typing pauses.
    let search_text = RwSignal::new(query.get_untracked().q.unwrap_or_default());
    Effect::new(move |_| {
        let from_url = query.get().q.unwrap_or_default();
        if from_url != search_text.get_untracked() {
            search_text.set(from_url);
        }
    });
    let debounce = StoredValue::new(None::<TimeoutHandle>);
    let on_search = move |ev: leptos::ev::Event| {
        let typed = event_target_value(&ev);
        search_text.set(typed.clone());
        if let Some(handle) = debounce.get_value() {
            handle.clear();
        }
        let handle = set_timeout_with_handle(
            move || {
                // Too short to search by (the server would refuse it): list unfiltered until
                // a third letter comes.
                let q = ConversationFilter::is_searchable(&typed).then(|| typed.clone());
                update(&|next| next.q = q.clone());
            },
            SEARCH_DEBOUNCE,
        )
        .ok();
        debounce.set_value(handle);
    };
    on_cleanup(move || {
        if let Some(handle) = debounce.try_get_value().flatten() {
            handle.clear();
        }
    });

    let agent_options = move || {
        let selected = query.get().agent_id;
        let mut list: Vec<(String, String)> = agents
            .get()
            .and_then(Result::ok)
            .unwrap_or_default()
            .into_iter()
            .map(|a| (a.id, a.name))
            .collect();
        // An agent the list does not know (deleted, or not loaded yet) stays selectable.
        if let Some(id) = &selected {
            if !list.iter().any(|(a, _)| a == id) {
                list.push((id.clone(), id.clone()));
            }
        }
        list.into_iter()
            .map(|(id, name)| {
                let is_selected = selected.as_deref() == Some(id.as_str());
                view! { <option value=id selected=is_selected>{name}</option> }
            })
            .collect_view()
    };
    let tri_state = |value: Option<bool>| match value {
        None => "",
        Some(true) => "true",
        Some(false) => "false",
    };
    let parse_tri = |ev: &leptos::ev::Event| match event_target_value(ev).as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    };

    // The quality boxes keep what is typed; the URL follows once typing pauses or on Enter,
    // and only with a number from 0 to 100 (anything else is explained beside the box).
    let shown = |q: Option<f64>| q.map(|v| v.to_string()).unwrap_or_default();
    let min_text = RwSignal::new(shown(query.get_untracked().min_quality));
    let max_text = RwSignal::new(shown(query.get_untracked().max_quality));
    Effect::new(move |_| {
        let current = query.get();
        for (text, from_url) in [
            (min_text, current.min_quality),
            (max_text, current.max_quality),
        ] {
            if typed_quality(&text.get_untracked()).ok().flatten() != from_url {
                text.set(shown(from_url));
            }
        }
    });
    let apply_quality = move || {
        let min = typed_quality(&min_text.get_untracked());
        let max = typed_quality(&max_text.get_untracked());
        update(&|n| {
            if let Ok(min) = min {
                n.min_quality = min;
            }
            if let Ok(max) = max {
                n.max_quality = max;
            }
        });
    };
    let quality_pause = StoredValue::new(None::<TimeoutHandle>);
    let on_quality_input = move |text: RwSignal<String>, ev: leptos::ev::Event| {
        text.set(event_target_value(&ev));
        if let Some(handle) = quality_pause.get_value() {
            handle.clear();
        }
        quality_pause.set_value(set_timeout_with_handle(apply_quality, QUALITY_PAUSE).ok());
    };
    on_cleanup(move || {
        if let Some(handle) = quality_pause.try_get_value().flatten() {
            handle.clear();
        }
    });
    // What is typed and cannot be sent, then why the view cannot match anything.
    let filter_errors = Signal::derive(move || {
        let mut errors: Vec<FieldError> = [
            (ConversationFilter::MIN_QUALITY, min_text),
            (ConversationFilter::MAX_QUALITY, max_text),
        ]
        .into_iter()
        .filter_map(|(field, text)| {
            let message = typed_quality(&text.get()).err()?;
            Some(FieldError {
                field: field.to_owned(),
                message: message.to_owned(),
            })
        })
        .collect();
        errors.extend(query.get().impossible());
        errors
    });

    view! {
        <form class="filters card" role="search" aria-label="Filter conversations" on:submit=move |ev| { ev.prevent_default(); apply_quality(); }>
            <div class="field field-wide">
                <label for="f-q">"Search"</label>
                <input id="f-q" type="search" placeholder="Words in the messages"
                    aria-describedby="f-q-hint"
                    prop:value=move || search_text.get() on:input=on_search/>
                <p id="f-q-hint" class="hint">
                    {move || {
                        let typed = search_text.get();
                        (!typed.trim().is_empty() && !ConversationFilter::is_searchable(&typed))
                            .then_some("Type at least 3 letters to search.")
                    }}
                </p>
            </div>
            <div class="field">
                <label for="f-agent">"Agent"</label>
                <select id="f-agent" on:change=move |ev| { let v = non_empty(&ev); update(&|n| n.agent_id = v.clone()); }>
                    <option value="" selected=move || query.get().agent_id.is_none()>"All agents"</option>
                    {agent_options}
                </select>
                {move || agents.get().and_then(Result::err).map(|error| view! { <ErrorPanel error/> })}
            </div>
            <div class="field">
                <label for="f-status">"Status"</label>
                <select id="f-status" on:change=move |ev| { let v = event_target_value(&ev).parse().ok(); update(&|n| n.status = v); }>
                    <option value="" selected=move || query.get().status.is_none()>"Any status"</option>
                    {ConversationStatus::ALL.into_iter().map(|status| view! {
                        <option value=status.as_str() selected=move || query.get().status == Some(status)>{status_label(status)}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="f-source">"Source"</label>
                <select id="f-source" on:change=move |ev| { let v = event_target_value(&ev).parse().ok(); update(&|n| n.source = v); }>
                    <option value="" selected=move || query.get().source.is_none()>"Any source"</option>
                    {ConversationSource::ALL.into_iter().map(|source| view! {
                        <option value=source.as_str() selected=move || query.get().source == Some(source)>{source_label(source)}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="f-session">"Session"</label>
                <input id="f-session" type="text" placeholder="Session id" spellcheck="false"
                    prop:value=move || query.get().session_id.unwrap_or_default()
                    on:change=move |ev| { let v = non_empty(&ev).map(|v| v.trim().to_owned()); update(&|n| n.session_id = v.clone()); }/>
            </div>
            <div class="field">
                <label for="f-from">"From (UTC)"</label>
                <input id="f-from" type="date"
                    prop:value=move || query.get().from.map(|f| day_part(&f).to_owned()).unwrap_or_default()
                    on:change=move |ev| { let v = non_empty(&ev); update(&|n| n.from = v.clone()); }/>
            </div>
            <div class="field">
                <label for="f-to">"To (UTC)"</label>
                <input id="f-to" type="date" aria-invalid=invalid(filter_errors, ConversationFilter::TO)
                    aria-describedby="f-to-error"
                    prop:value=move || query.get().to.map(|t| day_part(&t).to_owned()).unwrap_or_default()
                    on:change=move |ev| { let v = non_empty(&ev); update(&|n| n.to = v.clone()); }/>
                <FieldErrorLine errors=filter_errors field=ConversationFilter::TO id="f-to"/>
            </div>
            <div class="field field-narrow">
                <label for="f-min">"Min quality"</label>
                <input id="f-min" type="number" min="0" max="100" step="1" inputmode="decimal"
                    aria-invalid=invalid(filter_errors, ConversationFilter::MIN_QUALITY) aria-describedby="f-min-error"
                    prop:value=move || min_text.get()
                    on:input=move |ev| on_quality_input(min_text, ev)
                    on:change=move |_| apply_quality()/>
                <FieldErrorLine errors=filter_errors field=ConversationFilter::MIN_QUALITY id="f-min"/>
            </div>
            <div class="field field-narrow">
                <label for="f-max">"Max quality"</label>
                <input id="f-max" type="number" min="0" max="100" step="1" inputmode="decimal"
                    aria-invalid=invalid(filter_errors, ConversationFilter::MAX_QUALITY) aria-describedby="f-max-error"
                    prop:value=move || max_text.get()
                    on:input=move |ev| on_quality_input(max_text, ev)
                    on:change=move |_| apply_quality()/>
                <FieldErrorLine errors=filter_errors field=ConversationFilter::MAX_QUALITY id="f-max"/>
            </div>
            <div class="field">
                <label for="f-issues">"Issues"</label>
                <select id="f-issues" on:change=move |ev| { let v = parse_tri(&ev); update(&|n| n.has_issues = v); }>
                    {[(None, "Any"), (Some(true), "With issues"), (Some(false), "Without issues")].into_iter().map(|(value, label)| view! {
                        <option value=tri_state(value) selected=move || query.get().has_issues == value>{label}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="f-failed">"Failed steps"</label>
                <select id="f-failed" on:change=move |ev| { let v = parse_tri(&ev); update(&|n| n.has_failed_steps = v); }>
                    {[(None, "Any"), (Some(true), "With failed steps"), (Some(false), "Without failed steps")].into_iter().map(|(value, label)| view! {
                        <option value=tri_state(value) selected=move || query.get().has_failed_steps == value>{label}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="f-sort">"Sort"</label>
                <select id="f-sort" on:change=move |ev| {
                    let v = crate::query::parse_sort(&event_target_value(&ev)).unwrap_or_default();
                    update(&|n| n.sort = v);
                }>
                    {[ConversationSort::NewestFirst, ConversationSort::OldestFirst, ConversationSort::BestFirst, ConversationSort::WorstFirst]
                        .into_iter().map(|sort| view! {
                            <option value=sort_url_name(sort) selected=move || query.get().sort == sort>{sort_label(sort)}</option>
                        }).collect_view()}
                </select>
            </div>
            <div class="field field-actions">
                <Show when=move || query.get().is_filtered()>
                    <button type="button" class="secondary" on:click=move |_| {
                        let sort = query.get_untracked().sort;
                        on_change.run(ConversationQuery { sort, ..Default::default() });
                    }>"Clear filters"</button>
                </Show>
            </div>
        </form>
    }
}

fn insights_badge(status: InsightsStatus) -> impl IntoView {
    view! { <span class=format!("status-badge insights-{}", status.as_str())>{status.as_str()}</span> }
}

/// One page of conversations with its pager.
#[component]
fn ConversationTable(
    list: List<Conversation>,
    query: Memo<ConversationQuery>,
    go: Callback<(ConversationQuery, bool)>,
) -> impl IntoView {
    let List { data, pagination } = list;
    if data.is_empty() {
        let filtered = query.get_untracked().is_filtered() || query.get_untracked().is_later_page();
        let impossible = query.get_untracked().impossible();
        return if !impossible.is_empty() {
            let reasons = impossible
                .into_iter()
                .map(|r| r.message)
                .collect::<Vec<_>>()
                .join(" ");
            view! {
                <EmptyState title="No conversation can match these filters" hint=reasons>
                    <button type="button" class="secondary" on:click=move |_| go.run((ConversationQuery::default(), false))>"Show all conversations"</button>
                </EmptyState>
            }
            .into_any()
        } else if filtered {
            view! {
                <EmptyState title="No conversations match this view" hint="Change or clear the filters, or go back to the first page.">
                    <button type="button" class="secondary" on:click=move |_| go.run((ConversationQuery::default(), false))>"Show all conversations"</button>
                </EmptyState>
            }
            .into_any()
        } else {
            view! {
                <EmptyState title="No conversations yet" hint="Log one with the SDK or POST /api/v1/conversations; it shows up here."/>
            }
            .into_any()
        };
    }
    let rows = data.len();
    let current = query.get_untracked();
    let next = pagination
        .has_more
        .then(|| current.next_page(pagination.next_cursor.as_deref(), rows));
    let previous = current.previous_page(PAGE_SIZE);
    let later_page = current.is_later_page();
    let body = data
        .into_iter()
        .map(|c| {
            let href = format!("/conversations/{}", c.id);
            let label = c.title.clone().filter(|t| !t.trim().is_empty());
            let untitled = label.is_none();
            view! {
                <tr>
                    <td class="nowrap"><Timestamp value=c.created_at.clone() no_zone=true/></td>
                    <td class="agent-cell"><a href=format!("/agents/{}", c.agent_id) class="agent-link">{c.agent_name.clone()}</a></td>
                    <td class="title-cell">
                        <a href=href class="row-link" class:untitled=untitled>
                            {label.unwrap_or_else(|| format!("Untitled · {}", c.id))}
                        </a>
                        {c.snippet.clone().map(|snippet| view! { <SnippetText snippet/> })}
                    </td>
                    <td><span class=format!("status-badge status-{}", c.status.as_str())>{status_label(c.status)}</span></td>
                    <td><span class=format!("source-badge source-{}", c.source.as_str())>{source_label(c.source)}</span></td>
                    <td class="num">{thousands(u64::from(c.message_count))}</td>
                    <td class="num">{c.quality_score.map(format_score).unwrap_or_else(|| "–".to_owned())}</td>
                    <td class="num">{thousands(c.total_tokens)}</td>
                    <td>{c.has_failed_steps.then(|| view! { <span class="status-badge badge-danger">"Failed"</span> })}</td>
                    <td>{insights_badge(c.insights_status)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-scroll">
            <table class="list-table conversations-table">
                <caption class="visually-hidden">"Conversations, one per row; open one by its title."</caption>
                <thead>
                    <tr>
                        <th scope="col">"Created (UTC)"</th>
                        <th scope="col">"Agent"</th>
                        <th scope="col">"Conversation"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Source"</th>
                        <th scope="col" class="num">"Messages"</th>
                        <th scope="col" class="num">"Quality"</th>
                        <th scope="col" class="num">"Tokens"</th>
                        <th scope="col">"Steps"</th>
                        <th scope="col">"Insights"</th>
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Pages">
            <button type="button" class="secondary" disabled=!later_page
                on:click=move |_| go.run((query.get_untracked().first_page(), true))>"First page"</button>
            <button type="button" class="secondary" disabled=previous.is_none()
                title=(later_page && previous.is_none()).then_some("Opened from a link, this page does not know the one before it; First page goes back to the start.")
                on:click=move |_| if let Some(previous) = previous.clone() { go.run((previous, true)) }>"Previous page"</button>
            <span class="muted">{format!("{} rows on this page", rows)}</span>
            <button type="button" class="secondary" disabled=next.is_none()
                on:click=move |_| if let Some(next) = next.clone() { go.run((next, true)) }>"Next page"</button>
        </nav>
    }
    .into_any()
}
