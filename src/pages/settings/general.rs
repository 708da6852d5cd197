//! The account's server-side settings: the section that loads them and the form that edits
//! them (general, optimization, model, insights and business impact).

use converra_api::settings::{OptimizationSettings, Settings, SimulationSettings};
use converra_api::FieldError;
use leptos::prelude::*;
use serde_json::Value;

use super::model::{settings_patch, validate_settings_form, SettingsForm};
use crate::api::settings::{get_settings, update_settings};
use crate::api::{ApiClient, ClientError};
use crate::components::boundary_errors::BoundaryErrors;
use crate::components::error_panel::ErrorPanel;
use crate::components::form_fields::{focus_by_id, input_id, CheckField, SelectField, TextField};
use crate::components::loading::Loading;

#[component]
pub(super) fn SettingsSection(client: ApiClient) -> impl IntoView {
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
                        <TextField form errors field="optimization.simulation.userTemperature" label="Simulated user's temperature"
                            input_type="number" hint="0 to 2. Above 0, each replicate of a cell meets a differently worded user (with a model)."
                            get=|f| f.user_temperature.clone() set=|f, v| f.user_temperature = v/>
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
                    <TextField form errors field="llm.judgeModel" label="Judge model"
                        hint="The model that scores simulated conversations, blind. Empty: the model above."
                        get=|f| f.llm_judge_model.clone() set=|f, v| f.llm_judge_model = v/>
                    <SelectField form errors field="llm.structuredOutputs" label="Structured replies"
                        hint="How judgements and rewrites are asked for. Automatic tries a strict JSON schema and falls back to a JSON object where the endpoint refuses schemas."
                        options=vec![("auto", "Automatic"), ("json_schema", "JSON schema"), ("json_object", "JSON object")]
                        get=|f| f.llm_structured_outputs.clone() set=|f, v| f.llm_structured_outputs = v/>
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
