//! One span read into a [`Turn`], whichever convention wrote it: the GenAI semantic
//! conventions (attributes, and the earlier span events), OpenLLMetry's `gen_ai.prompt.N.*`
//! and OpenInference's `llm.*_messages.N.message.*`.

use std::collections::HashSet;

use converra_api::conversations::{Message, Role, ToolCall};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::{span::Event, status::StatusCode, Span};
use serde_json::Value;

use super::attributes::{fields_object, Attributes};
use super::messages::{instructions_text, message_from_json, messages_from_json, nest};
use super::{hex_id, span_key, Figures, Turn};

/// The keys a conversation or session id is read from, in order.
pub const CONVERSATION_KEYS: [&str; 2] = ["gen_ai.conversation.id", "session.id"];
/// The keys an agent's name is read from, in order.
pub const AGENT_KEYS: [&str; 2] = ["gen_ai.agent.name", "agent.name"];

/// Reads one span. `Err` carries why the span cannot be used.
pub fn read_span(resource: Attributes<'_>, span: &Span) -> Result<Turn, String> {
    if span.span_id.is_empty() || span.trace_id.is_empty() {
        return Err(format!("span '{}' has no trace or span id", span.name));
    }
    let attrs = Attributes(&span.attributes);
    let span_id = hex_id(&span.span_id);
    let trace_id = hex_id(&span.trace_id);
    let latency_ms = (span.end_time_unix_nano >= span.start_time_unix_nano
        && span.start_time_unix_nano > 0)
        .then(|| (span.end_time_unix_nano - span.start_time_unix_nano) as f64 / 1e6);
    let mut turn = Turn {
        item_keys: vec![span_key(&trace_id, &span_id)],
        trace_id,
        span_id,
        conversation_id: attrs
            .first_text(&CONVERSATION_KEYS)
            .or_else(|| resource.first_text(&CONVERSATION_KEYS)),
        agent_name: attrs
            .first_text(&AGENT_KEYS)
            .or_else(|| resource.first_text(&AGENT_KEYS)),
        service_name: resource.text("service.name"),
        figures: figures_of(attrs, latency_ms),
        start_ns: span.start_time_unix_nano,
        end_ns: span.end_time_unix_nano,
        ..Turn::default()
    };
    (turn.system_prompt, turn.input, turn.output) = content_of(attrs, &span.events);
    turn.tool = read_tool(attrs, span);
    if turn.has_no_content() && turn.figures.is_empty() {
        return Err(format!(
            "span '{}' ({}) has no GenAI content: no messages, tool call, tokens or model",
            span.name, turn.span_id
        ));
    }
    Ok(turn)
}

/// Tokens and model from any convention's attributes.
pub fn figures_of(attrs: Attributes<'_>, latency_ms: Option<f64>) -> Figures {
    Figures {
        input_tokens: attrs.first_count(&[
            "gen_ai.usage.input_tokens",
            "gen_ai.usage.prompt_tokens",
            "llm.token_count.prompt",
        ]),
        output_tokens: attrs.first_count(&[
            "gen_ai.usage.output_tokens",
            "gen_ai.usage.completion_tokens",
            "llm.token_count.completion",
        ]),
        latency_ms,
        model: attrs.first_text(&[
            "gen_ai.response.model",
            "gen_ai.request.model",
            "llm.model_name",
        ]),
    }
}

/// The system prompt, the prompt's other messages and the answer, from span attributes and
/// events, or from the attributes of a `gen_ai.client.inference.operation.details` event.
pub fn content_of(
    attrs: Attributes<'_>,
    events: &[Event],
) -> (Option<String>, Vec<Message>, Vec<Message>) {
    let (input, output) = read_messages(attrs, events);
    let (system, input): (Vec<Message>, Vec<Message>) =
        input.into_iter().partition(|m| m.role == Role::System);
    let system_prompt = attrs
        .structured("gen_ai.system_instructions")
        .as_ref()
        .and_then(instructions_text)
        .or_else(|| system.into_iter().next().map(|m| m.content));
    (system_prompt, input, output)
}

/// The prompt's and the answer's messages, from the first convention that has any.
fn read_messages(attrs: Attributes<'_>, events: &[Event]) -> (Vec<Message>, Vec<Message>) {
    let readers: [&dyn Fn() -> (Vec<Message>, Vec<Message>); 4] = [
        &|| {
            let read = |key| {
                attrs
                    .structured(key)
                    .map(|v| messages_from_json(&v, None))
                    .unwrap_or_default()
            };
            (
                read("gen_ai.input.messages"),
                read("gen_ai.output.messages"),
            )
        },
        &|| {
            (
                flattened(attrs, "gen_ai.prompt", None),
                flattened(attrs, "gen_ai.completion", Some(Role::Assistant)),
            )
        },
        &|| {
            (
                flattened(attrs, "llm.input_messages", None),
                flattened(attrs, "llm.output_messages", Some(Role::Assistant)),
            )
        },
        &|| event_messages(events),
    ];
    readers
        .iter()
        .map(|read| read())
        .find(|(input, output)| !input.is_empty() || !output.is_empty())
        .unwrap_or_default()
}

