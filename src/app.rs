//! The shell: checks the stored key, then the header and the router.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::{path, Lazy};
use wasm_bindgen::JsCast;

use crate::api::account::get_account;
use crate::api::{show_rate_limit_waits_in, ApiClient};
use crate::components::command_palette::CommandPalette;
use crate::components::error_panel::ErrorPanel;
use crate::components::keyboard::{install_shortcuts, CheatSheet};
use crate::components::theme_toggle::ThemeToggle;
use crate::page_chunks::*;
use crate::pages::agents::AgentsPage;
use crate::pages::sign_in::SignIn;
use crate::session;
use crate::signed_in::{Auth, SignedIn};

#[component]
pub fn App() -> impl IntoView {
    let stored = session::load();
    let auth = RwSignal::new(if stored.is_some() {
        Auth::Checking
    } else {
        Auth::SignedOut(None)
    });
    provide_context(auth);
    if let Some(credentials) = stored {
        spawn_local(async move {
            let client = ApiClient::new(credentials);
            auth.set(match get_account(&client).await {
                Ok(account) => Auth::SignedIn(SignedIn { client, account }),
                Err(err) => Auth::SignedOut(Some(err)),
            });
        });
    }
    let on_signed_in =
        Callback::new(move |signed_in: SignedIn| auth.set(Auth::SignedIn(signed_in)));

    view! {
        <Router>
            {move || match auth.get() {
                Auth::Checking => view! { <p class="placeholder" role="status">"Checking your API key…"</p> }.into_any(),
                Auth::SignedOut(reason) => view! {
                    <main class="first-run">
                        {reason.map(|error| view! {
                            <p class="notice">"Your saved API key was not accepted; sign in again."</p>
                            <ErrorPanel error=error/>
                        })}
                        <SignIn on_signed_in=on_signed_in/>
                    </main>
                }.into_any(),
                Auth::SignedIn(signed_in) => view! { <Shell signed_in=signed_in/> }.into_any(),
            }}
        </Router>
    }
}

/// Header, navigation and the page the URL names.
#[component]
fn Shell(signed_in: SignedIn) -> impl IntoView {
    let auth = expect_context::<RwSignal<Auth>>();
    let sign_out = move |_| {
        session::forget_key();
        auth.set(Auth::SignedOut(None));
    };
    let account = signed_in.account;
    let rate_limit_wait = RwSignal::new(None::<u64>);
    show_rate_limit_waits_in(rate_limit_wait);
    let palette_open = RwSignal::new(false);
    let cheat_sheet_open = RwSignal::new(false);
    install_shortcuts(palette_open, cheat_sheet_open);
    let menu_open = RwSignal::new(false);
    // The phone menu closes once a link in it is followed, or a tool in it opened.
    let close_menu_after = move |ev: leptos::ev::MouseEvent| {
        let followed = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| {
                el.closest("a, .palette-button, .shortcuts-button")
                    .ok()
                    .flatten()
            })
            .is_some();
        if followed {
            menu_open.set(false);
        }
    };
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="top-bar" class:menu-open=move || menu_open.get()>
            <A href="/" attr:class="brand">"Converra"</A>
            <div class="who" data-testid="account-badge">
                // The name may be cut short to keep the bar one row; the whole of it on hover.
                // Labelled, so the account never reads as an agent of the same name.
                <span class="account-label">"Account"</span>
                <span class="account-name" title=format!("Signed in to {}", account.name)>{account.name.clone()}</span>
                <span class="plan-badge">{account.plan.name.clone()}</span>
            </div>
            // Only on a phone, where the links and tools fold behind it.
            <button type="button" class="secondary menu-button" aria-controls="top-bar-menu"
                aria-expanded=move || menu_open.get().to_string()
                on:click=move |_| menu_open.update(|open| *open = !*open)>
                {move || if menu_open.get() { "Close menu" } else { "Menu" }}
            </button>
            <div class="top-bar-menu" id="top-bar-menu" on:click=close_menu_after>
                <nav aria-label="Main">
                    <A href="/agents">"Agents"</A>
                    <A href="/conversations">"Conversations"</A>
                    <A href="/optimizations">"Optimizations"</A>
                    <A href="/fleet">"Fleet"</A>
                    <A href="/benchmarks">"Benchmarks"</A>
                    <A href="/usage">"Usage"</A>
                    <A href="/settings">"Settings"</A>
                </nav>
                <div class="top-bar-tools">
                    <button type="button" class="secondary palette-button" aria-keyshortcuts="Control+K"
                        title="Go to any page, agent or conversation (Ctrl+K)"
                        on:click=move |_| palette_open.set(true)>"Go to…"<kbd>"Ctrl K"</kbd></button>
                    <button type="button" class="secondary shortcuts-button" aria-keyshortcuts="?"
                        title="Keyboard shortcuts (?)" aria-label="Keyboard shortcuts"
                        on:click=move |_| cheat_sheet_open.set(true)>"?"</button>
                    <ThemeToggle/>
                    <button type="button" class="secondary" on:click=sign_out>"Sign out"</button>
                </div>
            </div>
        </header>
        {move || rate_limit_wait.get().map(|seconds| view! {
            <p class="notice rate-limit-notice" role="status">
                {format!("The API's rate limit was reached; retrying in {seconds} s.")}
            </p>
        })}
        <CommandPalette open=palette_open/>
        <CheatSheet open=cheat_sheet_open/>
        <main class="page" id="main">
            <Routes fallback=|| view! { <h1>"Page not found"</h1><p><A href="/agents">"Back to the agents"</A></p> }>
                <Route path=path!("/") view=AgentsPage/>
                <Route path=path!("/agents") view=AgentsPage/>
                <Route path=path!("/agents/:id") view={Lazy::<AgentRoute>::new()}/>
                <Route path=path!("/agents/:id/insights") view={Lazy::<AgentInsightsRoute>::new()}/>
                <Route path=path!("/agents/:id/step-failures") view={Lazy::<StepFailuresRoute>::new()}/>
                <Route path=path!("/fleet") view={Lazy::<FleetRoute>::new()}/>
                <Route path=path!("/optimizations") view={Lazy::<OptimizationsRoute>::new()}/>
                <Route path=path!("/optimizations/new") view={Lazy::<OptimizationNewRoute>::new()}/>
                <Route path=path!("/optimizations/:id") view={Lazy::<OptimizationRoute>::new()}/>
                <Route path=path!("/benchmarks") view={Lazy::<BenchmarksRoute>::new()}/>
                <Route path=path!("/benchmarks/new") view={Lazy::<BenchmarkNewRoute>::new()}/>
                <Route path=path!("/benchmarks/:id") view={Lazy::<BenchmarkRoute>::new()}/>
                <Route path=path!("/conversations") view={Lazy::<ConversationsRoute>::new()}/>
                <Route path=path!("/conversations/:id") view={Lazy::<ConversationRoute>::new()}/>
                <Route path=path!("/usage") view={Lazy::<UsageRoute>::new()}/>
                <Route path=path!("/settings") view={Lazy::<SettingsRoute>::new()}/>
                <Route path=path!("/webhooks/:id") view={Lazy::<WebhookRoute>::new()}/>
            </Routes>
        </main>
    }
}
