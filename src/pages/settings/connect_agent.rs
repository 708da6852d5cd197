//! "Connect your agent": where an OpenTelemetry exporter sends an agent's traces, the
//! environment variables that point it there, and a short Python example.

use leptos::prelude::*;

use crate::components::copy_button::CopyButton;
use crate::format;

/// The base URL OTLP exporters take (`OTEL_EXPORTER_OTLP_ENDPOINT`): they add
/// `/v1/traces` and `/v1/logs` themselves.
pub fn otlp_endpoint(api_base_url: &str) -> String {
    format!("{}/otel", api_base_url.trim_end_matches('/'))
}

/// The environment variables to paste, with `key` as the bearer token. Header values are
/// percent-encoded, as the OTLP exporter specification requires.
pub fn exporter_environment(api_base_url: &str, key: &str) -> String {
    [
        format!(
            "OTEL_EXPORTER_OTLP_ENDPOINT={}",
            otlp_endpoint(api_base_url)
        ),
        format!("OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20{key}"),
        "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf".to_owned(),
        "OTEL_SERVICE_NAME=my-agent".to_owned(),
        // Message content on the spans themselves, in the latest GenAI conventions.
        "OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental".to_owned(),
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=SPAN_ONLY".to_owned(),
    ]
    .join("\n")
}

/// An OpenAI agent instrumented in five lines; the exporter reads the variables above.
pub const PYTHON_SNIPPET: &str = "\
# pip install openai opentelemetry-sdk opentelemetry-exporter-otlp-proto-http \\
#     opentelemetry-instrumentation-openai-v2
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

provider = TracerProvider()
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
trace.set_tracer_provider(provider)
OpenAIInstrumentor().instrument()
# Your agent's code, unchanged: every chat completion becomes a span Converra reads.";

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
            <pre class="snippet" data-testid="otel-python" tabindex="0">{PYTHON_SNIPPET}</pre>
            <CopyButton text=Signal::stored(PYTHON_SNIPPET.to_owned()) label="Copy snippet"/>
        </section>
    }
}
