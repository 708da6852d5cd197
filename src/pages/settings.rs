//! `/settings`: the account and its plan, this browser's connection (API base URL and a
//! masked key, with "Forget this key"), the server's settings form, and the webhooks.

use converra_api::settings::{OptimizationSettings, Settings, SimulationSettings};
use converra_api::webhooks::{CreateWebhook, CreatedWebhook, Webhook, WEBHOOK_EVENTS};
use converra_api::{Account, FieldError};
use leptos::prelude::*;
use leptos_router::components::A;
use serde_json::{json, Map, Value};
use wasm_bindgen::JsCast;

use crate::api::settings::{get_settings, update_settings};
use crate::api::webhooks::{create_webhook, delete_webhook, list_webhooks};
use crate::api::{ApiClient, ClientError};
use crate::components::boundary_errors::BoundaryErrors;
use crate::components::confirm::{close_when_settled, ConfirmDialog, Dialog};
use crate::components::copy_button::CopyButton;
use crate::components::empty_state::EmptyState;
use crate::components::error_panel::ErrorPanel;
use crate::components::loading::Loading;
use crate::format::{self, thousands};
use crate::session;
use crate::signed_in::{use_signed_in, Auth};

// ---------------------------------------------------------------------------------------
// The settings form as data: what the inputs hold, its checks, and the patch it sends.
// ---------------------------------------------------------------------------------------

/// What the settings form's inputs hold, as typed. Field errors name the same paths as the
/// API (`optimization.simulation.maxTurns`), so the server's and ours land in one place.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SettingsForm {
    pub name: String,
    pub industry: String,
    pub preferred_llm: String,
    pub objectives: String,
    pub kpis: String,
    pub insight_requirements: String,
    pub excluded_data_and_topics: String,
    pub optimization_strategy: String,
    pub variants_per_generation: String,
    /// `manual` or `semi-automatic`.
    pub deployment_mode: String,
    pub max_iterations: String,
    pub persona_count: String,
    pub scenarios_per_simulation: String,
    pub max_turns: String,
    /// `relaxed`, `moderate` or `strict`.
    pub confidence_mode: String,
    pub llm_base_url: String,
    pub llm_model: String,
    /// A replacement model API key; empty keeps the stored one.
    pub llm_api_key: String,
    /// Remove the stored model API key.
    pub remove_llm_api_key: bool,
    pub auto_generate_insights: bool,
    pub value_per_conversation: String,
    pub currency: String,
}

