//! The first-run screen: an API key and the API base URL, checked with `GET /account`.

use converra_api::FieldError;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::account::get_account;
use crate::api::{ApiClient, ClientError};
use crate::components::error_panel::ErrorPanel;
use crate::components::page_title::use_page_title;
use crate::session::{self, Credentials};
use crate::signed_in::SignedIn;

/// What is wrong with the form, field by field (`apiKey`, `baseUrl`); empty when it can be sent.
pub fn validate_sign_in(api_key: &str, base_url: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut fail = |field: &str, message: &str| {
        errors.push(FieldError {
            field: field.to_owned(),
            message: message.to_owned(),
        })
    };
    let api_key = api_key.trim();
    if api_key.is_empty() {
        fail("apiKey", "Enter your API key.");
    } else if !(api_key.starts_with("sk_live_") || api_key.starts_with("sk_test_")) {
        fail("apiKey", "API keys start with sk_live_ or sk_test_.");
    } else if api_key.chars().any(char::is_whitespace) {
        fail("apiKey", "An API key has no spaces in it.");
    }
    let base_url = base_url.trim();
    if base_url.is_empty() {
        fail("baseUrl", "Enter the API base URL.");
    } else if !(base_url.starts_with("http://")
        || base_url.starts_with("https://")
        || base_url.starts_with('/'))
    {
        fail(
            "baseUrl",
            "Enter a URL such as http://127.0.0.1:8080/api/v1.",
        );
    }
    errors
}

#[component]
pub fn SignIn(#[prop(into)] on_signed_in: Callback<SignedIn>) -> impl IntoView {
    use_page_title(|| "Sign in".to_owned());
    let api_key = RwSignal::new(String::new());
    let base_url = RwSignal::new(session::stored_base_url());
    let field_errors = RwSignal::new(Vec::<FieldError>::new());
    let refused = RwSignal::new(None::<ClientError>);
    let checking = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let errors = validate_sign_in(&api_key.get(), &base_url.get());
        let valid = errors.is_empty();
        field_errors.set(errors);
        refused.set(None);
        if !valid {
            return;
        }
        let client = ApiClient::new(Credentials {
            base_url: base_url.get().trim().trim_end_matches('/').to_owned(),
            api_key: api_key.get().trim().to_owned(),
        });
        checking.set(true);
        spawn_local(async move {
            let result = get_account(&client).await;
            checking.set(false);
            match result {
                Ok(account) => {
                    session::save(client.credentials());
                    on_signed_in.run(SignedIn { client, account });
                }
                Err(error) => refused.set(Some(error)),
            }
        });
    };
    let error_for = move |field: &'static str| {
        move || {
            field_errors
                .get()
                .into_iter()
                .find(|e| e.field == field)
                .map(|e| view! { <p class="field-error" id=format!("{field}-error")>{e.message}</p> })
        }
    };
    let invalid = move |field: &'static str| {
        move || {
            field_errors
                .get()
                .iter()
                .any(|e| e.field == field)
                .to_string()
        }
    };

    view! {
        <form class="sign-in card" on:submit=submit novalidate>
            <h1>"Connect to Converra"</h1>
            <p class="hint">"Paste an API key. It stays in this browser's storage and is sent only to the API base URL."</p>
            <label for="apiKey">"API key"</label>
            <input id="apiKey" name="apiKey" type="password" autocomplete="off" spellcheck="false"
                placeholder="sk_live_…" bind:value=api_key
                aria-invalid=invalid("apiKey") aria-describedby="apiKey-error"/>
            {error_for("apiKey")}
            <label for="baseUrl">"API base URL"</label>
            <input id="baseUrl" name="baseUrl" type="text" spellcheck="false" bind:value=base_url
                aria-invalid=invalid("baseUrl") aria-describedby="baseUrl-error"/>
            {error_for("baseUrl")}
            <button type="submit" disabled=move || checking.get()>
                {move || if checking.get() { "Checking…" } else { "Sign in" }}
            </button>
            {move || refused.get().map(|error| view! { <ErrorPanel error=error/> })}
        </form>
    }
}
