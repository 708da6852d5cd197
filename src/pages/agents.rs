//! The agents list (`/` and `/agents`): every agent of the account with its status, version,
//! conversations and quality, a search and a status filter kept in the URL, and the form
//! that registers a new agent (with the agent form of `components::agent_form`).

use std::time::Duration;

use converra_api::agents::{Agent, AgentFilter, AgentStatus, CreateAgent};
use converra_api::FieldError;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_location, use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::api::agents::{create_agent, list_all_agents};
use crate::components::agent_form::{server_field_error, AgentFields, AgentForm};
use crate::components::boundary_errors::BoundaryErrors;
use crate::components::empty_state::EmptyState;
use crate::components::error_panel::ErrorPanel;
use crate::components::first_conversation::FirstConversation;
use crate::components::loading::Loading;
use crate::components::page_title::use_page_title;
use crate::components::status_badge::StatusBadge;
use crate::components::timestamp::RelativeTime;
use crate::format;
use crate::query::{build_query, QueryState};
use crate::session;
use crate::signed_in::{client_of, use_signed_in};
use crate::snippets::absolute_base_url;

/// How long typing in the search box pauses before the URL (and the list) follows.
const SEARCH_DEBOUNCE: Duration = Duration::from_millis(300);

/// The list's view as the URL keeps it: `?q=…&status=…`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentListQuery {
    /// The search, trimmed; empty for none.
    pub q: String,
    pub status: Option<AgentStatus>,
}

impl QueryState for AgentListQuery {
    /// The view the URL's values describe; an unknown status is ignored.
    fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        AgentListQuery {
            q: get("q").map(|q| q.trim().to_owned()).unwrap_or_default(),
            status: get("status").and_then(|s| s.parse().ok()),
        }
    }
}

impl AgentListQuery {
    /// `?q=…&status=…`, leaving out what is unset; empty for the unfiltered list.
    pub fn to_url_query(&self) -> String {
        let mut pairs = Vec::new();
        if !self.q.is_empty() {
            pairs.push(("q", self.q.clone()));
        }
        if let Some(status) = self.status {
            pairs.push(("status", status.as_str().to_owned()));
        }
        build_query(pairs)
    }

    /// What `GET /agents` is asked for.
    pub fn filter(&self) -> AgentFilter {
        AgentFilter {
            status: self.status,
            tag: None,
            search: (!self.q.is_empty()).then(|| self.q.clone()),
        }
    }

    pub fn is_filtered(&self) -> bool {
        !self.q.is_empty() || self.status.is_some()
    }
}

