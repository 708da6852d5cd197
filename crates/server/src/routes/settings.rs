//! `GET /settings` and `PATCH /settings` (a deep merge into the stored document).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use converra_api::settings::{Settings, SettingsPatch, SettingsUpdated};
use converra_api::{Data, FieldError};
use serde_json::{Map, Value};

use crate::auth::Caller;
use crate::egress::{check_url_literal, Destination};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::store::settings::{load_settings, save_settings, ApiKeyChange};
use crate::store::sql::lock_named;

pub fn router() -> Router<AppState> {
    Router::new().route("/settings", get(get_settings).patch(update_settings))
}

/// The account's settings; defaults for anything never set. `llm.apiKey` is never shown.
#[utoipa::path(get, path = "/settings", tag = "settings",
    responses((status = 200, body = Data<Settings>), (status = 401, body = converra_api::ErrorBody)))]
pub async fn get_settings(
    State(state): State<AppState>,
    Caller(account): Caller,
) -> ApiResult<Json<Data<Settings>>> {
    Ok(Json(Data::new(state.store.settings(&account.id).await?)))
}

/// Deep-merges the body into the settings: absent fields stay, `null` restores a field's
/// default, unknown fields and values out of range are refused with their paths. A change
/// of `llm.baseUrl` drops the saved `llm.apiKey` unless the same patch sets one.
#[utoipa::path(patch, path = "/settings", tag = "settings", request_body = SettingsPatch,
    responses((status = 200, body = SettingsUpdated), (status = 400, body = converra_api::ErrorBody),
        (status = 415, body = converra_api::ErrorBody)))]
pub async fn update_settings(
    State(state): State<AppState>,
    Caller(account): Caller,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<SettingsUpdated>> {
    let (patch, mut api_key) = validate_patch(body)?;
    let now = state.clock.now_ms();
    // Read, merge and write in one transaction holding the account's settings lock, so
    // concurrent patches both land.
    let mut tx = state.store.begin_write().await?;
    lock_named(&mut tx, &format!("settings:{}", account.id)).await?;
    let current = load_settings(&mut tx, &account.id).await?;
    let merged = merge_settings(&current, patch, state.config.allow_private_network)?;
    if merged.llm.base_url != current.llm.base_url && api_key == ApiKeyChange::Keep {
        // The key was given for the old endpoint: sending it to a new one would hand it to
        // whoever runs that host.
        api_key = ApiKeyChange::Clear;
    }
    let saved = save_settings(&mut tx, &account.id, &merged, &api_key, now).await?;
    tx.commit().await?;
    Ok(Json(SettingsUpdated::new(saved)))
}

/// Checks the patch's shape against [`SettingsPatch`] (unknown fields, wrong types) and takes
/// `llm.apiKey` out of it, since the key is not part of the stored document.
fn validate_patch(body: Value) -> ApiResult<(Map<String, Value>, ApiKeyChange)> {
    let Value::Object(mut patch) = body else {
        return Err(ApiError::invalid_field("body", "must be a JSON object"));
    };
    deserialize_at_path::<SettingsPatch>(Value::Object(patch.clone()))?;
    let defaults = serde_json::to_value(Settings::default()).map_err(anyhow::Error::from)?;
    sections_are_objects(&patch, &defaults, "")?;
    let mut api_key = ApiKeyChange::Keep;
    if patch.get("llm").is_some_and(Value::is_null) {
        // The whole section back to its defaults, which have no key.
        api_key = ApiKeyChange::Clear;
    }
    if let Some(Value::Object(llm)) = patch.get_mut("llm") {
        match llm.remove("apiKey") {
            None => {}
            Some(Value::String(key)) if !key.trim().is_empty() => {
                let key = key.trim();
                if key.chars().count() > 1_000 || key.chars().any(char::is_control) {
                    return Err(ApiError::invalid_field(
                        "llm.apiKey",
                        "must be at most 1000 characters, without control characters",
                    ));
                }
                api_key = ApiKeyChange::Set(key.to_owned());
            }
            // `null` or an empty string: the shape check let nothing else through.
            Some(_) => api_key = ApiKeyChange::Clear,
        }
    }
    Ok((patch, api_key))
}

/// 400 unless every section of the patch (a key whose default value is an object) is an
/// object or `null`: serde would also read a struct from an array, by position, and the
/// merge would then replace the whole section with it.
fn sections_are_objects(patch: &Map<String, Value>, defaults: &Value, at: &str) -> ApiResult<()> {
    for (key, value) in patch {
        let Some(default @ Value::Object(_)) = defaults.get(key) else {
            continue;
        };
        let path = if at.is_empty() {
            key.clone()
        } else {
            format!("{at}.{key}")
        };
        match value {
            Value::Object(section) => sections_are_objects(section, default, &path)?,
            Value::Null => {}
            _ => return Err(ApiError::invalid_field(path, "must be an object or null")),
        }
    }
    Ok(())
}

/// `current` with `patch` merged in (RFC 7396), then normalized and range-checked. A new
/// `llm.baseUrl` must not point at an internal address unless `allow_private_network`.
fn merge_settings(
    current: &Settings,
    patch: Map<String, Value>,
    allow_private_network: bool,
) -> ApiResult<Settings> {
    let mut document = serde_json::to_value(current).map_err(anyhow::Error::from)?;
    merge_patch(&mut document, Value::Object(patch));
    let mut merged: Settings = deserialize_at_path(document)?;
    merged.llm.has_api_key = current.llm.has_api_key;
    // A URL saved under a laxer policy is refused at call time instead, so that it does not
    // block every other change.
    let unchanged_url =
        merged.llm.base_url.is_some() && merged.llm.base_url == current.llm.base_url;
    normalize_and_check(&mut merged, allow_private_network || unchanged_url)?;
    Ok(merged)
}

/// JSON Merge Patch: objects merge key by key, `null` removes (so the default returns),
/// anything else replaces.
fn merge_patch(target: &mut Value, patch: Value) {
    let Value::Object(patch) = patch else {
        *target = patch;
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(target) = target {
        for (key, value) in patch {
            if value.is_null() {
                target.remove(&key);
            } else {
                merge_patch(target.entry(key).or_insert(Value::Null), value);
            }
        }
    }
}

fn deserialize_at_path<T: serde::de::DeserializeOwned>(value: Value) -> ApiResult<T> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let field = if path == "." { "body".to_owned() } else { path };
        ApiError::invalid_field(field, err.inner().to_string())
    })
}

