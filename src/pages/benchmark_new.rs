//! `/benchmarks/new` (`?agentId=…` ticks an agent): the form that queues a benchmark, with
//! the fields of `POST /benchmarks` (name, agents, models, personas, scenarios, turns),
//! checked here first and then by the server, whose answer shows under the field it names.

use converra_api::agents::{Agent, AgentFilter};
use converra_api::benchmarks::CreateBenchmark;
use converra_api::FieldError;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::agents::list_all_agents;
use crate::api::benchmarks::create_benchmark;
use crate::api::ClientError;
use crate::components::boundary_errors::BoundaryErrors;
use crate::components::empty_state::EmptyState;
use crate::components::error_panel::ErrorPanel;
use crate::components::form_fields::{invalid, FieldErrorLine, TextField};
use crate::components::loading::Loading;
use crate::components::page_title::use_page_title;
use crate::components::persona_picker::{toggle_persona, PersonaPicker};
use crate::query::encode_component;
use crate::signed_in::client_of;
use crate::signed_in::use_signed_in;

// The server's limits, from the wire types both sides share, so the form can say what is
// wrong before sending.
const MAX_NAME_CHARS: usize = CreateBenchmark::MAX_NAME_CHARS;
const MAX_AGENTS: usize = CreateBenchmark::MAX_AGENTS;
const MIN_MODELS: usize = CreateBenchmark::MODELS.0;
const MAX_MODELS: usize = CreateBenchmark::MODELS.1;
const SCENARIOS: (u32, u32) = CreateBenchmark::SCENARIO_COUNT;
const TURNS: (u32, u32) = CreateBenchmark::MAX_TURNS;

/// The form as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchmarkForm {
    /// Empty: the server names it after the agents.
    pub name: String,
    /// The ticked agents, in the order ticked.
    pub agent_ids: Vec<String>,
    /// Comma- or line-separated; empty: compare the agents on their own models.
    pub models: String,
    /// The ticked personas, in the order ticked; none: the server's first three.
    pub persona_ids: Vec<String>,
    /// As typed; checked to be 1..10.
    pub scenario_count: String,
    /// As typed; checked to be 2..30.
    pub max_turns: String,
}

impl Default for BenchmarkForm {
    fn default() -> Self {
        BenchmarkForm {
            name: String::new(),
            agent_ids: Vec::new(),
            models: String::new(),
            persona_ids: Vec::new(),
            scenario_count: "5".to_owned(),
            max_turns: "8".to_owned(),
        }
    }
}

/// The non-empty entries of a comma- or line-separated list, trimmed.
pub fn split_list(text: &str) -> Vec<String> {
    text.split([',', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn field_error(field: &str, message: &str) -> FieldError {
    FieldError {
        field: field.to_owned(),
        message: message.to_owned(),
    }
}

/// A whole number within `range`, or the reason it is not.
fn bounded(text: &str, (low, high): (u32, u32)) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(n) if (low..=high).contains(&n) => Ok(n),
        _ => Err(format!("Enter a whole number from {low} to {high}.")),
    }
}

impl BenchmarkForm {
    /// What is wrong with the form, one error per field, keyed by the API's field names.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.name.trim().chars().count() > MAX_NAME_CHARS {
            errors.push(field_error(
                "name",
                &format!("Keep the name to {MAX_NAME_CHARS} characters."),
            ));
        }
        let models = split_list(&self.models);
        if self.agent_ids.is_empty() {
            errors.push(field_error("agentIds", "Choose at least one agent."));
        } else if self.agent_ids.len() > MAX_AGENTS {
            errors.push(field_error(
                "agentIds",
                &format!("Choose at most {MAX_AGENTS} agents."),
            ));
        } else if !models.is_empty() && self.agent_ids.len() > 1 {
            errors.push(field_error(
                "agentIds",
                "A benchmark over models compares one agent: choose just one.",
            ));
        }
        if !models.is_empty() {
            let mut distinct = models.clone();
            distinct.sort();
            distinct.dedup();
            if distinct.len() != models.len() {
                errors.push(field_error("models", "A model is listed twice."));
            } else if !(MIN_MODELS..=MAX_MODELS).contains(&models.len()) {
                errors.push(field_error(
                    "models",
                    &format!("List from {MIN_MODELS} to {MAX_MODELS} models, or none."),
                ));
            }
        }
        if let Err(message) = bounded(&self.scenario_count, SCENARIOS) {
            errors.push(field_error("scenarioCount", &message));
        }
        if let Err(message) = bounded(&self.max_turns, TURNS) {
            errors.push(field_error("maxTurns", &message));
        }
        errors
    }

    /// The request; call after [`validate`](Self::validate) found nothing.
    pub fn to_create(&self) -> CreateBenchmark {
        let list = |text: &str| Some(split_list(text)).filter(|l| !l.is_empty());
        let name = self.name.trim();
        CreateBenchmark {
            name: (!name.is_empty()).then(|| name.to_owned()),
            agent_ids: Some(self.agent_ids.clone()),
            agent_id: None,
            models: list(&self.models),
            persona_ids: Some(self.persona_ids.clone()).filter(|ids| !ids.is_empty()),
            scenario_count: self.scenario_count.trim().parse().ok(),
            max_turns: self.max_turns.trim().parse().ok(),
        }
    }
}

