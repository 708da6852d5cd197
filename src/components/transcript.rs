//! A conversation's messages: each role set apart, assistant text as Markdown (or raw),
//! tool calls folded with their arguments and results, failed steps marked, tokens and
//! latency per turn. Long transcripts render in chunks, one per task, so no
//! single task blocks the page.

use std::sync::Arc;

use converra_api::conversations::{Message, Role, ToolCall};
use leptos::prelude::*;
use serde_json::Value;
use wasm_bindgen::JsCast;

use crate::components::markdown::Markdown;
use crate::components::timestamp::Timestamp;

/// Messages rendered with the page: few, so the page shows at once.
pub const FIRST_CHUNK: usize = 10;
/// Messages rendered per task after the first chunk.
pub const CHUNK: usize = 25;

/// How many chunks `total` messages take.
fn chunk_count(total: usize) -> usize {
    if total <= FIRST_CHUNK {
        usize::from(total > 0)
    } else {
        1 + (total - FIRST_CHUNK).div_ceil(CHUNK)
    }
}

/// The messages of chunk `chunk`.
fn chunk_range(chunk: usize, total: usize) -> std::ops::Range<usize> {
    let start = if chunk == 0 {
        0
    } else {
        FIRST_CHUNK + (chunk - 1) * CHUNK
    };
    let end = if chunk == 0 {
        FIRST_CHUNK
    } else {
        start + CHUNK
    };
    start.min(total)..end.min(total)
}

/// The chunk holding message `index`.
fn chunk_of(index: usize) -> usize {
    if index < FIRST_CHUNK {
        0
    } else {
        1 + (index - FIRST_CHUNK) / CHUNK
    }
}

/// A JSON value as indented text; a string holding JSON (how many SDKs pass tool
/// arguments) is unpacked first.
pub fn pretty_json(value: &Value) -> String {
    if let Value::String(text) = value {
        if let Ok(inner) = serde_json::from_str::<Value>(text) {
            if inner.is_object() || inner.is_array() {
                return serde_json::to_string_pretty(&inner).unwrap_or_else(|_| text.clone());
            }
        }
        return text.clone();
    }
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// The DOM id of message `index` (0-based), for links from the insights.
pub fn message_element_id(index: usize) -> String {
    format!("msg-{index}")
}

fn role_class(role: Role) -> &'static str {
    match role {
        Role::System => "message role-system",
        Role::User => "message role-user",
        Role::Assistant => "message role-assistant",
        Role::Tool => "message role-tool",
    }
}

/// Scrolls message `index` into view and moves the focus there.
fn reveal(index: usize) {
    let Some(element) = document().get_element_by_id(&message_element_id(index)) else {
        return;
    };
    element.scroll_into_view();
    if let Ok(element) = element.dyn_into::<web_sys::HtmlElement>() {
        let _ = element.focus();
    }
}

/// The transcript of one conversation.
#[component]
pub fn Transcript(
    messages: Vec<Message>,
    /// Show every assistant message as its raw text rather than Markdown.
    #[prop(into)]
    raw: Signal<bool>,
    /// A message (0-based) to scroll to; set it to reveal one, and it is reset once shown.
    focus: RwSignal<Option<usize>>,
) -> impl IntoView {
    let messages: Arc<Vec<Message>> = Arc::new(messages);
    let total = messages.len();
    let chunks = chunk_count(total);
    let shown = RwSignal::new(chunks.min(1));

    // One more chunk per task until all are there: a timeout (not an animation frame) so
    // building a chunk and laying out the page are separate tasks, and input gets between.
    Effect::new(move |_| {
        if shown.get() < chunks {
            set_timeout(
                move || {
                    shown.try_update(|n| *n = (*n + 1).min(chunks));
                },
                std::time::Duration::ZERO,
            );
        }
    });
    Effect::new(move |_| {
        let Some(index) = focus.get() else {
            return;
        };
        focus.set(None);
        if index >= total {
            return;
        }
        let needed = chunk_of(index) + 1;
        if shown.get_untracked() < needed {
            shown.set(needed);
        }
        // After the frame, the chunk holding the message is in the DOM.
        request_animation_frame(move || reveal(index));
    });

    view! {
        <ol class="transcript" aria-label="Messages">
            <For
                each=move || 0..shown.get()
                key=|chunk| *chunk
                children=move |chunk| {
                    let messages = messages.clone();
                    chunk_range(chunk, total)
                        .map(|index| view! { <TranscriptMessage index message=messages[index].clone() raw/> })
                        .collect_view()
                }
            />
        </ol>
        {move || (shown.get() < chunks).then(|| view! {
            <p class="muted">{format!("Showing {} of {} messages…", chunk_range(shown.get().saturating_sub(1), total).end, total)}</p>
        })}
    }
}

