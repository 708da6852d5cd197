//! "Connect your agent": the OTLP endpoint and the variables an exporter needs, the key
//! masked on screen, and the Python example.
#![cfg(target_arch = "wasm32")]

use converra_dashboard::pages::settings::connect_agent::ConnectAgentSection;
use converra_dashboard::snippets::{exporter_environment, otlp_endpoint, OTEL_PYTHON_SNIPPET};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

const BASE: &str = "https://converra.example.com/api/v1";
const KEY: &str = "sk_live_abcdefghijklmnopqrstuvwxyz123456";

#[wasm_bindgen_test]
fn the_endpoint_is_the_api_base_plus_otel() {
    assert_eq!(
        otlp_endpoint(BASE),
        "https://converra.example.com/api/v1/otel"
    );
    assert_eq!(
        otlp_endpoint("http://127.0.0.1:8080/api/v1/"),
        "http://127.0.0.1:8080/api/v1/otel"
    );
}

#[wasm_bindgen_test]
fn the_variables_point_an_exporter_at_the_server_with_the_key() {
    let lines: Vec<String> = exporter_environment(BASE, KEY)
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        lines[0],
        "OTEL_EXPORTER_OTLP_ENDPOINT=https://converra.example.com/api/v1/otel"
    );
    assert_eq!(
        lines[1],
        format!("OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20{KEY}")
    );
    assert!(lines.contains(&"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf".to_owned()));
    assert!(lines.iter().all(|line| line
        .split_once('=')
        .is_some_and(|(name, _)| name.chars().all(|c| c.is_ascii_uppercase() || c == '_'))));
}

#[wasm_bindgen_test]
async fn the_section_shows_the_endpoint_the_masked_key_and_the_snippet() {
    let document = document();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    let handle = leptos::mount::mount_to(host.clone(), || {
        view! { <ConnectAgentSection api_base_url=BASE.to_owned() api_key=KEY.to_owned()/> }
    });
    leptos::task::tick().await;
    let text_of = |test_id: &str| {
        host.query_selector(&format!("[data-testid='{test_id}']"))
            .unwrap()
            .unwrap_or_else(|| panic!("{test_id} is shown"))
            .text_content()
            .unwrap_or_default()
    };
    assert_eq!(text_of("otlp-endpoint"), otlp_endpoint(BASE));
    let shown = text_of("otel-env");
    assert!(shown.contains("OTEL_EXPORTER_OTLP_ENDPOINT=https://converra.example.com/api/v1/otel"));
    assert!(shown.contains("Bearer%20sk_live_…3456"), "{shown}");
    assert!(
        !host.inner_text().contains(KEY),
        "the whole key is never on screen"
    );
    assert_eq!(text_of("otel-python"), OTEL_PYTHON_SNIPPET);
    let buttons = host.query_selector_all("button").unwrap().length();
    assert_eq!(
        buttons, 2,
        "one copy button each for the variables and the snippet"
    );
    handle.forget();
    host.remove();
}