/// The field a server error names, as one of the form's fields: `agentIds[2]` belongs to
/// `agentIds`, `personaIds[0]` to `personaIds`.
pub fn form_field_of(api_field: &str) -> &str {
    api_field.split('[').next().unwrap_or(api_field)
}

/// The page at `/benchmarks/new`.
#[component]
pub fn BenchmarkNewPage() -> impl IntoView {
    use_page_title(|| "New benchmark".to_owned());
    let signed_in = use_signed_in();
    let query = use_query_map();
    let agents = LocalResource::new(move || {
        let client = client_of(signed_in.get());
        async move { list_all_agents(&client?, &AgentFilter::default()).await }
    });
    let preselected: Vec<String> = query.with_untracked(|q| {
        q.get_all("agentId")
            .unwrap_or_default()
            .into_iter()
            .flat_map(|v| split_list(&v))
            .collect()
    });
    let form = RwSignal::new(BenchmarkForm {
        agent_ids: preselected,
        ..BenchmarkForm::default()
    });
    let field_errors = RwSignal::new(Vec::<FieldError>::new());

    let navigate = use_navigate();
    let create = Action::new_local(move |request: &CreateBenchmark| {
        let request = request.clone();
        let client = client_of(signed_in.get_untracked());
        async move { create_benchmark(&client?, &request).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(benchmark)) = create.value().get() {
            navigate(
                &format!("/benchmarks/{}", encode_component(&benchmark.id)),
                Default::default(),
            );
        }
    });
    // A server refusal is about what was sent: once the form changes, it no longer holds.
    Effect::new(move |first_run: Option<()>| {
        form.track();
        if first_run.is_some() {
            create.value().set(None);
        }
    });
    let failure = Signal::derive(move || create.value().get().and_then(Result::err));
    let server_errors =
        Signal::derive(move || failure.get().map(|e| e.field_errors()).unwrap_or_default());
    // The form's own checks first, then the server's, named as the form names its fields.
    let errors = Signal::derive(move || {
        let mut all = field_errors.get();
        all.extend(server_errors.get().into_iter().map(|e| FieldError {
            field: form_field_of(&e.field).to_owned(),
            message: e.message,
        }));
        all
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let errors = form.with(BenchmarkForm::validate);
        let valid = errors.is_empty();
        field_errors.set(errors);
        create.value().set(None);
        if valid {
            create.dispatch_local(form.with(BenchmarkForm::to_create));
        }
    };
    let pending = create.pending();

    let agent_choices = move || {
        Suspend::new(async move {
            let agents = agents.await?;
            Ok::<_, ClientError>(
                view! { <AgentChoices agents form invalid=Signal::derive(move || invalid(errors, "agentIds")() == "true")/> },
            )
        })
    };

    view! {
        <div class="benchmark-new-page">
            <p class="back-link"><a href="/benchmarks">"← Benchmarks"</a></p>
            <h1>"New benchmark"</h1>
            <p class="muted">"Runs the same personas and scenarios against each agent (or one agent on each model) and compares the results on the 11 metrics."</p>
            <form class="card benchmark-form" on:submit=submit novalidate aria-labelledby="benchmark-form-title">
                <h2 id="benchmark-form-title" class="visually-hidden">"Benchmark settings"</h2>
                <TextField form errors id="benchmark-name" field="name" label="Name (optional)"
                    hint="Left empty, it is named after the agents."
                    get=|f| f.name.clone() set=|f, v| f.name = v/>
                <fieldset class="agent-choices" aria-describedby="benchmark-agents-error">
                    <legend>"Agents"</legend>
                    <Transition fallback=|| view! { <Loading what="the agents" rows=3/> }>
                        <ErrorBoundary fallback=move |errors| view! {
                            <BoundaryErrors errors/>
                            <button type="button" class="retry" on:click=move |_| agents.refetch()>"Retry"</button>
                        }>
                            {agent_choices}
                        </ErrorBoundary>
                    </Transition>
                    <FieldErrorLine errors field="agentIds" id="benchmark-agents"/>
                </fieldset>
                <div class="form-grid">
                    <TextField form errors id="benchmark-scenarios" field="scenarioCount" label="Scenarios"
                    hint="From 1 to 10; each agent meets every persona in each."
                    get=|f| f.scenario_count.clone() set=|f, v| f.scenario_count = v/>
                    <TextField form errors id="benchmark-turns" field="maxTurns" label="Turns at most"
                    hint="From 2 to 30 per conversation."
                    get=|f| f.max_turns.clone() set=|f, v| f.max_turns = v/>
                </div>
                <TextField form errors id="benchmark-models" field="models" label="Models (optional)"
                    hint="Comma-separated, 2 to 6, to run one agent on several models; needs a connected model (settings)."
                    get=|f| f.models.clone() set=|f, v| f.models = v/>
                <fieldset class="persona-choices">
                    <legend>"Personas (optional)"</legend>
                    <p class="hint">"The simulated users each agent meets; none ticked: the first three."</p>
                    <PersonaPicker error_id="benchmark-personas-error"
                        chosen=Signal::derive(move || form.with(|f| f.persona_ids.clone()))
                        on_toggle=Callback::new(move |(id, on): (&'static str, bool)| {
                            form.update(|f| toggle_persona(&mut f.persona_ids, id, on));
                        })/>
                    <FieldErrorLine errors field="personaIds" id="benchmark-personas"/>
                </fieldset>
                <div class="form-actions">
                    <button type="submit" disabled=move || pending.get()>
                        {move || if pending.get() { "Creating…" } else { "Create benchmark" }}
                    </button>
                    <a href="/benchmarks">"Cancel"</a>
                </div>
                {move || failure.get().map(|error| view! { <ErrorPanel error/> })}
            </form>
        </div>
    }
}

/// A tick box per agent of the account.
#[component]
fn AgentChoices(
    agents: Vec<Agent>,
    form: RwSignal<BenchmarkForm>,
    #[prop(into)] invalid: Signal<bool>,
) -> impl IntoView {
    if agents.is_empty() {
        return view! {
            <EmptyState title="No agents yet" hint="A benchmark compares agents; register one first.">
                <a href="/agents">"Go to the agents"</a>
            </EmptyState>
        }
        .into_any();
    }
    view! {
        <ul class="agent-choice-list" class:invalid=move || invalid.get()>
            {agents.into_iter().map(|agent| {
                let id = agent.id.clone();
                let checked = {
                    let id = id.clone();
                    move || form.with(|f| f.agent_ids.contains(&id))
                };
                let toggle = move |ev: leptos::ev::Event| {
                    let on = event_target_checked(&ev);
                    form.update(|f| {
                        f.agent_ids.retain(|a| *a != id);
                        if on {
                            f.agent_ids.push(id.clone());
                        }
                    });
                };
                view! {
                    <li>
                        <label class="checkbox">
                            <input type="checkbox" prop:checked=checked on:change=toggle/>
                            <span>{agent.name}<span class="muted">{format!(" · {}", agent.llm_model)}</span></span>
                        </label>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}
