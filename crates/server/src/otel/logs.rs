//! Log records that carry message content as events (`gen_ai.user.message`,
//! `gen_ai.choice`, …, and the latest conventions' `gen_ai.client.inference.operation.details`,
//! as opentelemetry-instrumentation-openai-v2 sends them), read into one [`Turn`] per span.

use std::collections::{BTreeMap, HashSet};

use converra_api::conversations::Role;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::attributes::{object, to_json, Attributes};
use super::messages::message_from_json;
use super::spans::{content_of, event_role, figures_of, AGENT_KEYS, CONVERSATION_KEYS};
use super::{hex_id, Turn};

/// The latest conventions' event: one per model call, holding the whole call's attributes.
const OPERATION_DETAILS: &str = "gen_ai.client.inference.operation.details";

/// What one record adds: a message (earlier events) or a whole call (operation details).
enum EventContent {
    Message {
        message: converra_api::conversations::Message,
        is_answer: bool,
    },
    Operation {
        system_prompt: Option<String>,
        input: Vec<converra_api::conversations::Message>,
        output: Vec<converra_api::conversations::Message>,
        figures: super::Figures,
    },
}

/// The turns of an export, one per span, and why each unusable record was refused.
pub struct LogReading {
    pub turns: Vec<Turn>,
    pub rejected: Vec<String>,
}

/// The record's event name: the field, or the older `event.name` attribute.
fn event_name(record: &LogRecord) -> Option<String> {
    (!record.event_name.is_empty())
        .then(|| record.event_name.clone())
        .or_else(|| Attributes(&record.attributes).text("event.name"))
}

/// The body's fields, with the record's attributes under them (the body wins).
fn fields(record: &LogRecord) -> Value {
    let mut fields: Map<String, Value> = object(&record.attributes);
    match record.body.as_ref().map(to_json) {
        Some(Value::Object(body)) => fields.extend(body),
        Some(Value::String(text)) => {
            let body = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v.as_object().cloned());
            match body {
                Some(body) => fields.extend(body),
                None => {
                    fields.insert("content".into(), Value::String(text));
                }
            }
        }
        _ => {}
    }
    Value::Object(fields)
}

/// What a retried export repeats exactly: the record's span, time, name and body.
fn record_key(record: &LogRecord, name: &str) -> String {
    let mut digest = Sha256::new();
    digest.update(&record.trace_id);
    digest.update(&record.span_id);
    digest.update(record.time_unix_nano.to_le_bytes());
    digest.update(name.as_bytes());
    digest.update(fields(record).to_string().as_bytes());
    format!("log:{}", hex::encode(digest.finalize()))
}

/// Every record of the export with its resource's attributes.
fn records(
    request: &ExportLogsServiceRequest,
) -> impl Iterator<Item = (Attributes<'_>, &LogRecord)> {
    request.resource_logs.iter().flat_map(|resource_logs| {
        let resource = resource_logs
            .resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or_default();
        resource_logs
            .scope_logs
            .iter()
            .flat_map(|scope| &scope.log_records)
            .map(move |record| (Attributes(resource), record))
    })
}

/// The keys of the records that carry messages, to ask the store which it has seen.
pub fn record_keys(request: &ExportLogsServiceRequest) -> Vec<String> {
    records(request)
        .filter_map(|(_, record)| Some(record_key(record, &event_name(record)?)))
        .collect()
}

/// Reads the export; records whose key is in `seen` came in an earlier export and are
/// skipped, neither used nor refused.
pub fn read_logs(request: &ExportLogsServiceRequest, seen: &HashSet<String>) -> LogReading {
    let mut rejected = Vec::new();
    // Keyed by trace and span so a span's records stay together, in the order sent.
    let mut turns: BTreeMap<(String, String), Turn> = BTreeMap::new();
    for (resource, record) in records(request) {
        let Some(name) = event_name(record) else {
            rejected.push("a log record has no event name".to_owned());
            continue;
        };
        let key = record_key(record, &name);
        if seen.contains(&key) {
            continue;
        }
        if record.trace_id.is_empty() {
            rejected.push(format!("log event '{name}' has no trace id"));
            continue;
        }
        let attrs = Attributes(&record.attributes);
        let content = match event_role(&name) {
            Some((role, is_answer)) => match message_from_json(&fields(record), Some(role)) {
                Some(message) => EventContent::Message { message, is_answer },
                None => {
                    rejected.push(format!("log event '{name}' has no content"));
                    continue;
                }
            },
            None if name == OPERATION_DETAILS => {
                let (system_prompt, input, output) = content_of(attrs, &[]);
                if system_prompt.is_none() && input.is_empty() && output.is_empty() {
                    rejected.push(format!("log event '{name}' has no messages"));
                    continue;
                }
                EventContent::Operation {
                    system_prompt,
                    input,
                    output,
                    figures: figures_of(attrs, None),
                }
            }
            None => {
                rejected.push(format!("log event '{name}' carries no message"));
                continue;
            }
        };
        let trace_id = hex_id(&record.trace_id);
        let span_id = hex_id(&record.span_id);
        let time = if record.time_unix_nano > 0 {
            record.time_unix_nano
        } else {
            record.observed_time_unix_nano
        };
        let turn = turns
            .entry((trace_id.clone(), span_id.clone()))
            .or_insert_with(|| Turn {
                trace_id,
                span_id,
                service_name: resource.text("service.name"),
                start_ns: time,
                end_ns: time,
                ..Turn::default()
            });
        turn.item_keys.push(key);
        turn.conversation_id = turn.conversation_id.take().or_else(|| {
            attrs
                .first_text(&CONVERSATION_KEYS)
                .or_else(|| resource.first_text(&CONVERSATION_KEYS))
        });
        turn.agent_name = turn.agent_name.take().or_else(|| {
            attrs
                .first_text(&AGENT_KEYS)
                .or_else(|| resource.first_text(&AGENT_KEYS))
        });
        turn.start_ns = turn.start_ns.min(time);
        turn.end_ns = turn.end_ns.max(time);
        match content {
            EventContent::Message { message, .. } if message.role == Role::System => {
                turn.system_prompt.get_or_insert(message.content);
            }
            EventContent::Message {
                message,
                is_answer: true,
            } => turn.output.push(message),
            EventContent::Message { message, .. } => turn.input.push(message),
            EventContent::Operation {
                system_prompt,
                input,
                output,
                figures,
            } => {
                if let Some(prompt) = system_prompt {
                    turn.system_prompt.get_or_insert(prompt);
                }
                turn.input.extend(input);
                turn.output.extend(output);
                turn.figures = figures;
            }
        }
    }
    LogReading {
        turns: turns.into_values().collect(),
        rejected,
    }
}
