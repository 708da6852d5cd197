//! Turns merged into a transcript. Chat spans repeat the history in every prompt, so a
//! prompt's messages already in the transcript, in order, are not added again; the answer
//! always is. Each added message is tagged with its span, so a span's numbers that arrive
//! apart from its messages (log events) still find them.

use std::collections::HashMap;

use converra_api::conversations::{Message, Role, TokenUsage};
use serde_json::{Map, Value};

use super::{Figures, Turn};
use crate::clock::rfc3339;

/// The metadata key holding the span a message came from.
pub const SPAN_KEY: &str = "otelSpanId";

fn timestamp(ns: u64) -> Option<String> {
    (ns > 0).then(|| rfc3339(i64::try_from(ns / 1_000_000).unwrap_or(i64::MAX)))
}

fn tag(mut message: Message, span_id: &str, ns: u64) -> Message {
    let mut metadata = match message.metadata.take() {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    };
    if !span_id.is_empty() {
        metadata.insert(SPAN_KEY.into(), Value::String(span_id.to_owned()));
    }
    message.metadata = (!metadata.is_empty()).then_some(Value::Object(metadata));
    if message.timestamp.is_none() {
        message.timestamp = timestamp(ns);
    }
    message
}

fn metadata_str<'a>(message: &'a Message, key: &str) -> Option<&'a str> {
    message.metadata.as_ref()?.get(key)?.as_str()
}

fn same(a: &Message, b: &Message) -> bool {
    let names = |m: &Message| -> Vec<String> {
        m.tool_calls
            .iter()
            .flatten()
            .map(|c| c.name.clone())
            .collect()
    };
    a.role == b.role && a.content == b.content && names(a) == names(b)
}

/// A tool answer whose call already holds its outcome (from an `execute_tool` span).
fn already_answered(messages: &[Message], answer: &Message) -> bool {
    let Some(id) = metadata_str(answer, "toolCallId") else {
        return false;
    };
    messages
        .iter()
        .flat_map(|m| m.tool_calls.iter().flatten())
        .any(|c| c.id.as_deref() == Some(id) && (c.result.is_some() || c.error.is_some()))
}

/// Sets a span's numbers on the last assistant message it produced; false when the
/// transcript holds none yet.
pub fn apply_figures(messages: &mut [Message], span_id: &str, figures: &Figures) -> bool {
    let Some(message) = messages
        .iter_mut()
        .rev()
        .find(|m| m.role == Role::Assistant && metadata_str(m, SPAN_KEY) == Some(span_id))
    else {
        return false;
    };
    if figures.input_tokens.is_some() || figures.output_tokens.is_some() {
        message.usage = Some(TokenUsage {
            prompt_tokens: figures.input_tokens.unwrap_or(0),
            completion_tokens: figures.output_tokens.unwrap_or(0),
        });
    }
    if figures.latency_ms.is_some() {
        message.latency_ms = figures.latency_ms;
    }
    if figures.model.is_some() {
        message.model = figures.model.clone();
    }
    true
}

/// Adds a turn to a transcript. Returns false when the turn's numbers found no message of
/// its span, for the caller to keep until one arrives.
pub fn merge_turn(messages: &mut Vec<Message>, turn: &Turn) -> bool {
    if let Some(prompt) = &turn.system_prompt {
        if !messages.iter().any(|m| m.role == Role::System) {
            let system = tag(Message::new(Role::System, prompt.clone()), "", 0);
            messages.insert(0, system);
        }
    }
    let mut next = 0;
    for message in &turn.input {
        if message.role == Role::Tool && already_answered(messages, message) {
            continue;
        }
        match (next..messages.len()).find(|&k| same(&messages[k], message)) {
            Some(found) => next = found + 1,
            None => {
                messages.push(tag(message.clone(), &turn.span_id, turn.start_ns));
                next = messages.len();
            }
        }
    }
    for message in &turn.output {
        messages.push(tag(message.clone(), &turn.span_id, turn.end_ns));
    }
    if let Some(call) = &turn.tool {
        let pending = messages
            .iter_mut()
            .flat_map(|m| m.tool_calls.iter_mut().flatten())
            .find(|c| {
                call.id.is_some() && c.id == call.id && c.result.is_none() && c.error.is_none()
            });
        match pending {
            Some(asked) => {
                asked.result = call.result.clone();
                asked.error = call.error.clone();
            }
            None => {
                let content = call
                    .error
                    .clone()
                    .or_else(|| call.result.as_ref().map(super::messages::value_text))
                    .unwrap_or_default();
                let mut message = Message::new(Role::Tool, content);
                message.tool_calls = Some(vec![call.clone()]);
                message.latency_ms = turn.figures.latency_ms;
                messages.push(tag(message, &turn.span_id, turn.end_ns));
            }
        }
        return true;
    }
    if turn.figures.is_empty() {
        return true;
    }
    apply_figures(messages, &turn.span_id, &turn.figures)
}

