//! The agents list (`/` and `/agents`): every agent of the account with its status, version,
//! conversations and quality, a search and a status filter kept in the URL, and the form
//! that registers a new agent. The agent form's rules live here too; `agent.rs` reuses them.

use std::time::Duration;

use converra_api::agents::{Agent, AgentFilter, AgentStatus, CreateAgent, UpdateAgent};
use converra_api::{ErrorCode, FieldError};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_location, use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::api::agents::{create_agent, list_all_agents};
use crate::api::{ApiClient, ClientError};
use crate::app::{use_signed_in, SignedIn};
use crate::components::boundary_errors::BoundaryErrors;
use crate::components::empty_state::EmptyState;
use crate::components::error_panel::ErrorPanel;
use crate::components::loading::Loading;
use crate::components::query::{build_query, QueryState};
use crate::format;

/// How long typing in the search box pauses before the URL (and the list) follows.
const SEARCH_DEBOUNCE: Duration = Duration::from_millis(300);

// The server's limits (crates/server/src/routes/agents.rs), mirrored so the form can say
// what is wrong before sending.
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_PROMPT_CHARS: usize = 100_000;
pub const MAX_MODEL_CHARS: usize = 100;
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;

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

/// The client of the signed-in account; the shell only shows pages once signed in, so the
/// error is for a page mounted on its own.
pub fn client_of(signed_in: Option<SignedIn>) -> Result<ApiClient, ClientError> {
    signed_in.map(|s| s.client).ok_or_else(|| ClientError {
        status: 0,
        code: ErrorCode::Unauthorized,
        message: "Sign in to see your agents.".to_owned(),
        retry_after: None,
        fields: Vec::new(),
    })
}

/// The fields of the new-agent and edit forms, as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentForm {
    pub name: String,
    pub content: String,
    /// Empty on the new-agent form means the account's preferred model.
    pub llm_model: String,
    pub status: AgentStatus,
    pub description: String,
}

impl Default for AgentForm {
    fn default() -> Self {
        AgentForm {
            name: String::new(),
            content: String::new(),
            llm_model: String::new(),
            status: AgentStatus::Active,
            description: String::new(),
        }
    }
}

impl AgentForm {
    /// The form filled in from an agent, for editing.
    pub fn of(agent: &Agent) -> Self {
        AgentForm {
            name: agent.name.clone(),
            content: agent.content.clone(),
            llm_model: agent.llm_model.clone(),
            status: agent.status,
            description: agent.description.clone().unwrap_or_default(),
        }
    }

    /// What is wrong, field by field (named as the API names them), in the server's terms;
    /// empty when the form can be sent. `model_required` on the edit form, where an empty
    /// model cannot mean "the default".
    pub fn validate(&self, model_required: bool) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let mut fail = |field: &str, message: String| {
            errors.push(FieldError {
                field: field.to_owned(),
                message,
            })
        };
        let name = self.name.trim();
        if name.is_empty() {
            fail("name", "Enter a name.".to_owned());
        } else if name.chars().count() > MAX_NAME_CHARS {
            fail(
                "name",
                format!("A name has at most {MAX_NAME_CHARS} characters."),
            );
        }
        let content = self.content.trim();
        if content.is_empty() {
            fail("content", "Enter the system prompt.".to_owned());
        } else if content.chars().count() > MAX_PROMPT_CHARS {
            fail(
                "content",
                format!(
                    "A prompt has at most {} characters; this one has {}.",
                    format::thousands(MAX_PROMPT_CHARS as u64),
                    format::thousands(content.chars().count() as u64)
                ),
            );
        }
        let model = self.llm_model.trim();
        if model.is_empty() && model_required {
            fail("llmModel", "Enter a model, such as gpt-4o-mini.".to_owned());
        } else if model.chars().count() > MAX_MODEL_CHARS {
            fail(
                "llmModel",
                format!("A model name has at most {MAX_MODEL_CHARS} characters."),
            );
        }
        if self.description.trim().chars().count() > MAX_DESCRIPTION_CHARS {
            fail(
                "description",
                format!("A description has at most {MAX_DESCRIPTION_CHARS} characters."),
            );
        }
        errors
    }

    /// The `POST /agents` body: trimmed, with empty optional fields left out.
    pub fn to_create(&self) -> CreateAgent {
        let optional = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        CreateAgent {
            name: self.name.trim().to_owned(),
            content: self.content.trim().to_owned(),
            llm_model: optional(&self.llm_model),
            description: optional(&self.description),
            status: Some(self.status),
            ..CreateAgent::default()
        }
    }

    /// The `PATCH /agents/:id` body: only what differs from `agent`, so saving an unchanged
    /// prompt makes no new version. `None` when nothing changed.
    pub fn to_update(&self, agent: &Agent) -> Option<UpdateAgent> {
        let changed = |new: &str, old: &str| (new.trim() != old).then(|| new.trim().to_owned());
        let change = UpdateAgent {
            name: changed(&self.name, &agent.name),
            content: changed(&self.content, &agent.content),
            llm_model: changed(&self.llm_model, &agent.llm_model),
            status: (self.status != agent.status).then_some(self.status),
            description: changed(
                &self.description,
                agent.description.as_deref().unwrap_or(""),
            )
            .filter(|d| !d.is_empty()),
            ..UpdateAgent::default()
        };
        (change != UpdateAgent::default()).then_some(change)
    }
}

