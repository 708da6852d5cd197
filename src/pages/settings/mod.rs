//! `/settings`: the account and its plan, this browser's connection (API base URL and a
//! masked key, with "Forget this key"), how to connect an agent through OpenTelemetry, the
//! server's settings form, and the webhooks.

use converra_api::Account;
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::ApiClient;
use crate::components::confirm::ConfirmDialog;
use crate::components::page_title::use_page_title;
use crate::format::{self, thousands};
use crate::session;
use crate::signed_in::{use_signed_in, Auth};
use crate::snippets::absolute_base_url;

pub mod connect_agent;
mod general;
pub mod model;
pub mod webhooks;

use connect_agent::ConnectAgentSection;
use general::SettingsSection;
use webhooks::WebhooksSection;

#[component]
pub fn SettingsPage() -> impl IntoView {
    use_page_title(|| "Settings".to_owned());
    let Some(signed_in) = use_signed_in().get_untracked() else {
        return ().into_any();
    };
    let client = signed_in.client;
    view! {
        <div class="settings-page">
            <h1>"Settings"</h1>
            <AccountSection account=signed_in.account/>
            <ConnectionSection client=client.clone()/>
            <ConnectAgentSection
                api_base_url=absolute_base_url(&client.credentials().base_url, &session::page_origin())
                api_key=client.credentials().api_key.clone()/>
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
                <caption class="visually-hidden">"What this account may use"</caption>
                <tbody>
                    <tr><th scope="row">"Agents"</th><td>{thousands(u64::from(limits.agents))}</td></tr>
                    <tr><th scope="row">"Conversations"</th><td>{per_month(limits.conversations_per_month)}</td></tr>
                    <tr><th scope="row">"Optimizations"</th><td>{per_month(limits.optimizations_per_month)}</td></tr>
                    <tr><th scope="row">"Optimizations running at once"</th><td>{thousands(u64::from(limits.concurrent_optimizations))}</td></tr>
                    <tr><th scope="row">"API requests"</th><td>{format!("{} a minute", thousands(u64::from(limits.requests_per_minute)))}</td></tr>
                    <tr><th scope="row">"Tokens"</th><td>{limits.tokens_per_month.map_or_else(|| "No limit".to_owned(), |n| format!("{} a month", thousands(n)))}</td></tr>
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
