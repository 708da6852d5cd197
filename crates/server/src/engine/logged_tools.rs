//! The tools an agent called in its logged conversations, with the outcomes the logs show
//! (failures included): a simulated agent gets these tools, and its calls are answered with
//! outcomes sampled from the logs, so that a prompt is tested against the tools it really
//! has and the ways they really fail.

use std::collections::{BTreeMap, VecDeque};

use converra_api::conversations::{Message, Role, ToolDefinition};
use serde_json::{json, Map, Value};

use super::reading::tools::{call_error, tool_message_error};
use super::rng::SeededRng;

/// At most this many tools are offered, the most called first.
pub const MAX_TOOLS: usize = 16;
/// Outcomes kept per tool.
pub const MAX_SAMPLES: usize = 24;
/// An outcome longer than this (as JSON text) is cut, so that one huge result does not fill
/// the simulated agent's context.
const MAX_SAMPLE_CHARS: usize = 2_000;

/// One tool of the agent as its logs show it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedTool {
    pub name: String,
    pub description: Option<String>,
    /// A JSON schema of the arguments: the logged definition's, else one read off the
    /// arguments of the logged calls.
    pub parameters: Value,
    /// Logged outcomes, in log order; never empty.
    pub samples: Vec<ToolOutcome>,
    /// How many logged calls the tool had (the samples are the first of them).
    pub calls: usize,
}

/// What one logged call came back with.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolOutcome {
    Result(Value),
    Error(String),
}

impl LoggedTool {
    /// One logged outcome, drawn with `rng`.
    pub fn sample(&self, rng: &mut SeededRng) -> &ToolOutcome {
        rng.pick(&self.samples)
    }

    /// The function definition sent in a chat-completions request's `tools`.
    pub fn function(&self) -> Value {
        json!({
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description.clone().unwrap_or_else(|| format!("The agent's `{}` tool.", self.name)),
                "parameters": self.parameters,
            }
        })
    }
}

/// The tools of an agent's logged conversations, each with `(tool definitions, messages)`
/// as logged. Only tools that were called are kept (a definition alone has no outcome to
/// answer with), the most called first, at most [`MAX_TOOLS`].
pub fn collect<'a>(
    conversations: impl IntoIterator<Item = (Option<&'a [ToolDefinition]>, &'a [Message])>,
) -> Vec<LoggedTool> {
    let mut definitions: BTreeMap<String, &ToolDefinition> = BTreeMap::new();
    let mut tools: BTreeMap<String, Seen> = BTreeMap::new();
    for (defined, messages) in conversations {
        for definition in defined.unwrap_or(&[]) {
            let name = definition.name.trim();
            if !name.is_empty() {
                definitions.entry(name.to_owned()).or_insert(definition);
            }
        }
        for (name, arguments, outcome) in calls(messages) {
            let seen = tools.entry(name).or_default();
            seen.calls += 1;
            if let Value::Object(arguments) = arguments {
                for (key, value) in arguments {
                    seen.arguments
                        .entry(key.clone())
                        .or_insert_with(|| json_type(value));
                }
            }
            if let Some(outcome) = outcome {
                if seen.samples.len() < MAX_SAMPLES {
                    seen.samples.push(cut_outcome(outcome));
                }
            }
        }
    }
    let mut out: Vec<LoggedTool> = tools
        .into_iter()
        .filter(|(_, seen)| !seen.samples.is_empty())
        .map(|(name, seen)| {
            let definition = definitions.get(&name);
            let parameters = definition
                .and_then(|d| d.parameters.clone())
                .filter(Value::is_object)
                .unwrap_or_else(|| {
                    let properties: Map<String, Value> = seen
                        .arguments
                        .iter()
                        .map(|(key, kind)| (key.clone(), json!({ "type": kind })))
                        .collect();
                    json!({"type": "object", "properties": properties})
                });
            LoggedTool {
                description: definition.and_then(|d| d.description.clone()),
                name,
                parameters,
                samples: seen.samples,
                calls: seen.calls,
            }
        })
        .collect();
    // Stable: equally called tools stay in name order.
    out.sort_by_key(|tool| std::cmp::Reverse(tool.calls));
    out.truncate(MAX_TOOLS);
    out
}

#[derive(Default)]
struct Seen {
    calls: usize,
    /// Argument names and the JSON type first seen for each.
    arguments: BTreeMap<String, &'static str>,
    samples: Vec<ToolOutcome>,
}

