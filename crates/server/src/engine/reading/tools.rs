//! Tool steps: one step per tool call, failed when its error, its result or the `tool`
//! message answering it says so, with a root cause read from the error text.

use std::collections::VecDeque;

use converra_api::conversations::{Message, Role, ToolCall};
use converra_api::insights::{RootCause, StepStatus};
use serde_json::Value;

use crate::engine::StepOutcome;

/// Error texts are cut to this many characters in a step.
const MAX_ERROR_CHARS: usize = 300;
/// Tool messages longer than this are not parsed as JSON (only their start is read).
const MAX_TOOL_JSON_BYTES: usize = 64 * 1024;

/// One step per tool call, in message order. A call fails when its `error` is set or its
/// `result` carries an `error`; a call with neither takes its outcome from the next `tool`
/// message (matched by `metadata.toolCallId` when given, else in order). A `tool` message
/// that answers no call is a step of its own, named by `metadata.name` (or `tool`).
pub fn tool_steps(messages: &[Message]) -> Vec<StepOutcome> {
    let mut steps: Vec<StepOutcome> = Vec::new();
    // Calls still waiting for a `tool` message: (step index, call id).
    let mut awaiting: VecDeque<(usize, Option<&str>)> = VecDeque::new();
    for (index, message) in messages.iter().enumerate() {
        let calls = message.tool_calls.as_deref().unwrap_or(&[]);
        for call in calls {
            let error = call_error(call);
            if error.is_none() && call.result.is_none() {
                awaiting.push_back((steps.len(), call.id.as_deref()));
            }
            steps.push(step(tool_name(&call.name), index, error));
        }
        if message.role != Role::Tool || !calls.is_empty() {
            continue;
        }
        let error = tool_message_error(&message.content);
        let wanted = metadata_str(message, &["toolCallId", "tool_call_id"]);
        let position = match wanted {
            Some(id) => awaiting
                .iter()
                .position(|(_, call_id)| *call_id == Some(id))
                .or(if awaiting.is_empty() { None } else { Some(0) }),
            None => (!awaiting.is_empty()).then_some(0),
        };
        match position.and_then(|p| awaiting.remove(p)) {
            Some((answered, _)) => {
                if let Some(error) = error {
                    let root_cause = classify_root_cause(&error);
                    if let Some(step) = steps.get_mut(answered) {
                        step.status = StepStatus::Failed;
                        step.root_cause = Some(root_cause);
                        step.error = Some(error);
                    }
                }
            }
            None => {
                let name = metadata_str(message, &["name", "toolName", "tool"]).unwrap_or("tool");
                steps.push(step(tool_name(name), index, error));
            }
        }
    }
    steps
}

fn step(name: String, message_index: usize, error: Option<String>) -> StepOutcome {
    StepOutcome {
        name,
        status: if error.is_some() {
            StepStatus::Failed
        } else {
            StepStatus::Ok
        },
        root_cause: error.as_deref().map(classify_root_cause),
        error,
        message_index,
    }
}

fn tool_name(name: &str) -> String {
    let name = name.trim();
    if name.is_empty() {
        "tool".to_owned()
    } else {
        cut(name, 100)
    }
}

fn metadata_str<'m>(message: &'m Message, keys: &[&str]) -> Option<&'m str> {
    let metadata = message.metadata.as_ref()?.as_object()?;
    keys.iter()
        .find_map(|k| metadata.get(*k).and_then(Value::as_str))
        .filter(|s| !s.trim().is_empty())
}

/// The error of a call: its `error` field, or an `error` in its result.
pub(crate) fn call_error(call: &ToolCall) -> Option<String> {
    if let Some(error) = call.error.as_deref().map(str::trim) {
        if !error.is_empty() {
            return Some(cut(error, MAX_ERROR_CHARS));
        }
    }
    match call.result.as_ref()? {
        Value::Object(map) => error_of(map.get("error")?),
        Value::String(text) if starts_like_error(text) => Some(cut(text.trim(), MAX_ERROR_CHARS)),
        _ => None,
    }
}