/// Field errors of a settings document, each named by its path.
#[derive(Default)]
struct SettingsChecks(Vec<FieldError>);

impl SettingsChecks {
    fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.to_owned(),
            message: message.into(),
        });
    }

    fn range(&mut self, field: &str, value: u32, (min, max): (u32, u32)) {
        if !(min..=max).contains(&value) {
            self.fail(field, format!("must be between {min} and {max}"));
        }
    }

    /// Trims an optional text; an empty one becomes `null`. Its length counts as sent
    /// (the schema's `maxLength`).
    fn optional_text(&mut self, field: &str, value: &mut Option<String>, max: usize) {
        if let Some(text) = value.take() {
            if text.chars().count() > max {
                self.fail(field, format!("must be at most {max} characters"));
            }
            let text = text.trim();
            *value = Some(text.to_owned()).filter(|t| !t.is_empty());
        }
    }

    fn required_text(&mut self, field: &str, value: &mut String, max: usize) {
        let sent_chars = value.chars().count();
        *value = value.trim().to_owned();
        if value.is_empty() {
            self.fail(field, "must not be empty");
        } else if sent_chars > max {
            self.fail(field, format!("must be at most {max} characters"));
        }
    }
}

/// The most one conversation may be worth, in the account's currency.
const MAX_VALUE_PER_CONVERSATION: f64 = 1_000_000_000.0;

