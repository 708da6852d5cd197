//! The transcript in a real browser: roles set apart, tool calls folded with pretty JSON,
//! failed steps marked, user text never read as Markdown, long transcripts in chunks.
#![cfg(target_arch = "wasm32")]

use converra_api::conversations::{Message, Role, TokenUsage, ToolCall};
use converra_dashboard::components::transcript::{pretty_json, Transcript, FIRST_CHUNK};
use leptos::prelude::*;
use serde_json::json;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

fn message(role: Role, content: &str) -> Message {
    Message {
        role,
        content: content.to_owned(),
        timestamp: None,
        model: None,
        tool_calls: None,
        usage: None,
        latency_ms: None,
        metadata: None,
    }
}

fn mount(messages: Vec<Message>) -> (web_sys::HtmlElement, RwSignal<bool>) {
    let document = document();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    let raw = RwSignal::new(false);
    let focus = RwSignal::new(None::<usize>);
    let handle = leptos::mount::mount_to(host.clone(), move || {
        view! { <Transcript messages=messages.clone() raw focus/> }
    });
    // Stays mounted for the rest of the test.
    handle.forget();
    (host, raw)
}

fn count(host: &web_sys::HtmlElement, selector: &str) -> u32 {
    host.query_selector_all(selector).unwrap().length()
}

#[wasm_bindgen_test]
async fn roles_tool_calls_and_failed_steps_are_shown() {
    let mut assistant = message(Role::Assistant, "Looking up **order** 42.");
    assistant.usage = Some(TokenUsage {
        prompt_tokens: 100,
        completion_tokens: 20,
    });
    assistant.latency_ms = Some(1500.0);
    assistant.tool_calls = Some(vec![
        ToolCall {
            id: Some("call_1".to_owned()),
            name: "lookup_order".to_owned(),
            arguments: json!("{\"orderId\":42}"),
            result: Some(json!({"status": "shipped"})),
            error: None,
            nested_trace: None,
        },
        ToolCall {
            id: None,
            name: "refund".to_owned(),
            arguments: json!({"amount": 10}),
            result: None,
            error: Some("payment gateway down".to_owned()),
            nested_trace: None,
        },
    ]);
    let (host, raw) = mount(vec![
        message(Role::System, "Be **brief**."),
        message(Role::User, "Where is *my* order?"),
        assistant,
        message(Role::Tool, "{\"status\":\"shipped\"}"),
    ]);
    leptos::task::tick().await;
    for role in ["system", "user", "assistant", "tool"] {
        assert_eq!(
            count(&host, &format!("li.message.role-{role}")),
            1,
            "{role}"
        );
    }
    // Only the assistant's text is Markdown.
    assert_eq!(count(&host, ".role-assistant strong"), 1);
    assert_eq!(count(&host, ".role-system strong"), 0);
    assert_eq!(count(&host, ".role-user em"), 0);
    assert_eq!(count(&host, "details.tool-call"), 2);
    assert_eq!(count(&host, "details.tool-call.failed"), 1);
    assert_eq!(count(&host, "li.has-failed-step"), 1);
    let text = host.text_content().unwrap();
    assert!(text.contains("payment gateway down"));
    assert!(text.contains("120 tokens (100 in, 20 out)"), "{text}");
    assert!(text.contains("1.5 s"), "{text}");
    // Arguments passed as a JSON string are unpacked and indented.
    assert!(text.contains("\"orderId\": 42"), "{text}");

    raw.set(true);
    leptos::task::tick().await;
    assert_eq!(count(&host, ".role-assistant strong"), 0);
    assert!(host
        .text_content()
        .unwrap()
        .contains("Looking up **order** 42."));
}

#[wasm_bindgen_test]
async fn a_long_transcript_renders_in_chunks_until_complete() {
    let messages: Vec<Message> = (0..1000)
        .map(|i| {
            let role = if i % 2 == 0 {
                Role::User
            } else {
                Role::Assistant
            };
            message(role, &format!("Message **{i}**"))
        })
        .collect();
    let (host, _) = mount(messages);
    leptos::task::tick().await;
    assert_eq!(count(&host, "ol.transcript > li"), FIRST_CHUNK as u32);
    for _ in 0..400 {
        if count(&host, "ol.transcript > li") == 1000 {
            break;
        }
        gloo_timers::future::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(count(&host, "ol.transcript > li"), 1000);
    assert!(host.query_selector("#msg-999").unwrap().is_some());
}

#[wasm_bindgen_test]
fn pretty_json_indents_and_unpacks() {
    assert_eq!(pretty_json(&json!({"a": 1})), "{\n  \"a\": 1\n}");
    assert_eq!(pretty_json(&json!("[1]")), "[\n  1\n]");
    assert_eq!(pretty_json(&json!("plain text")), "plain text");
}