/// The text of an `error` value: a string, an object's `message`, or its JSON.
fn error_of(value: &Value) -> Option<String> {
    let text = match value {
        Value::Null | Value::Bool(false) => return None,
        Value::String(s) if s.trim().is_empty() => return None,
        Value::String(s) => s.trim().to_owned(),
        Value::Object(map) => match map.get("message").and_then(Value::as_str) {
            Some(message) => message.to_owned(),
            None => value.to_string(),
        },
        other => other.to_string(),
    };
    Some(cut(&text, MAX_ERROR_CHARS))
}

/// Whether a `tool` message reports a failure: a JSON object with an `error`, or text that
/// starts like an error.
pub(crate) fn tool_message_error(content: &str) -> Option<String> {
    let text = content.trim();
    if text.starts_with('{') && text.len() <= MAX_TOOL_JSON_BYTES {
        if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) {
            return map.get("error").and_then(error_of);
        }
    }
    starts_like_error(text).then(|| cut(text, MAX_ERROR_CHARS))
}

fn starts_like_error(text: &str) -> bool {
    let head: String = text
        .trim_start()
        .chars()
        .take(12)
        .flat_map(char::to_lowercase)
        .collect();
    [
        "error",
        "exception",
        "failed",
        "failure",
        "traceback",
        "fatal",
    ]
    .iter()
    .any(|p| head.starts_with(p))
}

/// The first `max` characters of `text` (never splits a character).
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// Where a failed tool call's cause most likely lies, read from its error text. Checked in
/// this order, first match wins:
///
/// | cause | error text mentions |
/// |---|---|
/// | `tool_issue` | timeouts, HTTP 5xx, "unavailable", connection errors |
/// | `prompt_issue` | "invalid", "missing parameter", "required", HTTP 400/422 |
/// | `context_issue` | "not found", "unknown id", "no such", HTTP 404 |
/// | `model_limitation` | "rate limit", "context length", "token", HTTP 429 |
/// | `orchestration_issue` | "sequence", "before", "state", "already", HTTP 409 |
/// | `tool_issue` | anything else |
pub fn classify_root_cause(error: &str) -> RootCause {
    let text = error.to_lowercase();
    let mentions = |needles: &[&str]| needles.iter().any(|n| text.contains(n));
    let codes = status_codes(&text);
    let code = |wanted: &[u16]| codes.iter().any(|c| wanted.contains(c));
    if mentions(&[
        "timeout",
        "timed out",
        "time out",
        "unavailable",
        "connection",
        "econnre",
        "gateway",
        "server error",
        "unreachable",
    ]) || codes.iter().any(|c| (500..600).contains(c))
    {
        RootCause::ToolIssue
    } else if mentions(&[
        "invalid",
        "missing parameter",
        "missing required",
        "required",
        "malformed",
        "bad request",
        "unexpected argument",
    ]) || code(&[400, 422])
    {
        RootCause::PromptIssue
    } else if mentions(&[
        "not found",
        "unknown id",
        "no such",
        "does not exist",
        "doesn't exist",
        "no record",
        "no matching",
    ]) || code(&[404])
    {
        RootCause::ContextIssue
    } else if mentions(&[
        "rate limit",
        "rate-limit",
        "too many requests",
        "context length",
        "context window",
        "quota",
        "token",
    ]) || code(&[429])
    {
        RootCause::ModelLimitation
    } else if mentions(&[
        "sequence",
        "before",
        "state",
        "already",
        "out of order",
        "precondition",
    ]) || code(&[409])
    {
        RootCause::OrchestrationIssue
    } else {
        RootCause::ToolIssue
    }
}