/// The fields of the agent form, as the API names them.
const AGENT_FIELDS: [&str; 5] = ["name", "content", "llmModel", "description", "status"];

/// The agent-form field a `VALIDATION_ERROR` names, with the server's words; other
/// refusals stay in the error panel.
pub fn server_field_error(error: &ClientError) -> Option<FieldError> {
    error.form_field_error(&AGENT_FIELDS)
}

/// `72.44` → `"72.4"`; no score yet → `"—"`.
pub fn quality_text(score: Option<f64>) -> String {
    match score {
        Some(v) if v.is_finite() => format!("{v:.1}"),
        _ => "—".to_owned(),
    }
}

/// The agent's most recent change: its last edit or optimization, whichever is later.
pub fn last_activity(agent: &Agent) -> &str {
    match agent.last_optimized_at.as_deref() {
        Some(optimized) if format::epoch_ms(optimized) > format::epoch_ms(&agent.updated_at) => {
            optimized
        }
        _ => &agent.updated_at,
    }
}

/// The current time, for "3 h ago".
pub fn now_ms() -> f64 {
    web_sys::js_sys::Date::now()
}

/// A time as "3 h ago" (or a date, past a month), with the exact UTC time on hover and
/// for machines.
#[component]
pub fn RelativeTime(#[prop(into)] at: String) -> impl IntoView {
    let text = format::relative_time(&at, now_ms());
    let exact = format::date_time(&at);
    view! { <time datetime=at title=exact>{text}</time> }
}

/// An agent's status as a coloured pill.
#[component]
pub fn StatusBadge(status: AgentStatus) -> impl IntoView {
    view! { <span class=format!("status-badge status-{}", status.as_str())>{status.as_str()}</span> }
}

/// The first error for `field`: the form's own check, else what the server said.
fn error_for(
    field_errors: RwSignal<Vec<FieldError>>,
    server: Signal<Option<FieldError>>,
    field: &str,
) -> Option<String> {
    field_errors
        .with(|errors| {
            errors
                .iter()
                .find(|e| e.field == field)
                .map(|e| e.message.clone())
        })
        .or_else(|| server.get().filter(|e| e.field == field).map(|e| e.message))
}