fn format_tokens(usage: &converra_api::conversations::TokenUsage) -> String {
    format!(
        "{} tokens ({} in, {} out)",
        usage.prompt_tokens + usage.completion_tokens,
        usage.prompt_tokens,
        usage.completion_tokens
    )
}

/// `840 ms`, or `2.2 s` from a second up.
pub fn format_latency(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else {
        format!("{ms:.0} ms")
    }
}

#[component]
fn TranscriptMessage(index: usize, message: Message, raw: Signal<bool>) -> impl IntoView {
    let Message {
        role,
        content,
        timestamp,
        model,
        tool_calls,
        usage,
        latency_ms,
        metadata,
    } = message;
    let tool_calls = tool_calls.unwrap_or_default();
    let failed = tool_calls.iter().filter(|c| c.error.is_some()).count();
    let class = if failed > 0 {
        format!("{} has-failed-step", role_class(role))
    } else {
        role_class(role).to_owned()
    };
    let raw_here = RwSignal::new(None::<bool>);
    let show_raw = Memo::new(move |_| raw_here.get().unwrap_or_else(|| raw.get()));
    let is_assistant = role == Role::Assistant;
    let body = (!content.trim().is_empty()).then(|| {
        if is_assistant {
            let content = content.clone();
            view! {
                <div class="message-body">
                    {move || if show_raw.get() {
                        view! { <p class="plain-text">{content.clone()}</p> }.into_any()
                    } else {
                        view! { <Markdown text=content.clone()/> }.into_any()
                    }}
                </div>
            }
            .into_any()
        } else {
            view! { <div class="message-body"><p class="plain-text">{content.clone()}</p></div> }
                .into_any()
        }
    });
    let facts = [
        model,
        usage.as_ref().map(format_tokens),
        latency_ms.map(format_latency),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    view! {
        <li class=class id=message_element_id(index) tabindex="-1">
            <header class="message-head">
                <span class="role-label">{role.label()}</span>
                <span class="message-index">{format!("#{}", index + 1)}</span>
                {(failed > 0).then(|| view! {
                    <span class="status-badge badge-danger">{if failed == 1 { "Failed step".to_owned() } else { format!("{failed} failed steps") }}</span>
                })}
                <span class="message-facts muted">{facts}</span>
                {timestamp.map(|t| view! { <span class="muted"><Timestamp value=t/></span> })}
                {is_assistant.then(|| view! {
                    <button type="button" class="link-button raw-toggle"
                        aria-pressed=move || show_raw.get().to_string()
                        on:click=move |_| raw_here.set(Some(!show_raw.get_untracked()))>
                        "Raw"
                    </button>
                })}
            </header>
            {body}
            {(!tool_calls.is_empty()).then(|| view! {
                <div class="tool-calls">
                    {tool_calls.into_iter().map(|call| view! { <ToolCallView call/> }).collect_view()}
                </div>
            })}
            {metadata.filter(|m| !m.is_null()).map(|m| view! {
                <details class="message-metadata">
                    <summary>"Message metadata"</summary>
                    <pre class="json">{pretty_json(&m)}</pre>
                </details>
            })}
        </li>
    }
}

#[component]
fn ToolCallView(call: ToolCall) -> impl IntoView {
    let ToolCall {
        id,
        name,
        arguments,
        result,
        error,
        nested_trace,
    } = call;
    let failed = error.is_some();
    view! {
        <details class="tool-call" class:failed=failed>
            <summary>
                <span class="tool-name">{name}</span>
                {error.clone().map(|e| view! {
                    <span class="status-badge badge-danger">"Failed"</span>
                    <span class="tool-error-inline">{e}</span>
                })}
                {(!failed).then(|| view! { <span class="status-badge badge-ok">"OK"</span> })}
            </summary>
            <div class="tool-call-body">
                {id.map(|id| view! { <p class="muted">"Call " <code>{id}</code></p> })}
                <p class="tool-call-label">"Arguments"</p>
                <pre class="json">{pretty_json(&arguments)}</pre>
                {result.map(|r| view! {
                    <p class="tool-call-label">"Result"</p>
                    <pre class="json">{pretty_json(&r)}</pre>
                })}
                {error.map(|e| view! {
                    <p class="tool-call-label">"Error"</p>
                    <pre class="tool-error">{e}</pre>
                })}
                {nested_trace.map(|t| view! {
                    <p class="tool-call-label">"Nested trace"</p>
                    <pre class="json">{pretty_json(&t)}</pre>
                })}
            </div>
        </details>
    }
}
