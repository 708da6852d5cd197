//! The start form (`/optimizations/new`, `?agentId=…` to preselect an agent): the fields of
//! `POST /optimizations` with the server's limits checked before sending, the server's
//! refusals shown with their code and message, and the concurrency limit explained plainly.

use converra_api::agents::AgentFilter;
use converra_api::optimizations::{
    CreateOptimization, OptimizationIntent, OptimizationMode, OptimizationStrategy,
    SimulationOverrides,
};
use converra_api::settings::{OptimizationSettings, Settings, SimulationSettings};
use converra_api::{ErrorCode, FieldError};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::api::agents::list_all_agents;
use crate::api::optimizations::create_optimization;
use crate::api::settings::get_settings;
use crate::api::ClientError;
use crate::components::error_panel::ErrorPanel;
use crate::components::form_fields::{invalid, FieldErrorLine, TextField};
use crate::components::page_title::use_page_title;
use crate::components::persona_picker::{toggle_persona, PersonaPicker, PERSONAS};
use crate::query::encode_component;
use crate::signed_in::client_of;
use crate::signed_in::use_signed_in;

// The server's limits, from the wire types both sides share, so the form can say what is
// wrong before sending.
const MAX_TARGET_IMPROVEMENTS: usize = OptimizationIntent::MAX_TARGET_IMPROVEMENTS;
const MAX_TARGET_CHARS: usize = OptimizationIntent::MAX_TARGET_CHARS;
const MAX_HYPOTHESIS_CHARS: usize = OptimizationIntent::MAX_HYPOTHESIS_CHARS;
const MAX_PERSONA_IDS: usize = CreateOptimization::MAX_PERSONA_IDS;
/// Simulated conversations per persona × scenario cell and arm in an exploratory run.
pub const EXPLORATORY_REPLICATES: u32 = 2;
/// The same in a validation run (three times the exploratory's).
pub const VALIDATION_REPLICATES: u32 = 6;

/// How the personas are chosen: "any N" (`simulation.personaCount`) or by name
/// (`personaIds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PersonaChoice {
    #[default]
    Count,
    Chosen,
}

/// The start form's fields, as typed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OptimizationForm {
    pub agent_id: String,
    pub mode: OptimizationMode,
    /// `None`: the account's default (reflective with a model, rewrite without).
    pub strategy: Option<OptimizationStrategy>,
    /// The reflective strategy's generations; empty: the default (3).
    pub max_iterations: String,
    /// Empty: the account's default.
    pub variant_count: String,
    pub persona_choice: PersonaChoice,
    pub persona_count: String,
    pub persona_ids: Vec<String>,
    pub scenarios_per_simulation: String,
    pub max_turns: String,
    /// One target improvement per line.
    pub target_improvements: String,
    pub hypothesis: String,
    /// Empty: random draws.
    pub seed: String,
}

/// A whole number in `min..=max`, or what is wrong with the text; `Ok(None)` when empty.
fn number_in(text: &str, (min, max): (u32, u32)) -> Result<Option<u32>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
        _ => Err(format!("Enter a whole number from {min} to {max}.")),
    }
}

impl OptimizationForm {
    /// The form with the account's defaults filled in.
    pub fn with_defaults(agent_id: String, settings: Option<&Settings>) -> Self {
        let optimization = settings.map(|s| &s.optimization);
        let number = |pick: fn(&OptimizationSettings) -> u32| {
            optimization
                .map(|o| pick(o).to_string())
                .unwrap_or_default()
        };
        OptimizationForm {
            agent_id,
            variant_count: number(|o| o.variants_per_generation),
            persona_count: number(|o| o.simulation.persona_count),
            scenarios_per_simulation: number(|o| o.simulation.scenarios_per_simulation),
            max_turns: number(|o| o.simulation.max_turns),
            ..OptimizationForm::default()
        }
    }

