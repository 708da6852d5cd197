//! Messages as the conventions write them, read into the wire's `Message`: the GenAI
//! conventions' `{role, parts}`, the OpenAI-shaped `{role, content, tool_calls}` that event
//! bodies and OpenLLMetry carry, and OpenInference's `message.*` fields.

use converra_api::conversations::{Message, Role, ToolCall};
use serde_json::{Map, Value};

/// The role a convention names; unknown roles are not messages the transcript can hold.
pub fn role_of(name: &str) -> Option<Role> {
    match name.trim().to_ascii_lowercase().as_str() {
        "system" | "developer" => Some(Role::System),
        "user" | "human" => Some(Role::User),
        "assistant" | "model" | "ai" => Some(Role::Assistant),
        "tool" | "function" | "ipython" => Some(Role::Tool),
        _ => None,
    }
}

/// A JSON value as message text: strings as they are, anything else as compact JSON.
pub fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A string holding JSON parsed; any other value as it is.
fn parsed(value: &Value) -> Value {
    match value {
        Value::String(s) => serde_json::from_str(s).unwrap_or_else(|_| value.clone()),
        other => other.clone(),
    }
}

/// Arrays as they are; objects keyed `"0"`, `"1"`, … (flattened attributes) as arrays in
/// index order.
fn as_list(value: &Value) -> Vec<Value> {
    match parsed(value) {
        Value::Array(items) => items,
        Value::Object(map) => {
            let mut indexed: Vec<(usize, Value)> = map
                .into_iter()
                .filter_map(|(key, v)| Some((key.parse().ok()?, v)))
                .collect();
            indexed.sort_by_key(|(index, _)| *index);
            indexed.into_iter().map(|(_, v)| v).collect()
        }
        _ => Vec::new(),
    }
}

/// One tool call in any of the shapes: `{id, name, arguments}`, OpenAI's
/// `{id, function: {name, arguments}}`, OpenInference's `{tool_call: {…}}`.
fn tool_call(value: &Value) -> Option<ToolCall> {
    let value = value.get("tool_call").unwrap_or(value);
    let function = value.get("function");
    let name = value
        .get("name")
        .or_else(|| function.and_then(|f| f.get("name")))
        .and_then(Value::as_str)?
        .to_owned();
    let arguments = value
        .get("arguments")
        .or_else(|| function.and_then(|f| f.get("arguments")))
        .map(parsed)
        .unwrap_or(Value::Null);
    Some(ToolCall {
        id: value.get("id").and_then(Value::as_str).map(str::to_owned),
        name,
        arguments,
        result: None,
        error: None,
        nested_trace: None,
    })
}