/// The inputs shared by the new-agent and edit forms: name, model, status, description and
/// prompt, each with its error under it. `prefix` keeps the ids of two forms apart.
#[component]
pub fn AgentFields(
    form: RwSignal<AgentForm>,
    field_errors: RwSignal<Vec<FieldError>>,
    #[prop(into)] server_error: Signal<Option<FieldError>>,
    prefix: &'static str,
    /// The model field's hint ("Leave empty for the account's preferred model").
    #[prop(into)]
    model_hint: String,
) -> impl IntoView {
    let id = move |field: &str| format!("{prefix}-{field}");
    let error = move |field: &'static str| {
        move || {
            error_for(field_errors, server_error, field)
                .map(|message| view! { <p class="field-error" id=id(&format!("{field}-error"))>{message}</p> })
        }
    };
    let invalid =
        move |field: &'static str| move || error_for(field_errors, server_error, field).is_some();
    let described = move |field: &'static str| {
        move || {
            error_for(field_errors, server_error, field).map(|_| format!("{prefix}-{field}-error"))
        }
    };
    view! {
        <div class="agent-fields">
            <div class="field">
                <label for=id("name")>"Name"</label>
                <input id=id("name") type="text" autocomplete="off" maxlength="400"
                    prop:value=move || form.with(|f| f.name.clone())
                    on:input=move |ev| form.update(|f| f.name = event_target_value(&ev))
                    aria-invalid=move || invalid("name")().to_string()
                    aria-describedby=described("name")/>
                {error("name")}
            </div>
            <div class="field">
                <label for=id("llmModel")>"Model"</label>
                <input id=id("llmModel") type="text" autocomplete="off" spellcheck="false"
                    list="agent-model-suggestions" placeholder="gpt-4o-mini"
                    prop:value=move || form.with(|f| f.llm_model.clone())
                    on:input=move |ev| form.update(|f| f.llm_model = event_target_value(&ev))
                    aria-invalid=move || invalid("llmModel")().to_string()
                    aria-describedby=move || described("llmModel")().unwrap_or_else(|| format!("{prefix}-llmModel-hint"))/>
                <p class="hint" id=id("llmModel-hint")>{model_hint}</p>
                {error("llmModel")}
                <datalist id="agent-model-suggestions">
                    <option value="gpt-4o-mini"></option>
                    <option value="gpt-4o"></option>
                    <option value="gpt-4.1-mini"></option>
                    <option value="gpt-4.1"></option>
                    <option value="claude-3-5-sonnet"></option>
                </datalist>
            </div>
            <div class="field">
                <label for=id("status")>"Status"</label>
                <select id=id("status")
                    on:change=move |ev| {
                        if let Ok(status) = event_target_value(&ev).parse::<AgentStatus>() {
                            form.update(|f| f.status = status);
                        }
                    }>
                    {AgentStatus::ALL.into_iter().map(|status| view! {
                        <option value=status.as_str()
                            selected=move || form.with(|f| f.status == status)>{status.as_str()}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for=id("description")>"Description " <span class="muted">"(optional)"</span></label>
                <input id=id("description") type="text" autocomplete="off"
                    prop:value=move || form.with(|f| f.description.clone())
                    on:input=move |ev| form.update(|f| f.description = event_target_value(&ev))
                    aria-invalid=move || invalid("description")().to_string()
                    aria-describedby=described("description")/>
                {error("description")}
            </div>
            <div class="field field-wide">
                <label for=id("content")>"System prompt"</label>
                <textarea id=id("content") rows="12" spellcheck="false"
                    prop:value=move || form.with(|f| f.content.clone())
                    on:input=move |ev| form.update(|f| f.content = event_target_value(&ev))
                    aria-invalid=move || invalid("content")().to_string()
                    aria-describedby=described("content")></textarea>
                <p class="hint">{move || {
                    let chars = form.with(|f| f.content.trim().chars().count());
                    format!("{} of {} characters", format::thousands(chars as u64), format::thousands(MAX_PROMPT_CHARS as u64))
                }}</p>
                {error("content")}
            </div>
        </div>
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
        let errors = form.with(|f| f.validate(false));
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
        view! {
            <EmptyState title="No agents yet"
                hint="Create your first agent, or log a conversation with agentName — it creates the agent.">
                <button type="button" on:click=move |_| on_create.run(())>"New agent"</button>
            </EmptyState>
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
            let activity = last_activity(&agent).to_owned();
            view! {
                <tr>
                    <th scope="row" data-label="Name">
                        <A href=href attr:class="agent-name row-link">{agent.name.clone()}</A>
                        {agent.description.clone().map(|d| view! { <span class="agent-description">{d}</span> })}
                    </th>
                    <td data-label="Status"><StatusBadge status=agent.status/></td>
                    <td data-label="Version" class="num">{format!("v{}", agent.version)}</td>
                    <td data-label="Conversations" class="num">{format::thousands(agent.conversation_count)}</td>
                    <td data-label="Avg quality" class="num">{quality_text(agent.avg_quality_score)}</td>
                    <td data-label="Last activity"><RelativeTime at=activity/></td>
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
                    <th scope="col" class="num">"Avg quality"</th>
                    <th scope="col">"Last activity"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