/// A serde enum's wire name (`"semi-automatic"`).
fn wire_name(value: impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl SettingsForm {
    pub fn from_settings(settings: &Settings) -> SettingsForm {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        let general = &settings.general;
        let optimization = &settings.optimization;
        let simulation = &optimization.simulation;
        SettingsForm {
            name: text(&general.name),
            industry: text(&general.industry),
            preferred_llm: general.preferred_llm.clone(),
            objectives: text(&general.objectives),
            kpis: text(&general.kpis),
            insight_requirements: text(&general.insight_requirements),
            excluded_data_and_topics: text(&general.excluded_data_and_topics),
            optimization_strategy: text(&optimization.optimization_strategy),
            variants_per_generation: optimization.variants_per_generation.to_string(),
            deployment_mode: wire_name(optimization.deployment_mode),
            max_iterations: optimization.max_iterations.to_string(),
            persona_count: simulation.persona_count.to_string(),
            scenarios_per_simulation: simulation.scenarios_per_simulation.to_string(),
            max_turns: simulation.max_turns.to_string(),
            confidence_mode: wire_name(simulation.confidence_mode),
            llm_base_url: text(&settings.llm.base_url),
            llm_model: text(&settings.llm.model),
            llm_api_key: String::new(),
            remove_llm_api_key: false,
            auto_generate_insights: settings.insights.auto_generate,
            value_per_conversation: settings
                .business_impact
                .value_per_conversation
                .map(|v| v.to_string())
                .unwrap_or_default(),
            currency: settings.business_impact.currency.clone(),
        }
    }
}

/// A whole number from a text field, if it is one.
fn whole_number(text: &str) -> Option<u32> {
    text.trim().parse().ok()
}

fn amount(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// What is wrong with the form, field by field (the API's paths); empty when it can be sent.
/// The same limits as the server, so a refusal from it is the exception.
pub fn validate_settings_form(form: &SettingsForm) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut fail = |field: &str, message: String| {
        errors.push(FieldError {
            field: field.to_owned(),
            message,
        })
    };
    let texts: [(&str, &str, usize); 9] = [
        ("general.name", &form.name, 200),
        ("general.industry", &form.industry, 200),
        ("general.objectives", &form.objectives, 10_000),
        ("general.kpis", &form.kpis, 10_000),
        (
            "general.insightRequirements",
            &form.insight_requirements,
            10_000,
        ),
        (
            "general.excludedDataAndTopics",
            &form.excluded_data_and_topics,
            10_000,
        ),
        (
            "optimization.optimizationStrategy",
            &form.optimization_strategy,
            2_000,
        ),
        ("llm.baseUrl", &form.llm_base_url, 2_000),
        ("llm.model", &form.llm_model, 200),
    ];
    let preferred = form.preferred_llm.trim();
    if preferred.is_empty() {
        fail(
            "general.preferredLLM",
            "Enter the model new agents get, such as gpt-4o-mini.".into(),
        );
    } else if preferred.chars().count() > 100 {
        fail("general.preferredLLM", "Use at most 100 characters.".into());
    }
    for (field, value, max) in texts {
        if value.trim().chars().count() > max {
            fail(
                field,
                format!("Use at most {} characters.", thousands(max as u64)),
            );
        }
    }
    let ranges = [
        (
            "optimization.variantsPerGeneration",
            &form.variants_per_generation,
            OptimizationSettings::VARIANTS_PER_GENERATION,
        ),
        (
            "optimization.maxIterations",
            &form.max_iterations,
            OptimizationSettings::MAX_ITERATIONS,
        ),
        (
            "optimization.simulation.personaCount",
            &form.persona_count,
            SimulationSettings::PERSONA_COUNT,
        ),
        (
            "optimization.simulation.scenariosPerSimulation",
            &form.scenarios_per_simulation,
            SimulationSettings::SCENARIOS_PER_SIMULATION,
        ),
        (
            "optimization.simulation.maxTurns",
            &form.max_turns,
            SimulationSettings::MAX_TURNS,
        ),
    ];
    for (field, value, (min, max)) in ranges {
        if !whole_number(value).is_some_and(|n| (min..=max).contains(&n)) {
            fail(field, format!("Enter a whole number from {min} to {max}."));
        }
    }
    if !["manual", "semi-automatic"].contains(&form.deployment_mode.as_str()) {
        fail(
            "optimization.deploymentMode",
            "Choose manual or semi-automatic.".into(),
        );
    }
    if !["relaxed", "moderate", "strict"].contains(&form.confidence_mode.as_str()) {
        fail(
            "optimization.simulation.confidenceMode",
            "Choose relaxed, moderate or strict.".into(),
        );
    }
    let base_url = form.llm_base_url.trim();
    if !base_url.is_empty() && !is_http_url(base_url) {
        fail(
            "llm.baseUrl",
            "Enter an http:// or https:// URL, such as https://api.openai.com/v1.".into(),
        );
    }
    let key = form.llm_api_key.trim();
    if key.chars().count() > 1_000 || key.chars().any(char::is_control) {
        fail(
            "llm.apiKey",
            "Paste the key alone: at most 1,000 characters, on one line.".into(),
        );
    }
    if !form.value_per_conversation.trim().is_empty()
        && !amount(&form.value_per_conversation).is_some_and(|v| v >= 0.0)
    {
        fail(
            "businessImpact.valuePerConversation",
            "Enter an amount of 0 or more, such as 12.50, or leave it empty.".into(),
        );
    }
    let currency = form.currency.trim();
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic()) {
        fail(
            "businessImpact.currency",
            "Enter a three-letter currency code such as USD or EUR.".into(),
        );
    }
    errors
}

/// `http://` or `https://` followed by a host, without spaces.
fn is_http_url(text: &str) -> bool {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"));
    rest.is_some_and(|rest| {
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !text.chars().any(char::is_whitespace)
    })
}

