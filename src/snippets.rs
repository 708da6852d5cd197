//! The text a user pastes to send conversations here: the official Python SDK, curl, and an
//! OpenTelemetry exporter's settings, each filled in with this server's API base URL. Pure
//! functions, so the browser tests check what is shown without a page.

/// The API base URL as a program outside this page must write it: a base stored relative to
/// this page (`/api/v1`) is joined to `origin`.
pub fn absolute_base_url(base_url: &str, origin: &str) -> String {
    let base = base_url.trim().trim_end_matches('/');
    if base.starts_with('/') {
        format!("{}{base}", origin.trim_end_matches('/'))
    } else {
        base.to_owned()
    }
}

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
pub const OTEL_PYTHON_SNIPPET: &str = "\
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

/// One conversation logged with the official `converra` Python SDK; the agent is created by
/// its name and system prompt on first use.
pub fn sdk_snippet(api_base_url: &str, key: &str) -> String {
    format!(
        "\
# pip install converra
from converra import Converra

client = Converra(api_key=\"{key}\", base_url=\"{api_base_url}\").init()
client.send(
    agent=\"Support Bot\",
    messages=[
        {{\"role\": \"system\", \"content\": \"You are a helpful support agent.\"}},
        {{\"role\": \"user\", \"content\": \"Where is my order?\"}},
        {{\"role\": \"assistant\", \"content\": \"It ships today.\"}},
    ],
    status=\"completed\",
)
client.shutdown()"
    )
}

/// The same conversation logged with `POST /conversations`.
pub fn curl_snippet(api_base_url: &str, key: &str) -> String {
    format!(
        "\
curl -X POST {api_base_url}/conversations \\
  -H 'Authorization: Bearer {key}' \\
  -H 'Content-Type: application/json' \\
  -d '{{\"agentName\": \"Support Bot\", \"status\": \"completed\", \"messages\": [
        {{\"role\": \"system\", \"content\": \"You are a helpful support agent.\"}},
        {{\"role\": \"user\", \"content\": \"Where is my order?\"}},
        {{\"role\": \"assistant\", \"content\": \"It ships today.\"}}]}}'"
    )
}