/// OpenLLMetry's `prefix.N.role`/`content`/`tool_calls.M.*` and OpenInference's
/// `prefix.N.message.*`, in index order.
fn flattened(attrs: Attributes<'_>, prefix: &str, default_role: Option<Role>) -> Vec<Message> {
    attrs
        .indexed(prefix)
        .values()
        .filter_map(|fields| {
            let nested = nest(&fields_object(fields));
            let message = nested.get("message").unwrap_or(&nested);
            message_from_json(message, default_role)
        })
        .collect()
}

/// The role each earlier-convention event name stands for; `gen_ai.choice` is the answer.
pub fn event_role(name: &str) -> Option<(Role, bool)> {
    match name {
        "gen_ai.system.message" => Some((Role::System, false)),
        "gen_ai.user.message" => Some((Role::User, false)),
        "gen_ai.assistant.message" => Some((Role::Assistant, false)),
        "gen_ai.tool.message" => Some((Role::Tool, false)),
        "gen_ai.choice" => Some((Role::Assistant, true)),
        _ => None,
    }
}

/// Span events `gen_ai.*.message` and `gen_ai.choice`, their fields as attributes.
fn event_messages(events: &[Event]) -> (Vec<Message>, Vec<Message>) {
    let mut input = Vec::new();
    let mut output = Vec::new();
    for event in events {
        let Some((role, is_answer)) = event_role(&event.name) else {
            continue;
        };
        let fields = Value::Object(fields_object(
            &event
                .attributes
                .iter()
                .filter_map(|kv| Some((kv.key.as_str(), kv.value.as_ref()?)))
                .collect::<Vec<_>>(),
        ));
        let Some(message) = message_from_json(&fields, Some(role)) else {
            continue;
        };
        if is_answer {
            output.push(message);
        } else {
            input.push(message);
        }
    }
    (input, output)
}

/// An `execute_tool` span (or OpenInference `TOOL` span) as a call with its outcome; an
/// error status makes it a failed step.
fn read_tool(attrs: Attributes<'_>, span: &Span) -> Option<ToolCall> {
    let operation = attrs.text("gen_ai.operation.name");
    let kind = attrs.text("openinference.span.kind");
    let is_tool = operation.as_deref() == Some("execute_tool")
        || kind.is_some_and(|k| k.eq_ignore_ascii_case("tool"));
    if !is_tool {
        return None;
    }
    let name = attrs.first_text(&["gen_ai.tool.name", "tool.name"])?;
    let result = ["gen_ai.tool.call.result", "output.value"]
        .iter()
        .find_map(|key| attrs.structured(key));
    let failed = span
        .status
        .as_ref()
        .is_some_and(|s| s.code == StatusCode::Error as i32);
    let error = failed.then(|| {
        span.status
            .as_ref()
            .map(|s| s.message.clone())
            .filter(|m| !m.trim().is_empty())
            .or_else(|| attrs.text("error.type"))
            .unwrap_or_else(|| "The tool call failed".to_owned())
    });
    Some(ToolCall {
        id: attrs.first_text(&["gen_ai.tool.call.id", "tool_call.id"]),
        name,
        arguments: [
            "gen_ai.tool.call.arguments",
            "tool.parameters",
            "input.value",
        ]
        .iter()
        .find_map(|key| attrs.structured(key))
        .unwrap_or(Value::Null),
        result,
        error,
        nested_trace: None,
    })
}

/// The turns of a trace export and why each unusable span was refused.
pub struct TraceReading {
    pub turns: Vec<Turn>,
    pub rejected: Vec<String>,
}

/// Every span of the export with its resource's attributes.
fn all_spans(request: &ExportTraceServiceRequest) -> impl Iterator<Item = (Attributes<'_>, &Span)> {
    request.resource_spans.iter().flat_map(|resource_spans| {
        let resource = resource_spans
            .resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or_default();
        resource_spans
            .scope_spans
            .iter()
            .flat_map(|scope| &scope.spans)
            .map(move |span| (Attributes(resource), span))
    })
}

/// The keys of the export's spans, to ask the store which it has seen.
pub fn span_keys(request: &ExportTraceServiceRequest) -> Vec<String> {
    all_spans(request)
        .map(|(_, span)| span_key(&hex_id(&span.trace_id), &hex_id(&span.span_id)))
        .collect()
}

/// Reads the export; spans whose key is in `seen` (or repeat one earlier in the export)
/// were taken before and are skipped, neither used nor refused.
pub fn read_traces(request: &ExportTraceServiceRequest, seen: &HashSet<String>) -> TraceReading {
    let mut turns = Vec::new();
    let mut rejected = Vec::new();
    let mut taken: HashSet<String> = HashSet::new();
    for (resource, span) in all_spans(request) {
        let key = span_key(&hex_id(&span.trace_id), &hex_id(&span.span_id));
        if !span.span_id.is_empty() && (seen.contains(&key) || !taken.insert(key)) {
            continue;
        }
        match read_span(resource, span) {
            Ok(turn) => turns.push(turn),
            Err(reason) => rejected.push(reason),
        }
    }
    TraceReading { turns, rejected }
}