/// Three-digit numbers standing alone (HTTP status codes, most likely) in `text`.
fn status_codes(text: &str) -> Vec<u16> {
    let bytes = text.as_bytes();
    let mut codes = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if i - start == 3 {
                let code = bytes[start..i]
                    .iter()
                    .fold(0u16, |n, b| n * 10 + u16::from(b - b'0'));
                codes.push(code);
            }
        } else {
            i += 1;
        }
    }
    codes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn msg(role: Role, content: &str) -> Message {
        Message::new(role, content)
    }

    fn call(name: &str, result: Option<Value>, error: Option<&str>) -> ToolCall {
        ToolCall {
            id: None,
            name: name.to_owned(),
            arguments: json!({}),
            result,
            error: error.map(str::to_owned),
            nested_trace: None,
        }
    }

    #[test]
    fn root_causes_follow_the_error_text() {
        use RootCause::*;
        let cases = [
            ("upstream timeout after 30 s", ToolIssue),
            ("503 Service Unavailable", ToolIssue),
            ("HTTP 502 from orders-api", ToolIssue),
            ("invalid argument: orderId must be numeric", PromptIssue),
            ("missing parameter 'email'", PromptIssue),
            ("field customer_id is required", PromptIssue),
            ("order 123 not found", ContextIssue),
            ("unknown id ord_9", ContextIssue),
            ("rate limit exceeded", ModelLimitation),
            ("maximum context length exceeded", ModelLimitation),
            ("429", ModelLimitation),
            ("refund called before lookup_order", OrchestrationIssue),
            ("order is in the wrong state", OrchestrationIssue),
            ("something odd happened", ToolIssue),
            ("", ToolIssue),
        ];
        for (error, cause) in cases {
            assert_eq!(classify_root_cause(error), cause, "{error}");
        }
    }

    #[test]
    fn one_step_per_tool_call_with_failures_from_error_or_result() {
        let mut first = msg(Role::Assistant, "Let me check.");
        first.tool_calls = Some(vec![
            call("lookup_order", None, Some("timeout after 30 s")),
            call(
                "lookup_customer",
                Some(json!({"error": "customer not found"})),
                None,
            ),
            call("lookup_stock", Some(json!({"inStock": true})), None),
        ]);
        let messages = vec![msg(Role::User, "Where is my order 12345?"), first];
        let steps = tool_steps(&messages);
        assert_eq!(steps.len(), 3);
        assert_eq!(steps[0].name, "lookup_order");
        assert_eq!(steps[0].status, StepStatus::Failed);
        assert_eq!(steps[0].root_cause, Some(RootCause::ToolIssue));
        assert_eq!(steps[0].message_index, 1);
        assert_eq!(steps[1].status, StepStatus::Failed);
        assert_eq!(steps[1].error.as_deref(), Some("customer not found"));
        assert_eq!(steps[1].root_cause, Some(RootCause::ContextIssue));
        assert_eq!(steps[2].status, StepStatus::Ok);
        assert_eq!(steps[2].error, None);
        assert_eq!(steps[2].root_cause, None);
    }

    #[test]
    fn tool_messages_complete_pending_calls() {
        let mut asked = msg(Role::Assistant, "");
        let mut pending = call("lookup_order", None, None);
        pending.id = Some("c1".to_owned());
        asked.tool_calls = Some(vec![pending, call("get_eta", None, None)]);
        let mut answer = msg(
            Role::Tool,
            r#"{"error": {"message": "rate limit exceeded"}}"#,
        );
        answer.metadata = Some(json!({"toolCallId": "c1"}));
        let messages = vec![
            msg(Role::User, "Where is it?"),
            asked,
            answer,
            msg(Role::Tool, r#"{"eta": "Friday"}"#),
            msg(Role::Tool, "Error: stray failure"),
        ];
        let steps = tool_steps(&messages);
        assert_eq!(steps.len(), 3, "{steps:?}");
        assert_eq!(steps[0].status, StepStatus::Failed);
        assert_eq!(steps[0].root_cause, Some(RootCause::ModelLimitation));
        assert_eq!(steps[1].status, StepStatus::Ok);
        assert_eq!(steps[2].name, "tool");
        assert_eq!(steps[2].message_index, 4);
        assert_eq!(steps[2].status, StepStatus::Failed);
    }
}
