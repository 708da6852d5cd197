//! The settings form's checks (the spec's ranges), the patch it sends (only what changed),
//! and how a refusal from the server reads.
#![cfg(target_arch = "wasm32")]

use converra_api::settings::Settings;
use converra_api::{ErrorCode, FieldError};
use converra_dashboard::api::ClientError;
use converra_dashboard::components::error_panel::ErrorPanel;
use converra_dashboard::pages::settings::model::{
    settings_patch, validate_settings_form, SettingsForm,
};
use converra_dashboard::pages::settings::webhooks::validate_new_webhook;
use leptos::prelude::*;
use serde_json::json;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

fn defaults() -> SettingsForm {
    SettingsForm::from_settings(&Settings::default())
}

fn fields(form: &SettingsForm) -> Vec<String> {
    validate_settings_form(form)
        .into_iter()
        .map(|e| e.field)
        .collect()
}

#[wasm_bindgen_test]
fn the_defaults_are_valid() {
    assert_eq!(fields(&defaults()), Vec::<String>::new());
}

#[wasm_bindgen_test]
fn numbers_must_be_whole_and_inside_the_spec_ranges() {
    let cases = [
        ("optimization.variantsPerGeneration", "0", "6", "5"),
        ("optimization.maxIterations", "0", "101", "100"),
        ("optimization.simulation.personaCount", "0", "21", "20"),
        (
            "optimization.simulation.scenariosPerSimulation",
            "0",
            "11",
            "1",
        ),
        ("optimization.simulation.maxTurns", "1", "31", "2"),
    ];
    for (field, too_low, too_high, fine) in cases {
        for (value, valid) in [
            (too_low, false),
            (too_high, false),
            ("2.5", false),
            ("", false),
            (fine, true),
        ] {
            let mut form = defaults();
            let slot = match field {
                "optimization.variantsPerGeneration" => &mut form.variants_per_generation,
                "optimization.maxIterations" => &mut form.max_iterations,
                "optimization.simulation.personaCount" => &mut form.persona_count,
                "optimization.simulation.scenariosPerSimulation" => {
                    &mut form.scenarios_per_simulation
                }
                _ => &mut form.max_turns,
            };
            *slot = value.to_owned();
            let found = fields(&form);
            assert_eq!(found.is_empty(), valid, "{field} = {value:?}: {found:?}");
            if !valid {
                assert_eq!(found, [field]);
            }
        }
    }
    let mut form = defaults();
    form.max_turns = "40".into();
    assert_eq!(
        validate_settings_form(&form)[0].message,
        "Enter a whole number from 2 to 30."
    );
}

#[wasm_bindgen_test]
fn texts_urls_currency_and_value_are_checked() {
    let mut form = defaults();
    form.preferred_llm = "  ".into();
    form.name = "x".repeat(201);
    form.llm_base_url = "ftp://models.example".into();
    form.currency = "US".into();
    form.value_per_conversation = "-3".into();
    assert_eq!(
        fields(&form),
        [
            "general.preferredLLM",
            "general.name",
            "llm.baseUrl",
            "businessImpact.valuePerConversation",
            "businessImpact.currency"
        ]
    );

    let mut form = defaults();
    form.llm_base_url = "https://api.openai.com/v1".into();
    form.currency = "eur".into();
    form.value_per_conversation = "12.50".into();
    form.optimization_strategy = "Small, careful steps.".into();
    assert!(fields(&form).is_empty());
}

#[wasm_bindgen_test]
fn an_unchanged_form_sends_nothing() {
    let saved = Settings::default();
    assert!(settings_patch(&saved, &SettingsForm::from_settings(&saved)).is_empty());
}

#[wasm_bindgen_test]
fn the_patch_holds_only_the_changed_fields() {
    let mut saved = Settings::default();
    saved.general.name = Some("Acme".into());
    saved.business_impact.value_per_conversation = Some(12.5);
    let mut form = SettingsForm::from_settings(&saved);
    form.persona_count = "8".into();
    form.confidence_mode = "strict".into();
    form.auto_generate_insights = false;
    form.name = "  ".into();
    form.value_per_conversation = String::new();
    form.currency = "eur".into();
    let patch = serde_json::Value::Object(settings_patch(&saved, &form));
    assert_eq!(
        patch,
        json!({
            "general": {"name": ""},
            "optimization": {"simulation": {"personaCount": 8, "confidenceMode": "strict"}},
            "insights": {"autoGenerate": false},
            "businessImpact": {"valuePerConversation": null, "currency": "EUR"}
        })
    );
}

#[wasm_bindgen_test]
fn the_model_key_is_sent_only_when_replaced_or_removed() {
    let mut saved = Settings::default();
    saved.llm.has_api_key = true;
    let mut form = SettingsForm::from_settings(&saved);
    assert!(form.llm_api_key.is_empty());
    form.llm_api_key = " sk-new ".into();
    assert_eq!(
        serde_json::Value::Object(settings_patch(&saved, &form)),
        json!({"llm": {"apiKey": "sk-new"}})
    );
    form.remove_llm_api_key = true;
    assert_eq!(
        serde_json::Value::Object(settings_patch(&saved, &form)),
        json!({"llm": {"apiKey": null}})
    );
}