    /// The target improvements: one per non-empty line, trimmed.
    pub fn targets(&self) -> Vec<String> {
        self.target_improvements
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// What is wrong, field by field (named as the API names them); empty when the form can
    /// be sent.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let mut fail = |field: &str, message: String| {
            errors.push(FieldError {
                field: field.to_owned(),
                message,
            })
        };
        if self.agent_id.trim().is_empty() {
            fail("agentId", "Choose the agent to optimize.".to_owned());
        }
        if let Err(m) = number_in(
            &self.variant_count,
            OptimizationSettings::VARIANTS_PER_GENERATION,
        ) {
            fail("variantCount", m);
        }
        match self.persona_choice {
            PersonaChoice::Count => {
                if let Err(m) = number_in(&self.persona_count, SimulationSettings::PERSONA_COUNT) {
                    fail("simulation.personaCount", m);
                }
            }
            PersonaChoice::Chosen => {
                if self.persona_ids.is_empty() {
                    fail("personaIds", "Choose at least one persona.".to_owned());
                } else if self.persona_ids.len() > MAX_PERSONA_IDS {
                    fail(
                        "personaIds",
                        format!("Choose at most {MAX_PERSONA_IDS} personas."),
                    );
                } else if let Some(unknown) = self
                    .persona_ids
                    .iter()
                    .find(|id| !PERSONAS.iter().any(|(known, _)| known == id))
                {
                    fail("personaIds", format!("'{unknown}' is not a persona."));
                }
            }
        }
        if let Err(m) = number_in(
            &self.scenarios_per_simulation,
            SimulationSettings::SCENARIOS_PER_SIMULATION,
        ) {
            fail("simulation.scenariosPerSimulation", m);
        }
        if let Err(m) = number_in(&self.max_turns, SimulationSettings::MAX_TURNS) {
            fail("simulation.maxTurns", m);
        }
        if self.strategy == Some(OptimizationStrategy::Reflective) {
            if let Err(m) = number_in(&self.max_iterations, OptimizationSettings::MAX_ITERATIONS) {
                fail("maxIterations", m);
            }
        }
        let targets = self.targets();
        if targets.len() > MAX_TARGET_IMPROVEMENTS {
            fail(
                "intent.targetImprovements",
                format!(
                    "At most {MAX_TARGET_IMPROVEMENTS} target improvements, one per line; there are {}.",
                    targets.len()
                ),
            );
        } else if let Some(long) = targets.iter().position(|t| t.len() > MAX_TARGET_CHARS) {
            fail(
                "intent.targetImprovements",
                format!(
                    "Line {} is too long: a target improvement has at most {MAX_TARGET_CHARS} characters.",
                    long + 1
                ),
            );
        }
        if self.hypothesis.trim().len() > MAX_HYPOTHESIS_CHARS {
            fail(
                "intent.hypothesis",
                format!(
                    "A hypothesis has at most {} characters; this one has {}.",
                    crate::format::thousands(MAX_HYPOTHESIS_CHARS as u64),
                    crate::format::thousands(self.hypothesis.trim().len() as u64)
                ),
            );
        }
        let seed = self.seed.trim();
        if !seed.is_empty() && seed.parse::<u64>().is_err() {
            fail(
                "seed",
                "Enter a whole number of 0 or more, or leave it empty.".to_owned(),
            );
        }
        errors
    }

    /// How many personas each arm meets.
    fn personas(&self) -> Option<u32> {
        match self.persona_choice {
            PersonaChoice::Count => self.persona_count.trim().parse().ok(),
            PersonaChoice::Chosen => u32::try_from(self.persona_ids.len())
                .ok()
                .filter(|n| *n > 0),
        }
    }

    /// Simulated conversations per variant (personas × scenarios × the mode's replicates),
    /// when the form says enough to tell.
    pub fn conversations_per_variant(&self) -> Option<u32> {
        let scenarios: u32 = self.scenarios_per_simulation.trim().parse().ok()?;
        let replicates = match self.mode {
            OptimizationMode::Exploratory => EXPLORATORY_REPLICATES,
            OptimizationMode::Validation => VALIDATION_REPLICATES,
        };
        Some(self.personas()? * scenarios * replicates)
    }

    /// The `POST /optimizations` body (call after [`Self::validate`] found nothing): empty
    /// fields left out so the account's defaults apply.
    pub fn to_request(&self) -> CreateOptimization {
        let number = |text: &str| text.trim().parse::<u32>().ok();
        let (persona_count, persona_ids) = match self.persona_choice {
            PersonaChoice::Count => (number(&self.persona_count), None),
            // The chosen personas are the count, so none is added from the defaults.
            PersonaChoice::Chosen => (self.personas(), Some(self.persona_ids.clone())),
        };
        let simulation = SimulationOverrides {
            persona_count,
            scenarios_per_simulation: number(&self.scenarios_per_simulation),
            max_turns: number(&self.max_turns),
        };
        let any_override = simulation.persona_count.is_some()
            || simulation.scenarios_per_simulation.is_some()
            || simulation.max_turns.is_some();
        let targets = self.targets();
        let hypothesis = Some(self.hypothesis.trim().to_owned()).filter(|h| !h.is_empty());
        let intent = (!targets.is_empty() || hypothesis.is_some()).then_some(OptimizationIntent {
            target_improvements: targets,
            hypothesis,
        });
        CreateOptimization {
            agent_id: self.agent_id.trim().to_owned(),
            mode: Some(self.mode),
            variant_count: number(&self.variant_count),
            optimization_strategy: self.strategy,
            max_iterations: match self.strategy {
                Some(OptimizationStrategy::Reflective) => number(&self.max_iterations),
                _ => None,
            },
            intent,
            persona_ids,
            simulation: any_override.then_some(simulation),
            seed: self.seed.trim().parse().ok(),
        }
    }
}