/// The `PATCH /settings` body for what the (valid) form changed from `saved`: only changed
/// fields, an emptied optional text as `""` (the server stores none), an emptied amount as
/// `null`. Empty when nothing changed.
pub fn settings_patch(saved: &Settings, form: &SettingsForm) -> Map<String, Value> {
    let before = SettingsForm::from_settings(saved);
    let mut patch = Map::new();
    let mut set = |path: &str, value: Value| {
        let mut parts: Vec<&str> = path.split('.').collect();
        let Some(last) = parts.pop() else {
            return;
        };
        let mut object = &mut patch;
        for part in parts {
            let entry = object
                .entry(part.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(inner) = entry else {
                return;
            };
            object = inner;
        }
        object.insert(last.to_owned(), value);
    };
    let texts: [(&str, &String, &String); 10] = [
        ("general.name", &form.name, &before.name),
        ("general.industry", &form.industry, &before.industry),
        (
            "general.preferredLLM",
            &form.preferred_llm,
            &before.preferred_llm,
        ),
        ("general.objectives", &form.objectives, &before.objectives),
        ("general.kpis", &form.kpis, &before.kpis),
        (
            "general.insightRequirements",
            &form.insight_requirements,
            &before.insight_requirements,
        ),
        (
            "general.excludedDataAndTopics",
            &form.excluded_data_and_topics,
            &before.excluded_data_and_topics,
        ),
        (
            "optimization.optimizationStrategy",
            &form.optimization_strategy,
            &before.optimization_strategy,
        ),
        ("llm.baseUrl", &form.llm_base_url, &before.llm_base_url),
        ("llm.model", &form.llm_model, &before.llm_model),
    ];
    for (path, now, was) in texts {
        if now.trim() != was.trim() {
            set(path, json!(now.trim()));
        }
    }
    let numbers = [
        (
            "optimization.variantsPerGeneration",
            &form.variants_per_generation,
            &before.variants_per_generation,
        ),
        (
            "optimization.maxIterations",
            &form.max_iterations,
            &before.max_iterations,
        ),
        (
            "optimization.simulation.personaCount",
            &form.persona_count,
            &before.persona_count,
        ),
        (
            "optimization.simulation.scenariosPerSimulation",
            &form.scenarios_per_simulation,
            &before.scenarios_per_simulation,
        ),
        (
            "optimization.simulation.maxTurns",
            &form.max_turns,
            &before.max_turns,
        ),
    ];
    for (path, now, was) in numbers {
        if let Some(n) = whole_number(now).filter(|n| Some(*n) != whole_number(was)) {
            set(path, json!(n));
        }
    }
    if form.deployment_mode != before.deployment_mode {
        set("optimization.deploymentMode", json!(form.deployment_mode));
    }
    if form.confidence_mode != before.confidence_mode {
        set(
            "optimization.simulation.confidenceMode",
            json!(form.confidence_mode),
        );
    }
    if form.remove_llm_api_key {
        set("llm.apiKey", Value::Null);
    } else if !form.llm_api_key.trim().is_empty() {
        set("llm.apiKey", json!(form.llm_api_key.trim()));
    }
    if form.auto_generate_insights != before.auto_generate_insights {
        set("insights.autoGenerate", json!(form.auto_generate_insights));
    }
    let value = amount(&form.value_per_conversation);
    if value != saved.business_impact.value_per_conversation {
        set(
            "businessImpact.valuePerConversation",
            value.map_or(Value::Null, |v| json!(v)),
        );
    }
    let currency = form.currency.trim().to_ascii_uppercase();
    if currency != before.currency {
        set("businessImpact.currency", json!(currency));
    }
    patch
}

/// The element id of a field's input: its API path with `-` for `.` (`general-name`).
fn input_id(field: &str) -> String {
    field.replace(['.', '[', ']'], "-")
}

// ---------------------------------------------------------------------------------------
// The page.
// ---------------------------------------------------------------------------------------

#[component]
pub fn SettingsPage() -> impl IntoView {
    let Some(signed_in) = use_signed_in().get_untracked() else {
        return ().into_any();
    };
    let client = signed_in.client;
    view! {
        <div class="settings-page">
            <h1>"Settings"</h1>
            <AccountSection account=signed_in.account/>
            <ConnectionSection client=client.clone()/>
            <SettingsSection client=client.clone()/>
            <WebhooksSection client=client/>
        </div>
    }
    .into_any()
}

#[component]
fn AccountSection(account: Account) -> impl IntoView {
    let limits = account.plan.limits.clone();
    let per_month = |n: u32| format!("{} a month", thousands(u64::from(n)));
    view! {
        <section class="card settings-section" aria-labelledby="account-title">
            <p class="section-kicker">"Account and plan"</p>
            <h2 id="account-title">{account.name.clone()}</h2>
            <dl class="facts">
                <dt>"Account id"</dt><dd><code>{account.id.clone()}</code></dd>
                {account.email.clone().map(|email| view! { <dt>"Email"</dt><dd>{email}</dd> })}
                <dt>"Plan"</dt><dd><span class="plan-badge">{account.plan.name.clone()}</span></dd>
                <dt>"Created"</dt>
                <dd><time datetime=account.created_at.clone()>{format::date(&account.created_at)}</time></dd>
            </dl>
            <table class="limits">
                <caption class="visually-hidden">"What the plan allows"</caption>
                <tbody>
                    <tr><th scope="row">"Agents"</th><td>{thousands(u64::from(limits.agents))}</td></tr>
                    <tr><th scope="row">"Conversations"</th><td>{per_month(limits.conversations_per_month)}</td></tr>
                    <tr><th scope="row">"Optimizations"</th><td>{per_month(limits.optimizations_per_month)}</td></tr>
                    <tr><th scope="row">"Optimizations running at once"</th><td>{thousands(u64::from(limits.concurrent_optimizations))}</td></tr>
                    <tr><th scope="row">"API requests"</th><td>{format!("{} a minute", thousands(u64::from(limits.requests_per_minute)))}</td></tr>
                </tbody>
            </table>
            <p class="muted"><A href="/usage">"See this month's usage"</A></p>
        </section>
    }
}

/// The API base URL and the key this browser uses, and the way to forget the key.
#[component]
fn ConnectionSection(client: ApiClient) -> impl IntoView {
    let auth = expect_context::<RwSignal<Auth>>();
    let credentials = client.credentials().clone();
    let confirming = RwSignal::new(false);
    let forget = move |_| {
        session::forget_key();
        auth.set(Auth::SignedOut(None));
    };
    view! {
        <section class="card settings-section" aria-labelledby="connection-title">
            <h2 id="connection-title">"Connection"</h2>
            <dl class="facts">
                <dt>"API base URL"</dt><dd><code>{credentials.base_url.clone()}</code></dd>
                <dt>"API key"</dt>
                <dd><code data-testid="masked-key">{format::masked_key(&credentials.api_key)}</code></dd>
            </dl>
            <p class="hint">"The key is kept in this browser's storage and sent only to the API base URL. Forgetting it signs this browser out; the key itself stays valid."</p>
            <button type="button" class="secondary danger" on:click=move |_| confirming.set(true)>
                "Forget this key"
            </button>
            <ConfirmDialog open=confirming title="Forget this key?"
                message="This browser will forget the API key and sign out. You will need the key to sign in again."
                confirm_label="Forget and sign out" danger=true
                on_confirm=forget on_cancel=move |_| confirming.set(false)/>
        </section>
    }
}

#[component]
fn SettingsSection(client: ApiClient) -> impl IntoView {
    let settings = LocalResource::new({
        let client = client.clone();
        move || {
            let client = client.clone();
            async move { get_settings(&client).await }
        }
    });
    view! {
        <section class="card settings-section" aria-labelledby="server-settings-title">
            <h2 id="server-settings-title">"Defaults for agents, optimizations and insights"</h2>
            <p class="hint">"Stored on the server for the whole account."</p>
            <Transition fallback=|| view! { <Loading what="settings" rows=8/> }>
                <ErrorBoundary fallback=|errors| view! { <BoundaryErrors errors/> }>
                    {
                        let client = client.clone();
                        move || {
                            let client = client.clone();
                            Suspend::new(async move {
                                let saved = settings.await?;
                                Ok::<_, ClientError>(view! { <SettingsFormView client=client saved=saved/> })
                            })
                        }
                    }
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

/// Reads one text field of the form; writes one.
type Getter = fn(&SettingsForm) -> String;
type Setter = fn(&mut SettingsForm, String);

/// The error message of `field`, if any, under its input.
fn field_error(errors: RwSignal<Vec<FieldError>>, field: &'static str) -> impl IntoView {
    move || {
        errors.with(|errors| {
            errors.iter().find(|e| e.field == field).map(|e| {
                view! { <p class="field-error" id=format!("{}-error", input_id(field))>{e.message.clone()}</p> }
            })
        })
    }
}

fn invalid(errors: RwSignal<Vec<FieldError>>, field: &'static str) -> impl Fn() -> &'static str {
    move || {
        if errors.with(|errors| errors.iter().any(|e| e.field == field)) {
            "true"
        } else {
            "false"
        }
    }
}

/// A labelled text, number or URL input (or a textarea) bound to one field of the form.
#[component]
fn TextField(
    form: RwSignal<SettingsForm>,
    errors: RwSignal<Vec<FieldError>>,
    /// The API path, which also names the error.
    field: &'static str,
    label: &'static str,
    get: Getter,
    set: Setter,
    #[prop(optional)] hint: Option<&'static str>,
    /// `text` unless given: `number`, `url`, `password`.
    #[prop(default = "text")]
    input_type: &'static str,
    #[prop(optional)] multiline: bool,
    /// For numbers: the allowed range.
    #[prop(optional)]
    range: Option<(u32, u32)>,
    #[prop(optional)] placeholder: Option<&'static str>,
) -> impl IntoView {
    let id = input_id(field);
    let described_by = match hint {
        Some(_) => format!("{id}-hint {id}-error"),
        None => format!("{id}-error"),
    };
    let value = move || form.with(get);
    let on_input = move |ev: leptos::ev::Event| {
        let text = event_target_value(&ev);
        form.update(|f| set(f, text));
    };
    let control = if multiline {
        view! {
            <textarea id=id.clone() name=field rows="3" prop:value=value on:input=on_input
                aria-invalid=invalid(errors, field) aria-describedby=described_by.clone()
                placeholder=placeholder></textarea>
        }
        .into_any()
    } else {
        let (min, max) = range.map_or((None, None), |(a, b)| (Some(a), Some(b)));
        view! {
            <input id=id.clone() name=field type=input_type prop:value=value on:input=on_input
                min=min max=max step=range.map(|_| "1")
                inputmode=range.map(|_| "numeric") autocomplete="off" spellcheck="false"
                aria-invalid=invalid(errors, field) aria-describedby=described_by.clone()
                placeholder=placeholder/>
        }
        .into_any()
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            {control}
            {hint.map(|hint| view! { <p class="field-hint" id=format!("{id}-hint")>{hint}</p> })}
            {field_error(errors, field)}
        </div>
    }
}

/// A labelled `<select>` bound to one field of the form.
#[component]
fn SelectField(
    form: RwSignal<SettingsForm>,
    errors: RwSignal<Vec<FieldError>>,
    field: &'static str,
    label: &'static str,
    get: Getter,
    set: Setter,
    /// (value, label) pairs.
    options: Vec<(&'static str, &'static str)>,
    #[prop(optional)] hint: Option<&'static str>,
) -> impl IntoView {
    let id = input_id(field);
    let described_by = match hint {
        Some(_) => format!("{id}-hint {id}-error"),
        None => format!("{id}-error"),
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select id=id.clone() name=field
                aria-invalid=invalid(errors, field) aria-describedby=described_by
                on:change=move |ev| { let v = event_target_value(&ev); form.update(|f| set(f, v)); }>
                {options.into_iter().map(|(value, text)| view! {
                    <option value=value selected=move || form.with(get) == value>{text}</option>
                }).collect_view()}
            </select>
            {hint.map(|hint| view! { <p class="field-hint" id=format!("{id}-hint")>{hint}</p> })}
            {field_error(errors, field)}
        </div>
    }
}

/// A checkbox bound to one yes/no of the form.
#[component]
fn CheckField(
    form: RwSignal<SettingsForm>,
    id: &'static str,
    label: &'static str,
    get: fn(&SettingsForm) -> bool,
    set: fn(&mut SettingsForm, bool),
    #[prop(optional)] hint: Option<&'static str>,
) -> impl IntoView {
    view! {
        <div class="field check">
            <input type="checkbox" id=id prop:checked=move || form.with(get)
                aria-describedby=hint.map(|_| format!("{id}-hint"))
                on:change=move |ev| { let on = event_target_checked(&ev); form.update(|f| set(f, on)); }/>
            <label for=id>{label}</label>
            {hint.map(|hint| view! { <p class="field-hint" id=format!("{id}-hint")>{hint}</p> })}
        </div>
    }
}

/// What the last save did.
#[derive(Debug, Clone, PartialEq)]
enum SaveNote {
    Saved,
    NothingChanged,
    Invalid(usize),
}

#[component]
fn SettingsFormView(client: ApiClient, saved: Settings) -> impl IntoView {
    let saved = RwSignal::new(saved);
    let form = RwSignal::new(SettingsForm::from_settings(&saved.get_untracked()));
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let note = RwSignal::new(None::<SaveNote>);
    let save = Action::new_local(move |patch: &Value| {
        let client = client.clone();
        let patch = patch.clone();
        async move { update_settings(&client, &patch).await }
    });
    let server_error = RwSignal::new(None::<ClientError>);
    Effect::new(move |_| match save.value().get() {
        Some(Ok(settings)) => {
            form.set(SettingsForm::from_settings(&settings));
            saved.set(settings);
            errors.set(Vec::new());
            server_error.set(None);
            note.set(Some(SaveNote::Saved));
        }
        Some(Err(error)) => {
            errors.set(error.field_errors());
            server_error.set(Some(error));
            note.set(None);
        }
        None => {}
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        server_error.set(None);
        let values = form.get_untracked();
        let found = validate_settings_form(&values);
        if !found.is_empty() {
            note.set(Some(SaveNote::Invalid(found.len())));
            let first = input_id(&found[0].field);
            errors.set(found);
            focus_by_id(&first);
            return;
        }
        errors.set(Vec::new());
        let patch = settings_patch(&saved.get_untracked(), &values);
        if patch.is_empty() {
            note.set(Some(SaveNote::NothingChanged));
            return;
        }
        note.set(None);
        save.dispatch(Value::Object(patch));
    };
    let discard = move |_| {
        form.set(SettingsForm::from_settings(&saved.get_untracked()));
        errors.set(Vec::new());
        server_error.set(None);
        note.set(None);
    };
    let has_key = move || saved.with(|s| s.llm.has_api_key);

    view! {
        <form class="settings-form" on:submit=submit novalidate>
            <fieldset>
                <legend>"General"</legend>
                <p class="hint">"What the business is and wants; insights and optimizations read it as context."</p>
                <div class="field-grid">
                    <TextField form errors field="general.name" label="Business name"
                        get=|f| f.name.clone() set=|f, v| f.name = v/>
                    <TextField form errors field="general.industry" label="Industry"
                        get=|f| f.industry.clone() set=|f, v| f.industry = v/>
                    <TextField form errors field="general.preferredLLM" label="Preferred model"
                        hint="The model of an agent created without one."
                        get=|f| f.preferred_llm.clone() set=|f, v| f.preferred_llm = v/>
                </div>
                <TextField form errors field="general.objectives" label="Objectives" multiline=true
                    get=|f| f.objectives.clone() set=|f, v| f.objectives = v/>
                <TextField form errors field="general.kpis" label="KPIs" multiline=true
                    get=|f| f.kpis.clone() set=|f, v| f.kpis = v/>
                <TextField form errors field="general.insightRequirements" label="What insights should look for" multiline=true
                    get=|f| f.insight_requirements.clone() set=|f, v| f.insight_requirements = v/>
                <TextField form errors field="general.excludedDataAndTopics" label="Data and topics to leave out" multiline=true
                    get=|f| f.excluded_data_and_topics.clone() set=|f, v| f.excluded_data_and_topics = v/>
            </fieldset>

            <fieldset>
                <legend>"Optimization"</legend>
                <TextField form errors field="optimization.optimizationStrategy" label="Strategy" multiline=true
                    hint="How optimizations should approach changes, in your words."
                    get=|f| f.optimization_strategy.clone() set=|f, v| f.optimization_strategy = v/>
                <div class="field-grid">
                    <TextField form errors field="optimization.variantsPerGeneration" label="Variants per generation"
                        input_type="number" range=OptimizationSettings::VARIANTS_PER_GENERATION hint="1 to 5."
                        get=|f| f.variants_per_generation.clone() set=|f, v| f.variants_per_generation = v/>
                    <TextField form errors field="optimization.maxIterations" label="Maximum iterations"
                        input_type="number" range=OptimizationSettings::MAX_ITERATIONS hint="1 to 100."
                        get=|f| f.max_iterations.clone() set=|f, v| f.max_iterations = v/>
                    <SelectField form errors field="optimization.deploymentMode" label="Deployment"
                        hint="Manual: a winning variant waits for someone to apply it."
                        options=vec![("manual", "Manual"), ("semi-automatic", "Semi-automatic")]
                        get=|f| f.deployment_mode.clone() set=|f, v| f.deployment_mode = v/>
                </div>
                <fieldset class="nested">
                    <legend>"Simulation"</legend>
                    <div class="field-grid">
                        <TextField form errors field="optimization.simulation.personaCount" label="Personas"
                            input_type="number" range=SimulationSettings::PERSONA_COUNT hint="1 to 20."
                            get=|f| f.persona_count.clone() set=|f, v| f.persona_count = v/>
                        <TextField form errors field="optimization.simulation.scenariosPerSimulation" label="Scenarios per simulation"
                            input_type="number" range=SimulationSettings::SCENARIOS_PER_SIMULATION hint="1 to 10."
                            get=|f| f.scenarios_per_simulation.clone() set=|f, v| f.scenarios_per_simulation = v/>
                        <TextField form errors field="optimization.simulation.maxTurns" label="Maximum turns"
                            input_type="number" range=SimulationSettings::MAX_TURNS hint="2 to 30."
                            get=|f| f.max_turns.clone() set=|f, v| f.max_turns = v/>
                        <SelectField form errors field="optimization.simulation.confidenceMode" label="Confidence needed"
                            options=vec![("relaxed", "Relaxed (80%)"), ("moderate", "Moderate (90%)"), ("strict", "Strict (95%)")]
                            get=|f| f.confidence_mode.clone() set=|f, v| f.confidence_mode = v/>
                    </div>
                </fieldset>
            </fieldset>

            <fieldset>
                <legend>"Model"</legend>
                <p class="hint">"The OpenAI-compatible endpoint the server calls for this account. Leave empty to use the server's own."</p>
                <div class="field-grid">
                    <TextField form errors field="llm.baseUrl" label="Base URL" input_type="url"
                        placeholder="https://api.openai.com/v1"
                        get=|f| f.llm_base_url.clone() set=|f, v| f.llm_base_url = v/>
                    <TextField form errors field="llm.model" label="Model"
                        get=|f| f.llm_model.clone() set=|f, v| f.llm_model = v/>
                </div>
                <p class="key-state" data-testid="llm-key-state">
                    {move || if has_key() { "A key is set. It is never shown; enter a new one to replace it." } else { "No key is set." }}
                </p>
                <TextField form errors field="llm.apiKey" input_type="password"
                    label="New API key" hint="Write-only: stored on the server and never sent back. Leave empty to keep the current one."
                    get=|f| f.llm_api_key.clone() set=|f, v| f.llm_api_key = v/>
                <Show when=has_key>
                    <CheckField form id="llm-remove-key" label="Remove the stored key"
                        get=|f| f.remove_llm_api_key set=|f, v| f.remove_llm_api_key = v/>
                </Show>
            </fieldset>

            <fieldset>
                <legend>"Insights"</legend>
                <CheckField form id="insights-autoGenerate" label="Generate insights for every logged conversation"
                    hint="Otherwise insights are made only when asked for."
                    get=|f| f.auto_generate_insights set=|f, v| f.auto_generate_insights = v/>
            </fieldset>

            <fieldset>
                <legend>"Business impact"</legend>
                <div class="field-grid">
                    <TextField form errors field="businessImpact.valuePerConversation" label="Value of a conversation"
                        input_type="number" hint="What one conversation is worth, to put a price on failures. Empty for none."
                        get=|f| f.value_per_conversation.clone() set=|f, v| f.value_per_conversation = v/>
                    <TextField form errors field="businessImpact.currency" label="Currency"
                        hint="A three-letter code, such as USD."
                        get=|f| f.currency.clone() set=|f, v| f.currency = v/>
                </div>
            </fieldset>

            <div class="form-actions">
                <button type="submit" disabled=move || save.pending().get()>
                    {move || if save.pending().get() { "Saving…" } else { "Save settings" }}
                </button>
                <button type="button" class="secondary" on:click=discard>"Discard changes"</button>
                <p class="save-note" role="status">
                    {move || match note.get() {
                        Some(SaveNote::Saved) => "Settings saved.".to_owned(),
                        Some(SaveNote::NothingChanged) => "Nothing changed, so nothing was sent.".to_owned(),
                        Some(SaveNote::Invalid(1)) => "One field needs fixing; see the message under it.".to_owned(),
                        Some(SaveNote::Invalid(n)) => format!("{n} fields need fixing; see the messages under them."),
                        None => String::new(),
                    }}
                </p>
            </div>
            {move || server_error.get().map(|error| view! { <ErrorPanel error=error/> })}
        </form>
    }
}

fn focus_by_id(id: &str) {
    if let Some(element) = document()
        .get_element_by_id(id)
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = element.focus();
    }
}

// ---------------------------------------------------------------------------------------
// Webhooks.
// ---------------------------------------------------------------------------------------

/// What is wrong with a new webhook, field by field; empty when it can be sent.
pub fn validate_new_webhook(url: &str, events: &[String]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let url = url.trim();
    if url.is_empty() {
        errors.push(FieldError {
            field: "url".into(),
            message: "Enter the URL that should receive the events.".into(),
        });
    } else if !url.starts_with("https://") || !is_http_url(url) {
        errors.push(FieldError {
            field: "url".into(),
            message: "Webhooks are sent over https only: enter a URL starting with https://."
                .into(),
        });
    }
    if events.is_empty() {
        errors.push(FieldError {
            field: "events".into(),
            message: "Choose at least one event.".into(),
        });
    }
    errors
}

#[component]
fn WebhooksSection(client: ApiClient) -> impl IntoView {
    let create = Action::new_local({
        let client = client.clone();
        move |input: &CreateWebhook| {
            let client = client.clone();
            let input = input.clone();
            async move { create_webhook(&client, &input).await }
        }
    });
    let delete = Action::new_local({
        let client = client.clone();
        move |id: &String| {
            let client = client.clone();
            let id = id.clone();
            async move { delete_webhook(&client, &id).await }
        }
    });
    let webhooks = LocalResource::new({
        let client = client.clone();
        move || {
            // Refetch after every create and delete.
            create.version().get();
            delete.version().get();
            let client = client.clone();
            async move { list_webhooks(&client).await }
        }
    });

    // Delete: the webhook waiting for confirmation.
    let pending_delete = RwSignal::new(None::<Webhook>);
    let delete_error = RwSignal::new(None::<ClientError>);
    close_when_settled(delete, pending_delete, delete_error);
    let delete_message = Signal::derive(move || {
        pending_delete
            .get()
            .map(|w| {
                format!(
                    "{} will receive no more events, and its delivery history is deleted too.",
                    w.url
                )
            })
            .unwrap_or_default()
    });

    view! {
        <section class="card settings-section" aria-labelledby="webhooks-title">
            <h2 id="webhooks-title">"Webhooks"</h2>
            <p class="hint">"Converra POSTs each subscribed event to these URLs, signed with the webhook's secret."</p>
            <Transition fallback=|| view! { <Loading what="webhooks" rows=3/> }>
                <ErrorBoundary fallback=|errors| view! { <BoundaryErrors errors/> }>
                    {move || Suspend::new(async move {
                        let list = webhooks.await?;
                        Ok::<_, ClientError>(view! {
                            <WebhookTable webhooks=list.data
                                on_delete=Callback::new(move |w: Webhook| pending_delete.set(Some(w)))/>
                        })
                    })}
                </ErrorBoundary>
            </Transition>
            {move || delete_error.get().map(|error| view! { <ErrorPanel error=error/> })}
            <ConfirmDialog open=Signal::derive(move || pending_delete.with(Option::is_some))
                title="Delete this webhook?" message=delete_message
                confirm_label="Delete webhook" danger=true busy=delete.pending()
                on_confirm=move |_| {
                    if let Some(webhook) = pending_delete.get_untracked() {
                        delete.dispatch(webhook.id);
                    }
                }
                on_cancel=move |_| pending_delete.set(None)/>
            <NewWebhookForm create=create/>
        </section>
    }
}

#[component]
fn WebhookTable(webhooks: Vec<Webhook>, on_delete: Callback<Webhook>) -> impl IntoView {
    if webhooks.is_empty() {
        return view! {
            <EmptyState title="No webhooks yet"
                hint="Add one below to have events sent to your own systems."/>
        }
        .into_any();
    }
    view! {
        <div class="table-scroll">
            <table class="webhooks-table">
                <caption class="visually-hidden">"Webhooks"</caption>
                <thead>
                    <tr>
                        <th scope="col">"URL"</th>
                        <th scope="col">"Events"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {webhooks.into_iter().map(|webhook| {
                        let status = webhook.status.as_str();
                        let deliveries_label = format!("Deliveries of {}", webhook.url);
                        let delete_label = format!("Delete the webhook to {}", webhook.url);
                        let href = format!("/webhooks/{}", webhook.id);
                        let for_delete = webhook.clone();
                        view! {
                            <tr data-testid="webhook-row">
                                <td class="url">
                                    <code>{webhook.url.clone()}</code>
                                    {webhook.description.clone().map(|d| view! { <span class="muted description">{d}</span> })}
                                </td>
                                <td>
                                    <ul class="event-list">
                                        {webhook.events.iter().map(|e| view! { <li><code>{e.clone()}</code></li> }).collect_view()}
                                    </ul>
                                </td>
                                <td><span class=format!("status-badge status-{status}")>{status}</span></td>
                                <td><time datetime=webhook.created_at.clone()>{format::date(&webhook.created_at)}</time></td>
                                <td class="actions">
                                    <A href=href attr:aria-label=deliveries_label>"Deliveries"</A>
                                    <button type="button" class="secondary danger small" aria-label=delete_label
                                        on:click=move |_| on_delete.run(for_delete.clone())>"Delete"</button>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn NewWebhookForm(
    create: Action<CreateWebhook, Result<CreatedWebhook, ClientError>>,
) -> impl IntoView {
    let url = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let events = RwSignal::new(Vec::<String>::new());
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let server_error = RwSignal::new(None::<ClientError>);
    // The secret of the webhook just created: shown once, then dropped.
    let secret = RwSignal::new(None::<CreatedWebhook>);
    Effect::new(move |_| match create.value().get() {
        Some(Ok(created)) => {
            url.set(String::new());
            description.set(String::new());
            events.set(Vec::new());
            errors.set(Vec::new());
            server_error.set(None);
            secret.set(Some(created));
            // The action keeps its last value; the secret must not outlive the dialog.
            create.value().set(None);
        }
        Some(Err(error)) => {
            let fields = error.field_errors();
            errors.set(fields);
            server_error.set(Some(error));
        }
        None => {}
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        server_error.set(None);
        let chosen = events.get_untracked();
        let found = validate_new_webhook(&url.get_untracked(), &chosen);
        if !found.is_empty() {
            let first = if found[0].field == "url" {
                "webhook-url"
            } else {
                "webhook-event-0"
            };
            errors.set(found);
            focus_by_id(first);
            return;
        }
        errors.set(Vec::new());
        let description = description.get_untracked().trim().to_owned();
        create.dispatch(CreateWebhook {
            url: url.get_untracked().trim().to_owned(),
            events: chosen,
            description: (!description.is_empty()).then_some(description),
        });
    };
    let error_of = move |field: &'static str| {
        move || {
            errors.with(|errors| {
                errors
                    .iter()
                    .find(|e| e.field == field || e.field.starts_with(&format!("{field}[")))
                    .map(|e| e.message.clone())
            })
        }
    };
    let toggle = move |event: &'static str, on: bool| {
        events.update(|events| {
            events.retain(|e| e != event);
            if on {
                events.push(event.to_owned());
            }
        })
    };
    let secret_text = Signal::derive(move || {
        secret.with(|s| s.as_ref().map(|s| s.secret.clone()).unwrap_or_default())
    });
    let close_secret = move |_| secret.set(None);

    view! {
        <form class="new-webhook" on:submit=submit novalidate>
            <h3>"Add a webhook"</h3>
            <div class="field">
                <label for="webhook-url">"URL"</label>
                <input id="webhook-url" name="url" type="url" placeholder="https://example.com/converra-events"
                    autocomplete="off" spellcheck="false" bind:value=url
                    aria-invalid=move || error_of("url")().is_some().to_string()
                    aria-describedby="webhook-url-error"/>
                {move || error_of("url")().map(|m| view! { <p class="field-error" id="webhook-url-error">{m}</p> })}
            </div>
            <div class="field">
                <label for="webhook-description">"Description (optional)"</label>
                <input id="webhook-description" name="description" type="text" bind:value=description/>
            </div>
            <fieldset class="events" aria-describedby="webhook-events-error">
                <legend>"Events"</legend>
                <div class="event-choices">
                    {WEBHOOK_EVENTS.iter().enumerate().map(|(i, event)| {
                        let id = format!("webhook-event-{i}");
                        let event: &'static str = event;
                        view! {
                            <div class="field check">
                                <input type="checkbox" id=id.clone() value=event
                                    prop:checked=move || events.with(|e| e.iter().any(|x| x == event))
                                    on:change=move |ev| toggle(event, event_target_checked(&ev))/>
                                <label for=id><code>{event}</code></label>
                            </div>
                        }
                    }).collect_view()}
                </div>
                {move || error_of("events")().map(|m| view! { <p class="field-error" id="webhook-events-error">{m}</p> })}
            </fieldset>
            <button type="submit" disabled=move || create.pending().get()>
                {move || if create.pending().get() { "Adding…" } else { "Add webhook" }}
            </button>
            {move || server_error.get().map(|error| view! { <ErrorPanel error=error/> })}
        </form>
        <Dialog open=Signal::derive(move || secret.with(Option::is_some)) title="Webhook added: copy its secret"
            on_close=close_secret class="secret-dialog">
            <p>
                "Each delivery is signed with this secret ("<code>"X-Converra-Signature"</code>
                "). Store it now with the receiver: "<strong>"it will not be shown again."</strong>
            </p>
            <p class="secret-line">
                <code class="secret" data-testid="webhook-secret">{move || secret_text.get()}</code>
            </p>
            <div class="dialog-actions">
                <CopyButton text=secret_text label="Copy secret"/>
                <button type="button" autofocus=true on:click=move |_| secret.set(None)>"I have stored it"</button>
            </div>
        </Dialog>
    }
}