/// The form that registers an agent; on success it opens the new agent's page.
#[component]
pub fn NewAgentForm(
    /// Called by "Cancel".
    #[prop(into)]
    on_cancel: Callback<()>,
) -> impl IntoView {
    let signed_in = use_signed_in();
    let navigate = use_navigate();
    let form = RwSignal::new(AgentForm::default());
    let field_errors = RwSignal::new(Vec::<FieldError>::new());
    let create = Action::new_local(move |input: &CreateAgent| {
        let input = input.clone();
        let client = client_of(signed_in.get_untracked());
        async move { create_agent(&client?, &input).await }
    });
    let failure = Signal::derive(move || create.value().get().and_then(Result::err));
    let server_error = Signal::derive(move || failure.get().as_ref().and_then(server_field_error));
    Effect::new(move |_| {
        if let Some(Ok(agent)) = create.value().get() {
            navigate(&format!("/agents/{}", agent.id), NavigateOptions::default());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let errors = form.with(|f| f.validate(None));
        let valid = errors.is_empty();
        field_errors.set(errors);
        create.value().set(None);
        if valid {
            create.dispatch_local(form.with(AgentForm::to_create));
        }
    };
    let pending = create.pending();
    view! {
        <form class="card new-agent" on:submit=submit novalidate aria-labelledby="new-agent-title">
            <h2 id="new-agent-title">"New agent"</h2>
            <AgentFields form field_errors server_error prefix="new-agent"
                model_hint="Leave empty for the account's preferred model."/>
            <div class="form-actions">
                <button type="submit" disabled=move || pending.get()>
                    {move || if pending.get() { "Creating…" } else { "Create agent" }}
                </button>
                <button type="button" class="secondary" on:click=move |_| on_cancel.run(())>"Cancel"</button>
            </div>
            {move || failure.get().map(|error| view! { <ErrorPanel error/> })}
        </form>
    }
}

#[component]
pub fn AgentsPage() -> impl IntoView {
    use_page_title(|| "Agents".to_owned());
    let signed_in = use_signed_in();
    let query_map = use_query_map();
    let list_query = Memo::new(move |_| AgentListQuery::from_params(&query_map.get()));
    let location = use_location();
    let navigate = use_navigate();

    let agents = LocalResource::new(move || {
        let filter = list_query.get().filter();
        let client = client_of(signed_in.get());
        async move { list_all_agents(&client?, &filter).await }
    });

    // Moves the list to another view: a new history entry, except while refining a
    // search, so back goes to the list before the search rather than through each word.
    let go = {
        let navigate = navigate.clone();
        move |next: AgentListQuery| {
            let current = list_query.get_untracked();
            if next == current {
                return;
            }
            let replace =
                !current.q.is_empty() && !next.q.is_empty() && current.status == next.status;
            let path = location.pathname.get_untracked();
            navigate(
                &format!("{path}{}", next.to_url_query()),
                NavigateOptions {
                    replace,
                    scroll: false,
                    ..NavigateOptions::default()
                },
            );
        }
    };

    let search_text = RwSignal::new(list_query.get_untracked().q);
    // Back, forward and links change the URL under the box: show what the list shows.
    Effect::new(move |_| {
        let q = list_query.get().q;
        if search_text.get_untracked().trim() != q {
            search_text.set(q);
        }
    });
    let mut search_later = debounce(SEARCH_DEBOUNCE, {
        let go = go.clone();
        move |text: String| {
            go(AgentListQuery {
                q: text.trim().to_owned(),
                ..list_query.get_untracked()
            })
        }
    });
    let search_now = {
        let go = go.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            go(AgentListQuery {
                q: search_text.get_untracked().trim().to_owned(),
                ..list_query.get_untracked()
            })
        }
    };
    let on_status = {
        let go = go.clone();
        move |ev: leptos::ev::Event| {
            go(AgentListQuery {
                status: event_target_value(&ev).parse().ok(),
                ..list_query.get_untracked()
            })
        }
    };

    let creating = RwSignal::new(false);
    let open_form = Callback::new(move |()| creating.set(true));

    let list = move || {
        Suspend::new(async move {
            agents.await.map(|agents| {
                if agents.is_empty() {
                    return view! { <NoAgents query=list_query.get_untracked() on_create=open_form/> }
                        .into_any();
                }
                view! { <AgentsTable agents/> }.into_any()
            })
        })
    };

    view! {
        <section class="agents-page">
            <div class="page-head">
                <h1>"Agents"</h1>
                <button type="button" aria-expanded=move || creating.get().to_string()
                    on:click=move |_| creating.update(|open| *open = !*open)>"New agent"</button>
            </div>
            <Show when=move || creating.get()>
                <NewAgentForm on_cancel=move |()| creating.set(false)/>
            </Show>
            <form class="agent-filters" role="search" aria-label="Filter agents" on:submit=search_now>
                <div class="field">
                    <label for="agent-search">"Search"</label>
                    <input id="agent-search" type="search" autocomplete="off"
                        placeholder="Name, description or prompt"
                        prop:value=move || search_text.get()
                        on:input=move |ev| {
                            let text = event_target_value(&ev);
                            search_text.set(text.clone());
                            search_later(text);
                        }/>
                </div>
                <div class="field">
                    <label for="agent-status">"Status"</label>
                    <select id="agent-status" on:change=on_status>
                        <option value="" selected=move || list_query.with(|q| q.status.is_none())>"Any status"</option>
                        {AgentStatus::ALL.into_iter().map(|status| view! {
                            <option value=status.as_str()
                                selected=move || list_query.with(|q| q.status == Some(status))>{status.as_str()}</option>
                        }).collect_view()}
                    </select>
                </div>
            </form>
            <Transition fallback=|| view! { <Loading what="agents" rows=4/> }>
                <ErrorBoundary fallback=move |errors| view! {
                    <BoundaryErrors errors/>
                    <button type="button" class="retry" on:click=move |_| agents.refetch()>"Retry"</button>
                }>
                    {list}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

/// What the list shows with no agents: the next step, or how to widen a filter.
#[component]
fn NoAgents(query: AgentListQuery, on_create: Callback<()>) -> impl IntoView {
    if query.is_filtered() {
        view! {
            <EmptyState title="No agents match"
                hint="Try another search or status, or clear the filters to see every agent.">
                <A href="/agents">"Clear filters"</A>
            </EmptyState>
        }
        .into_any()
    } else {
        let credentials = use_signed_in()
            .get_untracked()
            .map(|s| s.client.credentials().clone());
        view! {
            <EmptyState title="No agents yet"
                hint="Create your first agent, or log a conversation with agentName — it creates the agent.">
                <button type="button" on:click=move |_| on_create.run(())>"New agent"</button>
            </EmptyState>
            {credentials.map(|c| view! {
                <FirstConversation
                    api_base_url=absolute_base_url(&c.base_url, &session::page_origin())
                    api_key=c.api_key/>
            })}
        }
        .into_any()
    }
}

/// The agents as a table (cards on a narrow screen).
#[component]
fn AgentsTable(agents: Vec<Agent>) -> impl IntoView {
    let count = match agents.len() {
        1 => "1 agent".to_owned(),
        n => format!("{} agents", format::thousands(n as u64)),
    };
    let rows = agents
        .into_iter()
        .map(|agent| {
            let href = format!("/agents/{}", agent.id);
            view! {
                <tr>
                    <th scope="row" data-label="Name">
                        <A href=href attr:class="agent-name row-link">{agent.name.clone()}</A>
                        {agent.description.clone().map(|d| view! { <span class="agent-description">{d}</span> })}
                    </th>
                    <td data-label="Status"><StatusBadge status=agent.status/></td>
                    <td data-label="Version" class="num">{format!("v{}", agent.version)}</td>
                    <td data-label="Conversations" class="num">{format::thousands(agent.conversation_count)}</td>
                    <td data-label="Quality" class="num">{format::quality_text(agent.avg_quality_score)}</td>
                    <td data-label="Last activity">{match agent.last_activity_at.clone() {
                        Some(at) => view! { <RelativeTime at/> }.into_any(),
                        None => view! { <span class="muted">"No conversations yet"</span> }.into_any(),
                    }}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p class="result-count muted" role="status">{count}</p>
        <table class="list-table agents-table">
            <caption class="visually-hidden">"Agents"</caption>
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col" class="num">"Version"</th>
                    <th scope="col" class="num">"Conversations"</th>
                    <th scope="col" class="num">"Quality"</th>
                    <th scope="col">"Last activity"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