/// The text of `content` when it is a list of parts (`{type: text, text|content}`).
fn parts_text(parts: &[Value]) -> String {
    parts
        .iter()
        .filter_map(|part| match part {
            Value::String(s) => Some(s.clone()),
            Value::Object(_) => {
                let kind = part.get("type").and_then(Value::as_str).unwrap_or("text");
                if kind != "text" {
                    return None;
                }
                part.get("content")
                    .or_else(|| part.get("text"))
                    .map(value_text)
            }
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One message from its JSON form; `default_role` when it names none (an event's name
/// gives the role). `None` for a value that is not a message or names an unknown role.
pub fn message_from_json(value: &Value, default_role: Option<Role>) -> Option<Message> {
    let value = parsed(value);
    // `gen_ai.choice` bodies wrap the message.
    if let Some(inner) = value
        .get("message")
        .filter(|m| m.is_object() || m.is_string())
    {
        return message_from_json(inner, default_role);
    }
    let object = value.as_object()?;
    let role = match object.get("role").and_then(Value::as_str) {
        Some(name) => role_of(name)?,
        None => default_role?,
    };
    let mut texts: Vec<String> = Vec::new();
    let mut calls: Vec<ToolCall> = Vec::new();
    let mut answered: Option<String> = None;
    let mut tool_response: Option<String> = None;
    for part in object.get("parts").map(as_list).unwrap_or_default() {
        match part.get("type").and_then(Value::as_str).unwrap_or("text") {
            "text" | "reasoning" => {
                if let Some(text) = part.get("content").or_else(|| part.get("text")) {
                    texts.push(value_text(text));
                }
            }
            "tool_call" => calls.extend(tool_call(&part)),
            "tool_call_response" => {
                answered = part.get("id").and_then(Value::as_str).map(str::to_owned);
                tool_response = part
                    .get("response")
                    .or_else(|| part.get("result"))
                    .map(value_text);
            }
            _ => {}
        }
    }
    match object.get("content") {
        Some(Value::String(s)) => texts.push(s.clone()),
        Some(content) => {
            let list = as_list(content);
            if !list.is_empty() {
                texts.push(parts_text(&list));
            } else if !content.is_null() {
                texts.push(value_text(content));
            }
        }
        None => {}
    }
    // OpenInference's multi-part `contents.N.message_content.text`.
    for part in object.get("contents").map(as_list).unwrap_or_default() {
        let part = part.get("message_content").unwrap_or(&part);
        if let Some(text) = part.get("text") {
            texts.push(value_text(text));
        }
    }
    if let Some(list) = object.get("tool_calls") {
        calls.extend(as_list(list).iter().filter_map(tool_call));
    }
    let texts: Vec<String> = texts.into_iter().filter(|t| !t.is_empty()).collect();
    let mut content = texts.join("\n");
    if let Some(response) = tool_response {
        if content.is_empty() {
            content = response;
        }
    }
    let role = if answered.is_some() { Role::Tool } else { role };
    let answered = answered.or_else(|| {
        ["tool_call_id", "id"]
            .iter()
            .find_map(|key| object.get(*key).and_then(Value::as_str))
            .filter(|_| role == Role::Tool)
            .map(str::to_owned)
    });
    if content.is_empty() && calls.is_empty() {
        return None;
    }
    let mut message = Message::new(role, content);
    if !calls.is_empty() {
        message.tool_calls = Some(calls);
    }
    if let Some(id) = answered {
        let mut metadata = Map::new();
        metadata.insert("toolCallId".into(), Value::String(id));
        message.metadata = Some(Value::Object(metadata));
    }
    Some(message)
}

/// A list of messages (`gen_ai.input.messages`, `gen_ai.output.messages`, or flattened
/// items), unreadable entries skipped.
pub fn messages_from_json(value: &Value, default_role: Option<Role>) -> Vec<Message> {
    as_list(value)
        .iter()
        .filter_map(|item| message_from_json(item, default_role))
        .collect()
}

/// `gen_ai.system_instructions`: a list of text parts, or plain text.
pub fn instructions_text(value: &Value) -> Option<String> {
    let text = match parsed(value) {
        Value::String(s) => s,
        other => parts_text(&as_list(&other)),
    };
    (!text.trim().is_empty()).then_some(text)
}

/// Flattened fields (`message.tool_calls.0.tool_call.function.name` = …) as nested JSON
/// objects, numeric segments kept as object keys for [`as_list`] to order.
pub fn nest(fields: &Map<String, Value>) -> Value {
    let mut root = Map::new();
    'paths: for (path, value) in fields {
        let mut node = &mut root;
        let segments: Vec<&str> = path.split('.').collect();
        let Some((last, parents)) = segments.split_last() else {
            continue;
        };
        for segment in parents {
            let entry = node
                .entry((*segment).to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            let Value::Object(next) = entry else {
                continue 'paths;
            };
            node = next;
        }
        node.insert((*last).to_owned(), value.clone());
    }
    Value::Object(root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn genai_parts_become_text_tool_calls_and_tool_answers() {
        let messages = messages_from_json(
            &json!([
                {"role": "user", "parts": [{"type": "text", "content": "Where is order 7?"}]},
                {"role": "assistant", "parts": [
                    {"type": "tool_call", "id": "c1", "name": "find_order", "arguments": {"id": 7}}
                ]},
                {"role": "tool", "parts": [
                    {"type": "tool_call_response", "id": "c1", "response": {"status": "shipped"}}
                ]}
            ]),
            None,
        );
        assert_eq!(messages.len(), 3);
        assert_eq!(messages[0].role, Role::User);
        assert_eq!(messages[0].content, "Where is order 7?");
        let calls = messages[1].tool_calls.as_ref().expect("a tool call");
        assert_eq!(calls[0].name, "find_order");
        assert_eq!(calls[0].id.as_deref(), Some("c1"));
        assert_eq!(calls[0].arguments, json!({"id": 7}));
        assert_eq!(messages[2].role, Role::Tool);
        assert_eq!(messages[2].content, r#"{"status":"shipped"}"#);
        assert_eq!(messages[2].metadata, Some(json!({"toolCallId": "c1"})));
    }

    #[test]
    fn openai_shaped_bodies_and_choices_read_the_same() {
        let choice = json!({"index": 0, "finish_reason": "stop",
            "message": {"role": "assistant", "content": "It shipped."}});
        let message = message_from_json(&choice, Some(Role::Assistant)).expect("a message");
        assert_eq!(
            (message.role, message.content.as_str()),
            (Role::Assistant, "It shipped.")
        );

        let asked = json!({"tool_calls": [{"id": "c2", "type": "function",
            "function": {"name": "refund", "arguments": "{\"amount\": 5}"}}]});
        let message = message_from_json(&asked, Some(Role::Assistant)).expect("a message");
        let call = &message.tool_calls.expect("a call")[0];
        assert_eq!(
            (call.name.as_str(), &call.arguments),
            ("refund", &json!({"amount": 5}))
        );

        let answer = json!({"content": "done", "id": "c2"});
        let message = message_from_json(&answer, Some(Role::Tool)).expect("a message");
        assert_eq!(message.metadata, Some(json!({"toolCallId": "c2"})));
    }

    #[test]
    fn flattened_openinference_fields_nest_into_messages() {
        let mut fields = Map::new();
        fields.insert("message.role".into(), json!("assistant"));
        fields.insert(
            "message.tool_calls.0.tool_call.function.name".into(),
            json!("lookup"),
        );
        fields.insert(
            "message.tool_calls.0.tool_call.function.arguments".into(),
            json!("{\"q\": \"x\"}"),
        );
        fields.insert("message.tool_calls.0.tool_call.id".into(), json!("t1"));
        let nested = nest(&fields);
        let message = message_from_json(&nested["message"], None).expect("a message");
        let call = &message.tool_calls.expect("a call")[0];
        assert_eq!(call.name, "lookup");
        assert_eq!(call.id.as_deref(), Some("t1"));
        assert_eq!(call.arguments, json!({"q": "x"}));
    }

    #[test]
    fn unknown_roles_and_empty_messages_are_skipped() {
        assert!(message_from_json(&json!({"role": "narrator", "content": "x"}), None).is_none());
        assert!(message_from_json(&json!({"role": "user", "content": ""}), None).is_none());
        assert_eq!(
            instructions_text(&json!([{"type": "text", "content": "Be kind."}])).as_deref(),
            Some("Be kind.")
        );
    }
}