#[wasm_bindgen_test]
fn the_judge_structured_replies_and_user_temperature_are_checked_and_sent() {
    let saved = Settings::default();
    let mut form = SettingsForm::from_settings(&saved);
    assert_eq!(form.user_temperature, "0.7");
    assert_eq!(form.llm_structured_outputs, "auto");
    for bad in ["-0.1", "2.5", "warm", ""] {
        form.user_temperature = bad.into();
        assert_eq!(
            fields(&form),
            vec!["optimization.simulation.userTemperature".to_owned()],
            "{bad}"
        );
    }
    form.user_temperature = "1.2".into();
    form.llm_judge_model = " gpt-4.1 ".into();
    form.llm_structured_outputs = "json_object".into();
    assert!(fields(&form).is_empty());
    assert_eq!(
        serde_json::Value::Object(settings_patch(&saved, &form)),
        json!({
            "optimization": {"simulation": {"userTemperature": 1.2}},
            "llm": {"judgeModel": "gpt-4.1", "structuredOutputs": "json_object"}
        })
    );
    form.llm_structured_outputs = "yaml".into();
    assert_eq!(fields(&form), vec!["llm.structuredOutputs".to_owned()]);
}

fn validation_error(message: &str) -> ClientError {
    ClientError {
        status: 400,
        code: ErrorCode::ValidationError,
        message: message.to_owned(),
        retry_after: None,
        fields: Vec::new(),
    }
}

#[wasm_bindgen_test]
fn a_server_refusal_naming_a_field_lands_on_that_field() {
    let errors = validation_error("optimization.simulation.maxTurns: must be between 2 and 30")
        .field_errors();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, "optimization.simulation.maxTurns");
    assert_eq!(errors[0].message, "Must be between 2 and 30.");
    // A count alone, or another code: nothing to place; the panel shows the message.
    assert!(validation_error("3 fields are invalid")
        .field_errors()
        .is_empty());
    let mut conflict = validation_error("url: taken");
    conflict.code = ErrorCode::Conflict;
    assert!(conflict.field_errors().is_empty());
}

#[wasm_bindgen_test]
fn every_field_of_a_many_field_refusal_lands_on_its_field() {
    let mut error = validation_error("2 fields are invalid");
    error.fields = vec![
        FieldError {
            field: "llm.baseUrl".to_owned(),
            message: "must be an http(s) URL".to_owned(),
        },
        FieldError {
            field: "businessImpact.currency".to_owned(),
            message: "must be a 3-letter code.".to_owned(),
        },
    ];
    let errors = error.field_errors();
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0].message, "Must be an http(s) URL.");
    assert_eq!(errors[1].field, "businessImpact.currency");
    assert_eq!(errors[1].message, "Must be a 3-letter code.");
}

#[wasm_bindgen_test]
fn a_new_webhook_needs_an_https_url_and_an_event() {
    let events = vec!["conversation.created".to_owned()];
    assert!(validate_new_webhook("https://hooks.example.com/x", &events).is_empty());
    let fields: Vec<_> = validate_new_webhook("http://hooks.example.com", &[])
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(fields, ["url", "events"]);
    assert_eq!(validate_new_webhook("", &events)[0].field, "url");
}

#[wasm_bindgen_test]
async fn the_error_panel_shows_the_code_the_status_and_the_message() {
    let document = document();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    let error = validation_error("optimization.maxIterations: must be between 1 and 100");
    let handle = leptos::mount::mount_to(
        host.clone(),
        move || view! { <ErrorPanel error=error.clone()/> },
    );
    handle.forget();
    leptos::task::tick().await;
    let panel = host.query_selector("[role=alert]").unwrap().unwrap();
    let text = |selector: &str| {
        panel
            .query_selector(selector)
            .unwrap()
            .and_then(|e| e.text_content())
    };
    assert_eq!(text(".error-code").as_deref(), Some("VALIDATION_ERROR"));
    assert_eq!(text(".error-status").as_deref(), Some("HTTP 400"));
    assert_eq!(
        text(".error-message").as_deref(),
        Some("optimization.maxIterations: must be between 1 and 100")
    );
}

#[wasm_bindgen_test]
async fn the_error_panel_lists_every_field_the_server_named() {
    let document = document();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    let mut error = validation_error("2 fields are invalid");
    error.fields = vec![
        FieldError {
            field: "name".to_owned(),
            message: "must not be empty".to_owned(),
        },
        FieldError {
            field: "messages[2].role".to_owned(),
            message: "unknown role".to_owned(),
        },
    ];
    let handle = leptos::mount::mount_to(
        host.clone(),
        move || view! { <ErrorPanel error=error.clone()/> },
    );
    handle.forget();
    leptos::task::tick().await;
    let items: Vec<String> = (0..2)
        .filter_map(|i| {
            host.query_selector_all(".error-fields li")
                .unwrap()
                .item(i)
                .and_then(|n| n.text_content())
        })
        .collect();
    assert_eq!(
        items,
        ["name Must not be empty.", "messages[2].role Unknown role."]
    );
}