/// Every tool call of a conversation with its arguments and outcome. A call without a
/// result or an error takes its outcome from the next `tool` message (matched by
/// `metadata.toolCallId` when given, else in order); one never answered has none.
fn calls(messages: &[Message]) -> Vec<(String, &Value, Option<ToolOutcome>)> {
    let mut out: Vec<(String, &Value, Option<ToolOutcome>)> = Vec::new();
    let mut awaiting: VecDeque<(usize, Option<&str>)> = VecDeque::new();
    for message in messages {
        let calls = message.tool_calls.as_deref().unwrap_or(&[]);
        for call in calls {
            let name = call.name.trim();
            if name.is_empty() {
                continue;
            }
            let outcome = match (call_error(call), &call.result) {
                (Some(error), _) => Some(ToolOutcome::Error(error)),
                (None, Some(result)) => Some(ToolOutcome::Result(result.clone())),
                (None, None) => {
                    awaiting.push_back((out.len(), call.id.as_deref()));
                    None
                }
            };
            out.push((name.to_owned(), &call.arguments, outcome));
        }
        if message.role != Role::Tool || !calls.is_empty() {
            continue;
        }
        let wanted = message
            .metadata
            .as_ref()
            .and_then(|m| m.get("toolCallId").or_else(|| m.get("tool_call_id")))
            .and_then(Value::as_str);
        let position = wanted
            .and_then(|id| awaiting.iter().position(|(_, call)| *call == Some(id)))
            .or((!awaiting.is_empty()).then_some(0));
        if let Some((index, _)) = position.and_then(|p| awaiting.remove(p)) {
            out[index].2 = Some(match tool_message_error(&message.content) {
                Some(error) => ToolOutcome::Error(error),
                None => ToolOutcome::Result(
                    serde_json::from_str(message.content.trim())
                        .unwrap_or_else(|_| Value::String(message.content.trim().to_owned())),
                ),
            });
        }
    }
    out
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn cut_outcome(outcome: ToolOutcome) -> ToolOutcome {
    match outcome {
        ToolOutcome::Result(value) => {
            let text = match &value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            if text.chars().count() <= MAX_SAMPLE_CHARS {
                ToolOutcome::Result(value)
            } else {
                let cut: String = text.chars().take(MAX_SAMPLE_CHARS).collect();
                ToolOutcome::Result(Value::String(format!("{cut}…")))
            }
        }
        error => error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use converra_api::conversations::ToolCall;

    fn call(name: &str, arguments: Value, result: Option<Value>, error: Option<&str>) -> ToolCall {
        ToolCall {
            id: None,
            name: name.to_owned(),
            arguments,
            result,
            error: error.map(str::to_owned),
            nested_trace: None,
        }
    }

    fn assistant(calls: Vec<ToolCall>) -> Message {
        let mut message = Message::new(Role::Assistant, "");
        message.tool_calls = Some(calls);
        message
    }

    #[test]
    fn tools_come_with_their_logged_outcomes_failures_included() {
        let first = [
            Message::new(Role::User, "Where is order 12?"),
            assistant(vec![call(
                "lookup_order",
                json!({"order": "12", "verbose": true}),
                Some(json!({"status": "shipped"})),
                None,
            )]),
            assistant(vec![call(
                "lookup_order",
                json!({"order": "13"}),
                None,
                None,
            )]),
            Message::new(Role::Tool, "Error: upstream timeout"),
            assistant(vec![call("refund", json!({}), None, Some("not allowed"))]),
            // Answered by nothing: no outcome to sample.
            assistant(vec![call("notify", json!({"to": 1}), None, None)]),
        ];
        let definitions = [ToolDefinition {
            name: "refund".to_owned(),
            description: Some("Refunds an order.".to_owned()),
            parameters: Some(
                json!({"type": "object", "properties": {"order": {"type": "string"}}}),
            ),
        }];
        let tools = collect([(Some(&definitions[..]), &first[..])]);
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["lookup_order", "refund"]);
        let lookup = &tools[0];
        assert_eq!(lookup.calls, 2);
        assert_eq!(
            lookup.samples,
            vec![
                ToolOutcome::Result(json!({"status": "shipped"})),
                ToolOutcome::Error("Error: upstream timeout".to_owned()),
            ]
        );
        assert_eq!(
            lookup.parameters,
            json!({"type": "object", "properties": {"order": {"type": "string"}, "verbose": {"type": "boolean"}}})
        );
        let refund = &tools[1];
        assert_eq!(refund.description.as_deref(), Some("Refunds an order."));
        assert_eq!(refund.parameters["properties"]["order"]["type"], "string");
        assert_eq!(
            refund.samples,
            vec![ToolOutcome::Error("not allowed".to_owned())]
        );
        assert_eq!(refund.function()["function"]["name"], "refund");
    }

    #[test]
    fn samples_are_drawn_by_the_seed() {
        let messages: Vec<Message> = (0..10)
            .map(|i| assistant(vec![call("t", json!({}), Some(json!(i)), None)]))
            .collect();
        let tools = collect([(None, &messages[..])]);
        let draw = |seed| {
            let mut rng = SeededRng::new(seed);
            (0..5)
                .map(|_| tools[0].sample(&mut rng).clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
    }
}
