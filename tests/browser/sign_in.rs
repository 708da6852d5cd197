//! The sign-in form in a real browser: validation happens before any request is sent.
#![cfg(target_arch = "wasm32")]

use converra_dashboard::pages::sign_in::{validate_sign_in, SignIn};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

fn mount_sign_in() -> web_sys::HtmlElement {
    let document = document();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    let handle = leptos::mount::mount_to(host.clone(), || view! { <SignIn on_signed_in=|_| ()/> });
    // The form stays mounted for the rest of the test.
    handle.forget();
    host
}

fn text_of(host: &web_sys::HtmlElement, selector: &str) -> Option<String> {
    host.query_selector(selector)
        .unwrap()
        .and_then(|e| e.text_content())
}

fn submit(host: &web_sys::HtmlElement) {
    let button: web_sys::HtmlElement = host
        .query_selector("button[type=submit]")
        .unwrap()
        .unwrap()
        .unchecked_into();
    button.click();
}

#[wasm_bindgen_test]
async fn submitting_without_a_key_names_the_field() {
    let host = mount_sign_in();
    submit(&host);
    leptos::task::tick().await;
    assert_eq!(
        text_of(&host, "#apiKey-error").as_deref(),
        Some("Enter your API key.")
    );
    let input = host.query_selector("#apiKey").unwrap().unwrap();
    assert_eq!(input.get_attribute("aria-invalid").as_deref(), Some("true"));
    // Nothing was sent: no server error panel.
    assert!(host.query_selector(".error-panel").unwrap().is_none());
}

#[wasm_bindgen_test]
async fn a_key_of_the_wrong_shape_is_refused_before_any_request() {
    let host = mount_sign_in();
    let input: web_sys::HtmlInputElement = host
        .query_selector("#apiKey")
        .unwrap()
        .unwrap()
        .unchecked_into();
    input.set_value("hunter2");
    input
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    submit(&host);
    leptos::task::tick().await;
    assert_eq!(
        text_of(&host, "#apiKey-error").as_deref(),
        Some("API keys start with sk_live_ or sk_test_.")
    );
}

#[wasm_bindgen_test]
async fn the_base_url_defaults_to_this_origin() {
    let host = mount_sign_in();
    leptos::task::tick().await;
    let input: web_sys::HtmlInputElement = host
        .query_selector("#baseUrl")
        .unwrap()
        .unwrap()
        .unchecked_into();
    let origin = web_sys::window().unwrap().location().origin().unwrap();
    assert_eq!(input.value(), format!("{origin}/api/v1"));
}

#[wasm_bindgen_test]
fn validation_rules() {
    assert!(validate_sign_in("sk_live_abc", "http://127.0.0.1:8080/api/v1").is_empty());
    assert!(validate_sign_in("sk_test_abc", "/api/v1").is_empty());
    let errors = validate_sign_in("", "ftp://x");
    let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["apiKey", "baseUrl"]);
    assert_eq!(
        validate_sign_in("sk_live_a b", "/api/v1")[0].message,
        "An API key has no spaces in it."
    );
}
