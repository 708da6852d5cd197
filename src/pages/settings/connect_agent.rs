//! "Connect your agent": where an OpenTelemetry exporter sends an agent's traces, the
//! environment variables that point it there, and a short Python example.

use leptos::prelude::*;

use crate::components::copy_button::CopyButton;
use crate::format;
use crate::snippets::{exporter_environment, otlp_endpoint, OTEL_PYTHON_SNIPPET};

#[component]
pub fn ConnectAgentSection(api_base_url: String, api_key: String) -> impl IntoView {
    let endpoint = otlp_endpoint(&api_base_url);
    // The page shows the key masked; the copy holds the whole key, ready to paste.
    let shown = exporter_environment(&api_base_url, &format::masked_key(&api_key));
    let copied = exporter_environment(&api_base_url, &api_key);
    view! {
        <section class="card settings-section connect-agent" aria-labelledby="connect-agent-title">
            <h2 id="connect-agent-title">"Connect your agent"</h2>
            <p class="hint">
                "Any agent that emits OpenTelemetry (the GenAI semantic conventions, OpenLLMetry or OpenInference) "
                "can log its conversations here without the SDK: point its OTLP/HTTP exporter at this server."
            </p>
            <dl class="facts">
                <dt>"OTLP endpoint"</dt><dd><code data-testid="otlp-endpoint">{endpoint}</code></dd>
            </dl>
            <h3>"Environment variables"</h3>
            <pre class="env-vars" data-testid="otel-env" tabindex="0">{shown}</pre>
            <CopyButton text=Signal::stored(copied) label="Copy variables (with the full key)"/>
            <h3>"Python"</h3>
            <pre class="snippet" data-testid="otel-python" tabindex="0">{OTEL_PYTHON_SNIPPET}</pre>
            <CopyButton text=Signal::stored(OTEL_PYTHON_SNIPPET.to_owned()) label="Copy snippet"/>
        </section>
    }
}