/// Spans of one trace belong together: a span that names no conversation or agent takes the
/// one another span of its trace names (an `invoke_agent` parent, typically).
pub fn propagate_within_traces(turns: &mut [Turn]) {
    let mut conversations: HashMap<String, String> = HashMap::new();
    let mut agents: HashMap<String, String> = HashMap::new();
    for turn in turns.iter() {
        if let Some(id) = &turn.conversation_id {
            conversations
                .entry(turn.trace_id.clone())
                .or_insert_with(|| id.clone());
        }
        if let Some(name) = &turn.agent_name {
            agents
                .entry(turn.trace_id.clone())
                .or_insert_with(|| name.clone());
        }
    }
    for turn in turns.iter_mut() {
        if turn.conversation_id.is_none() {
            turn.conversation_id = conversations.get(&turn.trace_id).cloned();
        }
        if turn.agent_name.is_none() {
            turn.agent_name = agents.get(&turn.trace_id).cloned();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use converra_api::conversations::ToolCall;

    fn msg(role: Role, text: &str) -> Message {
        Message::new(role, text.to_owned())
    }

    fn chat(span: &str, input: Vec<Message>, answer: &str) -> Turn {
        Turn {
            span_id: span.into(),
            system_prompt: Some("Be brief.".into()),
            input,
            output: vec![msg(Role::Assistant, answer)],
            figures: Figures {
                input_tokens: Some(10),
                output_tokens: Some(3),
                latency_ms: Some(120.0),
                model: Some("gpt-test".into()),
            },
            start_ns: 1_795_824_000_000_000_000,
            end_ns: 1_795_824_000_120_000_000,
            ..Turn::default()
        }
    }

    #[test]
    fn repeated_history_is_added_once_and_answers_carry_their_figures() {
        let mut messages = Vec::new();
        assert!(merge_turn(
            &mut messages,
            &chat("s1", vec![msg(Role::User, "Hi")], "Hello")
        ));
        let second = chat(
            "s2",
            vec![
                msg(Role::User, "Hi"),
                msg(Role::Assistant, "Hello"),
                msg(Role::User, "Bye"),
            ],
            "Goodbye",
        );
        assert!(merge_turn(&mut messages, &second));
        let texts: Vec<(Role, &str)> = messages
            .iter()
            .map(|m| (m.role, m.content.as_str()))
            .collect();
        assert_eq!(
            texts,
            vec![
                (Role::System, "Be brief."),
                (Role::User, "Hi"),
                (Role::Assistant, "Hello"),
                (Role::User, "Bye"),
                (Role::Assistant, "Goodbye"),
            ]
        );
        let last = messages.last().expect("an answer");
        assert_eq!(
            last.usage,
            Some(TokenUsage {
                prompt_tokens: 10,
                completion_tokens: 3
            })
        );
        assert_eq!(last.latency_ms, Some(120.0));
        assert_eq!(last.model.as_deref(), Some("gpt-test"));
        assert_eq!(last.timestamp.as_deref(), Some("2026-11-28T00:00:00.120Z"));
    }

    #[test]
    fn a_tool_span_completes_the_call_it_answers_or_stands_alone() {
        let mut asked = msg(Role::Assistant, "");
        asked.tool_calls = Some(vec![ToolCall {
            id: Some("c1".into()),
            name: "refund".into(),
            arguments: Value::Null,
            result: None,
            error: None,
            nested_trace: None,
        }]);
        let mut messages = vec![asked];
        let failed = ToolCall {
            id: Some("c1".into()),
            name: "refund".into(),
            arguments: Value::Null,
            result: None,
            error: Some("card declined".into()),
            nested_trace: None,
        };
        let turn = Turn {
            span_id: "t1".into(),
            tool: Some(failed.clone()),
            ..Turn::default()
        };
        merge_turn(&mut messages, &turn);
        assert_eq!(messages.len(), 1);
        let call = &messages[0].tool_calls.as_ref().expect("the call")[0];
        assert_eq!(call.error.as_deref(), Some("card declined"));

        // The next prompt's tool answer is already in the call: not added again.
        let mut answer = msg(Role::Tool, "card declined");
        answer.metadata = Some(serde_json::json!({"toolCallId": "c1"}));
        merge_turn(
            &mut messages,
            &Turn {
                input: vec![answer],
                ..Turn::default()
            },
        );
        assert_eq!(messages.len(), 1);

        let mut alone = Vec::new();
        let turn = Turn {
            span_id: "t2".into(),
            tool: Some(ToolCall { id: None, ..failed }),
            ..Turn::default()
        };
        merge_turn(&mut alone, &turn);
        assert_eq!(alone.len(), 1);
        assert_eq!(alone[0].role, Role::Tool);
        assert_eq!(alone[0].content, "card declined");
    }

    #[test]
    fn figures_without_messages_wait_for_their_span() {
        let figures_only = Turn {
            span_id: "s9".into(),
            figures: Figures {
                output_tokens: Some(4),
                ..Figures::default()
            },
            ..Turn::default()
        };
        let mut messages = Vec::new();
        assert!(!merge_turn(&mut messages, &figures_only));
        let answer = Turn {
            span_id: "s9".into(),
            output: vec![msg(Role::Assistant, "Done")],
            ..Turn::default()
        };
        assert!(merge_turn(&mut messages, &answer));
        assert!(apply_figures(&mut messages, "s9", &figures_only.figures));
        assert_eq!(messages[0].usage.map(|u| u.completion_tokens), Some(4));
    }

    #[test]
    fn spans_of_a_trace_share_its_conversation_and_agent() {
        let mut turns = vec![
            Turn {
                trace_id: "t".into(),
                ..Turn::default()
            },
            Turn {
                trace_id: "t".into(),
                conversation_id: Some("c".into()),
                agent_name: Some("Support".into()),
                ..Turn::default()
            },
            Turn {
                trace_id: "u".into(),
                ..Turn::default()
            },
        ];
        propagate_within_traces(&mut turns);
        assert_eq!(turns[0].conversation_id.as_deref(), Some("c"));
        assert_eq!(turns[0].agent_name.as_deref(), Some("Support"));
        assert_eq!(turns[2].conversation_id, None);
    }
}
