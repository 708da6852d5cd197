//! An empty account's "Send your first conversation": the SDK, curl and OpenTelemetry
//! filled in with an absolute API base URL, the key masked on screen.
#![cfg(target_arch = "wasm32")]

use converra_dashboard::components::first_conversation::FirstConversation;
use converra_dashboard::snippets::{absolute_base_url, curl_snippet, sdk_snippet};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

const BASE: &str = "https://converra.example.com/api/v1";
const KEY: &str = "sk_live_abcdefghijklmnopqrstuvwxyz123456";

#[wasm_bindgen_test]
fn a_base_relative_to_the_page_is_joined_to_its_origin() {
    assert_eq!(
        absolute_base_url("/api/v1/", "http://127.0.0.1:8080"),
        "http://127.0.0.1:8080/api/v1"
    );
    assert_eq!(
        absolute_base_url(&format!("{BASE}/"), "http://elsewhere"),
        BASE
    );
}

#[wasm_bindgen_test]
fn the_snippets_name_the_server_and_the_key() {
    let sdk = sdk_snippet(BASE, KEY);
    assert!(sdk.contains(&format!(
        "Converra(api_key=\"{KEY}\", base_url=\"{BASE}\").init()"
    )));
    assert!(sdk.contains("client.send(") && sdk.contains("agent=\"Support Bot\""));
    let curl = curl_snippet(BASE, KEY);
    assert!(curl.starts_with(&format!("curl -X POST {BASE}/conversations")));
    assert!(curl.contains(&format!("'Authorization: Bearer {KEY}'")));
    // The body is JSON once the shell has read the single quotes.
    let body = curl.split_once("-d '").unwrap().1.trim_end_matches('\'');
    let parsed: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(parsed["agentName"], "Support Bot");
    assert_eq!(parsed["messages"].as_array().unwrap().len(), 3);
}

#[wasm_bindgen_test]
async fn the_section_shows_three_ways_with_the_key_masked() {
    let document = document();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    let handle = leptos::mount::mount_to(host.clone(), || {
        view! { <FirstConversation api_base_url=BASE.to_owned() api_key=KEY.to_owned()/> }
    });
    leptos::task::tick().await;
    let text_of = |test_id: &str| {
        host.query_selector(&format!("[data-testid='{test_id}']"))
            .unwrap()
            .unwrap_or_else(|| panic!("{test_id} is shown"))
            .text_content()
            .unwrap_or_default()
    };
    assert!(text_of("snippet-python-sdk").contains(BASE));
    assert!(text_of("snippet-curl").contains("Bearer sk_live_…3456"));
    assert!(text_of("snippet-opentelemetry").contains("/api/v1/otel"));
    assert!(
        !host.inner_text().contains(KEY),
        "the whole key is never on screen"
    );
    assert_eq!(host.query_selector_all("button").unwrap().length(), 3);
    handle.forget();
    host.remove();
}