/// The fields the form knows, so a server `VALIDATION_ERROR` about one lands under it.
const FORM_FIELDS: [&str; 11] = [
    "agentId",
    "optimizationStrategy",
    "maxIterations",
    "variantCount",
    "simulation.personaCount",
    "simulation.scenariosPerSimulation",
    "simulation.maxTurns",
    "personaIds",
    "intent.targetImprovements",
    "intent.hypothesis",
    "seed",
];

/// The form field a `VALIDATION_ERROR` names, with the server's words; other refusals stay
/// in the error panel.
pub fn server_field_error(error: &ClientError) -> Option<FieldError> {
    error.form_field_error(&FORM_FIELDS)
}

/// The plain explanation of a 429 `CONCURRENCY_LIMIT`.
pub fn concurrency_explanation(limit: u32) -> String {
    format!(
        "At most {limit} optimizations can run at once in an account, and {limit} are queued or running now. \
         Stop one of them or wait for one to finish, then start this one again."
    )
}

/// The start form, its account defaults filled in; on success, the new optimization's page.
#[component]
pub fn OptimizationNewPage() -> impl IntoView {
    use_page_title(|| "New optimization".to_owned());
    let signed_in = use_signed_in();
    let query_map = use_query_map();
    let navigate = use_navigate();
    let preselected = query_map.with_untracked(|q| q.get("agentId").unwrap_or_default());
    let concurrent_limit = signed_in
        .get_untracked()
        .map(|s| s.account.plan.limits.concurrent_optimizations)
        // The API reference's limit, for a form mounted without a session.
        .unwrap_or(10);

    let agents = LocalResource::new(move || {
        let client = client_of(signed_in.get());
        async move { list_all_agents(&client?, &AgentFilter::default()).await }
    });
    let settings = LocalResource::new(move || {
        let client = client_of(signed_in.get());
        async move { get_settings(&client?).await }
    });

    let form = RwSignal::new(OptimizationForm::with_defaults(preselected, None));
    let touched = RwSignal::new(false);
    // The account's defaults fill the numbers once known, unless the user got there first.
    Effect::new(move |_| {
        if let Some(Ok(settings)) = settings.get() {
            if !touched.get_untracked() {
                let agent = form.with_untracked(|f| f.agent_id.clone());
                form.set(OptimizationForm::with_defaults(agent, Some(&settings)));
            }
        }
    });
    let field_errors = RwSignal::new(Vec::<FieldError>::new());
    // After a refused submit the messages follow the typing, so a fixed field clears.
    let submitted = RwSignal::new(false);
    // Marks the form edited (so the account's defaults no longer overwrite it) and, after a
    // refused submit, checks it again.
    let on_edit = Callback::new(move |()| {
        touched.set(true);
        if submitted.get_untracked() {
            field_errors.set(form.with_untracked(OptimizationForm::validate));
        }
    });
    let edit = move |change: &dyn Fn(&mut OptimizationForm)| {
        form.update(|f| change(f));
        on_edit.run(());
    };

    let create = Action::new_local(move |request: &CreateOptimization| {
        let request = request.clone();
        let client = client_of(signed_in.get_untracked());
        async move { create_optimization(&client?, &request).await }
    });
    let failure = Signal::derive(move || create.value().get().and_then(Result::err));
    let server_error = Signal::derive(move || failure.get().as_ref().and_then(server_field_error));
    Effect::new(move |_| {
        if let Some(Ok(optimization)) = create.value().get() {
            navigate(
                &format!("/optimizations/{}", encode_component(&optimization.id)),
                NavigateOptions::default(),
            );
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let errors = form.with(OptimizationForm::validate);
        let valid = errors.is_empty();
        submitted.set(true);
        field_errors.set(errors);
        create.value().set(None);
        if valid {
            create.dispatch_local(form.with(OptimizationForm::to_request));
        } else {
            focus_first_invalid();
        }
    };
    let pending = create.pending();

    // The form's own checks first, then what the server said.
    let errors = Signal::derive(move || {
        let mut all = field_errors.get();
        all.extend(server_error.get());
        all
    });
    let agent_options = move || {
        let chosen = form.with(|f| f.agent_id.clone());
        match agents.get() {
            None => view! { <option value="" disabled=true>"Loading agents…"</option> }.into_any(),
            Some(Err(err)) => {
                view! { <option value="" disabled=true>{format!("Agents could not be loaded ({})", err.code)}</option> }.into_any()
            }
            Some(Ok(mut list)) => {
                list.sort_by_key(|a| a.name.to_lowercase());
                view! {
                    <option value="" selected=chosen.is_empty()>"Choose an agent…"</option>
                    {list.into_iter().map(|agent| {
                        let selected = agent.id == chosen;
                        let label = format!("{} (v{})", agent.name, agent.version);
                        view! { <option value=agent.id.clone() selected=selected>{label}</option> }
                    }).collect_view()}
                }
                .into_any()
            }
        }
    };
    let agents_error = move || match agents.get() {
        Some(Err(error)) => Some(view! { <ErrorPanel error/> }),
        _ => None,
    };
    let estimate = move || {
        form.with(|f| match (f.conversations_per_variant(), f.variant_count.trim().parse::<u32>().ok()) {
            (Some(per), Some(variants)) => format!(
                "{per} simulated conversations per variant; {} in all with the control ({} variants + control).",
                per * (variants + 1),
                variants
            ),
            (Some(per), None) => format!("{per} simulated conversations per variant."),
            _ => "Conversations per variant: personas × scenarios × 2 (exploratory) or × 6 (validation).".to_owned(),
        })
    };
    let confidence = move || {
        settings.get().and_then(Result::ok).map(|s| {
            let level = s.optimization.simulation.confidence_mode.level();
            format!(
                "A winner needs {:.0}% confidence in this account's settings (validation runs need at least 95%).",
                level * 100.0
            )
        })
    };
    let running_href = "/optimizations?status=running";

    let failure_view = move || {
        failure.get().map(|error| {
            let plain = (error.code == ErrorCode::ConcurrencyLimit).then(|| {
                view! {
                    <div class="notice concurrency-notice" role="alert" data-testid="concurrency-limit">
                        <p><strong>"Too many optimizations are running."</strong></p>
                        <p>{concurrency_explanation(concurrent_limit)}</p>
                        <p>
                            <A href=running_href>"See the running optimizations"</A>
                            " · "
                            <A href="/optimizations?status=queued">"queued ones"</A>
                        </p>
                    </div>
                }
            });
            let quota = (error.code == ErrorCode::LimitExceeded).then(|| {
                view! { <p class="hint">"This month's optimizations are used up; see " <A href="/usage">"Usage"</A> "."</p> }
            });
            view! { {plain} {quota} <ErrorPanel error/> }
        })
    };

    view! {
        <section class="optimization-new-page">
            <p class="back-link"><A href="/optimizations">"← All optimizations"</A></p>
            <h1>"Start an optimization"</h1>
            <p class="muted lede">
                "Converra writes variants of the agent's prompt, runs each and the current prompt (the control) "
                "through the same simulated conversations, and compares them with paired statistics."
            </p>
            <form class="card opt-form" on:submit=submit novalidate aria-labelledby="opt-form-title">
                <h2 id="opt-form-title" class="visually-hidden">"Optimization settings"</h2>
                <div class="field">
                    <label for="opt-agentId">"Agent"</label>
                    <select id="opt-agentId" aria-invalid=invalid(errors, "agentId")
                        aria-describedby="opt-agentId-error"
                        on:change=move |ev| { let v = event_target_value(&ev); edit(&|f| f.agent_id = v.clone()); }>
                        {agent_options}
                    </select>
                    <FieldErrorLine errors field="agentId" id="opt-agentId"/>
                    {agents_error}
                </div>

                <fieldset class="field opt-mode">
                    <legend>"Mode"</legend>
                    <label class="choice">
                        <input type="radio" name="opt-mode" value="exploratory"
                            prop:checked=move || form.with(|f| f.mode == OptimizationMode::Exploratory)
                            on:change=move |_| edit(&|f| f.mode = OptimizationMode::Exploratory)/>
                        <span><strong>"Exploratory"</strong>" — fast; the account's confidence level."</span>
                    </label>
                    <label class="choice">
                        <input type="radio" name="opt-mode" value="validation"
                            prop:checked=move || form.with(|f| f.mode == OptimizationMode::Validation)
                            on:change=move |_| edit(&|f| f.mode = OptimizationMode::Validation)/>
                        <span><strong>"Validation"</strong>" — three times the simulations, at least 95% confidence, and the winner retested on fresh seeds."</span>
                    </label>
                </fieldset>

                <fieldset class="field opt-strategy">
                    <legend>"How variants are written"</legend>
                    <label class="choice">
                        <input type="radio" name="opt-strategy" value=""
                            prop:checked=move || form.with(|f| f.strategy.is_none())
                            on:change=move |_| edit(&|f| f.strategy = None)/>
                        <span><strong>"The account's default"</strong>" — reflective with a model, rewrite without."</span>
                    </label>
                    <label class="choice">
                        <input type="radio" name="opt-strategy" value="rewrite"
                            prop:checked=move || form.with(|f| f.strategy == Some(OptimizationStrategy::Rewrite))
                            on:change=move |_| edit(&|f| f.strategy = Some(OptimizationStrategy::Rewrite))/>
                        <span><strong>"Rewrite"</strong>" — one edit per variant, each answering an issue found in the agent's conversations."</span>
                    </label>
                    <label class="choice">
                        <input type="radio" name="opt-strategy" value="reflective"
                            prop:checked=move || form.with(|f| f.strategy == Some(OptimizationStrategy::Reflective))
                            on:change=move |_| edit(&|f| f.strategy = Some(OptimizationStrategy::Reflective))/>
                        <span><strong>"Reflective"</strong>" — needs a model: candidates evolve over generations from the judge's reasons on failed simulations; the survivors are then tested on fresh cells."</span>
                    </label>
                    <FieldErrorLine errors field="optimizationStrategy" id="opt-optimizationStrategy"/>
                    <Show when=move || form.with(|f| f.strategy == Some(OptimizationStrategy::Reflective))>
                        <TextField form errors field="maxIterations" id="opt-maxIterations" label="Generations"
                            input_type="number" range=OptimizationSettings::MAX_ITERATIONS on_edit
                            hint="How many generations of mutations. Empty: 3, within the account's maximum."
                            get=|f| f.max_iterations.clone() set=|f, v| f.max_iterations = v/>
                    </Show>
                </fieldset>

                <div class="opt-numbers">
                    <TextField form errors field="variantCount" id="opt-variantCount" label="Variants to try"
                        input_type="number" range=(1, 5) on_edit
                        hint="1 to 5, besides the control. Empty: the account's default."
                        get=|f| f.variant_count.clone() set=|f, v| f.variant_count = v/>
                    <TextField form errors field="simulation.scenariosPerSimulation" id="opt-simulation-scenariosPerSimulation" label="Scenarios per persona"
                        input_type="number" range=(1, 10) on_edit
                        hint="1 to 10."
                        get=|f| f.scenarios_per_simulation.clone() set=|f, v| f.scenarios_per_simulation = v/>
                    <TextField form errors field="simulation.maxTurns" id="opt-simulation-maxTurns" label="Max turns"
                        input_type="number" range=(2, 30) on_edit
                        hint="Per conversation, 2 to 30."
                        get=|f| f.max_turns.clone() set=|f, v| f.max_turns = v/>
                </div>

                <fieldset class="field opt-personas">
                    <legend>"Personas (simulated users)"</legend>
                    <label class="choice">
                        <input type="radio" name="opt-persona-choice" value="count"
                            prop:checked=move || form.with(|f| f.persona_choice == PersonaChoice::Count)
                            on:change=move |_| edit(&|f| f.persona_choice = PersonaChoice::Count)/>
                        <span>"A number of personas from the catalogue"</span>
                    </label>
                    <Show when=move || form.with(|f| f.persona_choice == PersonaChoice::Count)>
                        <div class="nested">
                            <TextField form errors field="simulation.personaCount" id="opt-simulation-personaCount"
                                label="Number of personas" input_type="number" range=(1, 20) on_edit
                                hint="1 to 20; past the catalogue's 8, personas repeat."
                                get=|f| f.persona_count.clone() set=|f, v| f.persona_count = v/>
                        </div>
                    </Show>
                    <label class="choice">
                        <input type="radio" name="opt-persona-choice" value="chosen"
                            prop:checked=move || form.with(|f| f.persona_choice == PersonaChoice::Chosen)
                            on:change=move |_| edit(&|f| f.persona_choice = PersonaChoice::Chosen)/>
                        <span>"These personas:"</span>
                    </label>
                    <Show when=move || form.with(|f| f.persona_choice == PersonaChoice::Chosen)>
                        <PersonaPicker class="nested" error_id="opt-personaIds-error"
                            chosen=Signal::derive(move || form.with(|f| f.persona_ids.clone()))
                            on_toggle=Callback::new(move |(id, on): (&'static str, bool)| {
                                edit(&|f| toggle_persona(&mut f.persona_ids, id, on));
                            })/>
                        <FieldErrorLine errors field="personaIds" id="opt-personaIds"/>
                    </Show>
                </fieldset>
                <p class="estimate" role="status" data-testid="conversation-estimate">{estimate}</p>
                <p class="hint">{confidence}</p>

                <TextField form errors field="intent.targetImprovements" id="opt-intent-targetImprovements"
                    label="What should improve (optional, one per line)" multiline=true wide=true on_edit
                    placeholder="Escalate to a human when asked\nAsk for the order number before looking it up"
                    hint=format!("At most {MAX_TARGET_IMPROVEMENTS} lines of {MAX_TARGET_CHARS} characters. Without any, the variants answer the agent's most frequent issues.")
                    get=|f| f.target_improvements.clone() set=|f, v| f.target_improvements = v/>
                <TextField form errors field="intent.hypothesis" id="opt-intent-hypothesis"
                    label="Hypothesis (optional)" multiline=true rows=2 wide=true on_edit
                    get=|f| f.hypothesis.clone() set=|f, v| f.hypothesis = v/>
                <details class="opt-advanced">
                    <summary>"Advanced"</summary>
                    <TextField form errors field="seed" id="opt-seed" label="Seed (optional)" on_edit
                        hint="The same seed on the same agent and settings gives the same numbers with the offline engine."
                        get=|f| f.seed.clone() set=|f, v| f.seed = v/>
                </details>
                <div class="form-actions">
                    <button type="submit" disabled=move || pending.get()>
                        {move || if pending.get() { "Starting…" } else { "Start optimization" }}
                    </button>
                    <A href="/optimizations" attr:class="button-link secondary">"Cancel"</A>
                </div>
                {failure_view}
            </form>
        </section>
    }
}

/// Moves focus to the first field marked invalid, once the view has marked it.
fn focus_first_invalid() {
    request_animation_frame(|| {
        let target = document()
            .query_selector(".opt-form [aria-invalid=\"true\"]")
            .ok()
            .flatten()
            .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok());
        if let Some(target) = target {
            let _ = target.focus();
        }
    });
}
