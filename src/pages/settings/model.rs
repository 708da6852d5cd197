//! The settings form as data: what its inputs hold, its checks (the server's, said first by
//! the browser) and the patch it sends. Pure, so the browser tests pin it without a page.

use converra_api::settings::{OptimizationSettings, Settings, SimulationSettings};
use converra_api::FieldError;
use serde_json::{json, Map, Value};

use crate::format::thousands;

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
    /// The simulated user's sampling temperature, 0 to 2.
    pub user_temperature: String,
    pub llm_base_url: String,
    pub llm_model: String,
    /// Empty: the judge is `llm_model`.
    pub llm_judge_model: String,
    /// `auto`, `json_schema` or `json_object`.
    pub llm_structured_outputs: String,
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
            user_temperature: simulation.user_temperature.to_string(),
            llm_base_url: text(&settings.llm.base_url),
            llm_model: text(&settings.llm.model),
            llm_judge_model: text(&settings.llm.judge_model),
            llm_structured_outputs: wire_name(settings.llm.structured_outputs),
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
    let texts: [(&str, &str, usize); 10] = [
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
        ("llm.judgeModel", &form.llm_judge_model, 200),
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
    let (low, high) = SimulationSettings::USER_TEMPERATURE;
    if !amount(&form.user_temperature).is_some_and(|t| (low..=high).contains(&t)) {
        fail(
            "optimization.simulation.userTemperature",
            format!("Enter a number from {low} to {high}, such as 0.7."),
        );
    }
    if !["auto", "json_schema", "json_object"].contains(&form.llm_structured_outputs.as_str()) {
        fail(
            "llm.structuredOutputs",
            "Choose automatic, JSON schema or JSON object.".into(),
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
pub(super) fn is_http_url(text: &str) -> bool {
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
    let texts: [(&str, &String, &String); 11] = [
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
        (
            "llm.judgeModel",
            &form.llm_judge_model,
            &before.llm_judge_model,
        ),
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
    let temperature = amount(&form.user_temperature);
    if temperature.is_some() && temperature != amount(&before.user_temperature) {
        set(
            "optimization.simulation.userTemperature",
            temperature.map_or(Value::Null, |t| json!(t)),
        );
    }
    if form.llm_structured_outputs != before.llm_structured_outputs {
        set("llm.structuredOutputs", json!(form.llm_structured_outputs));
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
