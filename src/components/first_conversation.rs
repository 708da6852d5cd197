//! "Send your first conversation": what an empty account shows, so that its first step is
//! a paste away. The SDK, curl and OpenTelemetry, each filled in with this server's API
//! base URL; the key is masked on screen and whole in what is copied.

use leptos::prelude::*;

use crate::components::copy_button::CopyButton;
use crate::format;
use crate::snippets::{curl_snippet, exporter_environment, sdk_snippet};

/// One way to send a conversation: its name, the text shown, and the text copied.
struct Way {
    name: &'static str,
    shown: String,
    copied: String,
}

fn ways(api_base_url: &str, api_key: &str) -> [Way; 3] {
    let masked = format::masked_key(api_key);
    [
        Way {
            name: "Python SDK",
            shown: sdk_snippet(api_base_url, &masked),
            copied: sdk_snippet(api_base_url, api_key),
        },
        Way {
            name: "curl",
            shown: curl_snippet(api_base_url, &masked),
            copied: curl_snippet(api_base_url, api_key),
        },
        Way {
            name: "OpenTelemetry",
            shown: exporter_environment(api_base_url, &masked),
            copied: exporter_environment(api_base_url, api_key),
        },
    ]
}

/// `api_base_url` must be absolute: a program outside the browser reads it.
#[component]
pub fn FirstConversation(api_base_url: String, api_key: String) -> impl IntoView {
    view! {
        <section class="card first-conversation" aria-labelledby="first-conversation-title">
            <h2 id="first-conversation-title">"Send your first conversation"</h2>
            <p class="hint">
                "Log one conversation from your agent, in any of these three ways. Its agent is "
                "created from the name and the system prompt, and insights follow within seconds."
            </p>
            {ways(&api_base_url, &api_key).into_iter().map(|way| {
                let testid = format!("snippet-{}", way.name.to_lowercase().replace(' ', "-"));
                view! {
                    <h3>{way.name}</h3>
                    <pre class="snippet" data-testid=testid tabindex="0">{way.shown}</pre>
                    <CopyButton text=Signal::stored(way.copied) label=format!("Copy {} (with the full key)", way.name)/>
                }
            }).collect_view()}
            <p class="hint">
                "The exporter variables work with any agent that emits OpenTelemetry; "
                <a href="/settings">"Settings"</a>" has an instrumented Python example."
            </p>
        </section>
    }
}