fn normalize_and_check(settings: &mut Settings, allow_private_network: bool) -> ApiResult<()> {
    use converra_api::settings::{OptimizationSettings as O, SimulationSettings as S};
    let mut checks = SettingsChecks::default();
    let general = &mut settings.general;
    checks.optional_text("general.name", &mut general.name, 200);
    checks.optional_text("general.industry", &mut general.industry, 200);
    checks.required_text("general.preferredLLM", &mut general.preferred_llm, 100);
    checks.optional_text("general.objectives", &mut general.objectives, 10_000);
    checks.optional_text("general.kpis", &mut general.kpis, 10_000);
    checks.optional_text(
        "general.insightRequirements",
        &mut general.insight_requirements,
        10_000,
    );
    checks.optional_text(
        "general.excludedDataAndTopics",
        &mut general.excluded_data_and_topics,
        10_000,
    );

    let optimization = &mut settings.optimization;
    checks.optional_text(
        "optimization.optimizationStrategy",
        &mut optimization.optimization_strategy,
        2_000,
    );
    checks.range(
        "optimization.variantsPerGeneration",
        optimization.variants_per_generation,
        O::VARIANTS_PER_GENERATION,
    );
    checks.range(
        "optimization.maxIterations",
        optimization.max_iterations,
        O::MAX_ITERATIONS,
    );
    let simulation = &optimization.simulation;
    checks.range(
        "optimization.simulation.personaCount",
        simulation.persona_count,
        S::PERSONA_COUNT,
    );
    checks.range(
        "optimization.simulation.scenariosPerSimulation",
        simulation.scenarios_per_simulation,
        S::SCENARIOS_PER_SIMULATION,
    );
    checks.range(
        "optimization.simulation.maxTurns",
        simulation.max_turns,
        S::MAX_TURNS,
    );
    let (min, max) = S::USER_TEMPERATURE;
    if !(min..=max).contains(&simulation.user_temperature) {
        checks.fail(
            "optimization.simulation.userTemperature",
            format!("must be a number between {min} and {max}"),
        );
    }

    let llm = &mut settings.llm;
    checks.optional_text("llm.baseUrl", &mut llm.base_url, 2_000);
    if let Some(base_url) = &llm.base_url {
        let checked =
            check_url_literal(base_url, Destination::ModelEndpoint, allow_private_network);
        if let Err(why) = checked {
            checks.fail("llm.baseUrl", why);
        }
    }
    checks.optional_text("llm.model", &mut llm.model, 200);
    checks.optional_text("llm.judgeModel", &mut llm.judge_model, 200);

    let impact = &mut settings.business_impact;
    if let Some(value) = impact.value_per_conversation {
        // Bounded, so that the revenue at risk (it times the failed conversations) stays a
        // finite number.
        if !(0.0..=MAX_VALUE_PER_CONVERSATION).contains(&value) {
            checks.fail(
                "businessImpact.valuePerConversation",
                "must be a number from 0 to 1000000000",
            );
        }
    }
    impact.currency = impact.currency.trim().to_ascii_uppercase();
    if impact.currency.len() != 3 || !impact.currency.chars().all(|c| c.is_ascii_uppercase()) {
        checks.fail(
            "businessImpact.currency",
            "must be a three-letter ISO 4217 code such as USD",
        );
    }

    if checks.0.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(checks.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_merges_objects_and_null_removes() {
        let mut doc = json!({"a": {"b": 1, "c": 2}, "d": 3});
        merge_patch(&mut doc, json!({"a": {"b": null, "e": 4}, "d": [1]}));
        assert_eq!(doc, json!({"a": {"c": 2, "e": 4}, "d": [1]}));
    }

    #[test]
    fn null_restores_a_default_and_ranges_are_checked() {
        let mut current = Settings::default();
        current.optimization.variants_per_generation = 5;
        let merged = merge_settings(
            &current,
            json!({"optimization": {"variantsPerGeneration": null}})
                .as_object()
                .cloned()
                .unwrap(),
            false,
        )
        .unwrap();
        assert_eq!(merged.optimization.variants_per_generation, 3);
        let err = merge_settings(
            &current,
            json!({"optimization": {"simulation": {"maxTurns": 1}}})
                .as_object()
                .cloned()
                .unwrap(),
            false,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("optimization.simulation.maxTurns"),
            "{err}"
        );
    }

    #[test]
    fn the_user_temperature_is_held_to_0_through_2() {
        let patch = |t: Value| {
            json!({"optimization": {"simulation": {"userTemperature": t}}})
                .as_object()
                .cloned()
                .unwrap()
        };
        let current = Settings::default();
        let merged = merge_settings(&current, patch(json!(2)), false).unwrap();
        assert_eq!(merged.optimization.simulation.user_temperature, 2.0);
        for bad in [json!(-0.1), json!(2.5)] {
            let err = merge_settings(&current, patch(bad), false).unwrap_err();
            assert!(
                err.to_string()
                    .contains("optimization.simulation.userTemperature"),
                "{err}"
            );
        }
    }
}
