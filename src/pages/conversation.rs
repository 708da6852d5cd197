//! `/conversations/:id`: one conversation's transcript, its facts and metadata, the
//! optimization it took part in, and its insights.

use converra_api::conversations::{Conversation, ConversationStatus};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde_json::{Map, Value};

use crate::api::conversations::get_conversation;
use crate::components::boundary_errors::BoundaryErrors;
use crate::components::conversation_insights::{format_score, ConversationInsightsPanel};
use crate::components::loading::Loading;
use crate::components::page_title::use_page_title;
use crate::components::timestamp::Timestamp;
use crate::components::transcript::{format_latency, pretty_json, Transcript};
use crate::format::thousands;
use crate::query::{encode_component, ConversationQuery};
use crate::signed_in::{not_signed_in, use_signed_in};

#[component]
pub fn ConversationPage() -> impl IntoView {
    let signed_in = use_signed_in();
    let params = use_params_map();
    let id = Memo::new(move |_| params.get().get("id").unwrap_or_default());
    let conversation = LocalResource::new(move || {
        let id = id.get();
        let client = signed_in.get().map(|s| s.client);
        async move {
            match client {
                Some(client) => get_conversation(&client, &id).await,
                None => Err(not_signed_in()),
            }
        }
    });
    use_page_title(
        move || match conversation.try_get().flatten().and_then(Result::ok) {
            Some(c) => c
                .title
                .unwrap_or_else(|| format!("Conversation with {}", c.agent_name)),
            None => "Conversation".to_owned(),
        },
    );
    view! {
        <div class="conversation-page">
            <p class="breadcrumbs"><a href="/conversations">"Conversations"</a></p>
            <Transition fallback=|| view! { <Loading what="the conversation" rows=8/> }>
                <ErrorBoundary fallback=|errors| view! { <h1>"Conversation"</h1><BoundaryErrors errors/> }>
                    // Fallible: a Transition may poll its child once more after the page is gone.
                    {move || conversation.try_get().flatten().map(|result| result.map(|conversation| view! {
                        <ConversationView conversation/>
                    }))}
                </ErrorBoundary>
            </Transition>
        </div>
    }
}

/// A metadata value as text: strings as they are, anything else as compact JSON.
fn metadata_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The optimization and variant a conversation ran under, from its metadata.
fn experiment_of(metadata: &Map<String, Value>) -> (Option<String>, Option<String>) {
    let get = |key: &str| {
        metadata
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    (get("optimizationId"), get("variantId"))
}

fn status_label(status: ConversationStatus) -> &'static str {
    match status {
        ConversationStatus::InProgress => "In progress",
        ConversationStatus::Active => "Active",
        ConversationStatus::Completed => "Completed",
        ConversationStatus::Abandoned => "Abandoned",
    }
}

#[component]
fn ConversationView(conversation: Conversation) -> impl IntoView {
    let Conversation {
        id,
        agent_id,
        agent_name,
        messages,
        message_count,
        status,
        llm_model,
        company_name,
        title,
        session_id,
        user_id,
        trace_id,
        parent_trace_id,
        tool_definitions,
        metadata,
        quality_score,
        total_tokens,
        has_failed_steps,
        created_at,
        updated_at,
        ..
    } = conversation;
    let messages = messages.unwrap_or_default();
    let latencies: Vec<f64> = messages.iter().filter_map(|m| m.latency_ms).collect();
    let average_latency =
        (!latencies.is_empty()).then(|| latencies.iter().sum::<f64>() / latencies.len() as f64);
    let failed_steps = messages
        .iter()
        .flat_map(|m| m.tool_calls.iter().flatten())
        .filter(|c| c.error.is_some())
        .count();
    let heading = title
        .clone()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| format!("Conversation {id}"));
    let (optimization_id, variant_id) = experiment_of(&metadata);
    let focus = RwSignal::new(None::<usize>);
    let raw = RwSignal::new(false);

    let ids = [
        ("Conversation", Some(id.clone())),
        ("Session", session_id),
        ("User", user_id),
        ("Trace", trace_id),
        ("Parent trace", parent_trace_id),
        ("Company", company_name),
        ("Model", llm_model),
    ]
    .into_iter()
    .filter_map(|(label, value)| value.map(|v| (label, v)))
    .collect::<Vec<_>>();
    let mut metadata_rows: Vec<(String, String)> = metadata
        .iter()
        .map(|(k, v)| (k.clone(), metadata_text(v)))
        .collect();
    metadata_rows.sort();

    view! {
        <header class="conversation-head">
            <h1>{heading}</h1>
            <p class="conversation-summary">
                <span class=format!("status-badge status-{}", status.as_str())>{status_label(status)}</span>
                " Agent " <a href=format!("/agents/{}", encode_component(&agent_id))>{agent_name}</a>
                " · " <Timestamp value=created_at/>
                {has_failed_steps.then(|| view! { " " <span class="status-badge badge-danger">{format!("{failed_steps} failed step{}", if failed_steps == 1 { "" } else { "s" })}</span> })}
            </p>
            {(optimization_id.is_some() || variant_id.is_some()).then(|| view! {
                <p class="experiment">
                    "Part of "
                    {match optimization_id.clone() {
                        Some(opt) => view! { "optimization " <a href=format!("/optimizations/{}", encode_component(&opt))><code>{opt.clone()}</code></a> }.into_any(),
                        None => view! { "an optimization" }.into_any(),
                    }}
                    {variant_id.clone().map(|v| view! { ", variant " <code>{v}</code> })}
                </p>
            })}
        </header>
        <dl class="stat-strip">
            <div><dt>"Messages"</dt><dd>{thousands(u64::from(message_count))}</dd></div>
            <div><dt>"Tokens"</dt><dd>{thousands(total_tokens)}</dd></div>
            <div><dt>"Quality"</dt><dd>{quality_score.map(format_score).unwrap_or_else(|| "–".to_owned())}</dd></div>
            <div><dt>"Avg latency"</dt><dd>{average_latency.map(format_latency).unwrap_or_else(|| "–".to_owned())}</dd></div>
            <div><dt>"Updated"</dt><dd><Timestamp value=updated_at/></dd></div>
        </dl>
        <div class="conversation-layout">
            <section class="transcript-section" aria-labelledby="transcript-heading">
                <div class="section-head">
                    <h2 id="transcript-heading">"Transcript"</h2>
                    <label class="inline-check">
                        <input type="checkbox" prop:checked=move || raw.get()
                            on:change=move |ev| raw.set(event_target_checked(&ev))/>
                        " Show assistant messages as raw text"
                    </label>
                </div>
                {if messages.is_empty() {
                    view! { <p class="muted">"This conversation has no messages."</p> }.into_any()
                } else {
                    view! { <Transcript messages raw focus/> }.into_any()
                }}
            </section>
            <aside class="conversation-side">
                <ConversationInsightsPanel conversation_id=id.clone() focus/>
                <section class="card" aria-labelledby="details-heading">
                    <h2 id="details-heading">"Details"</h2>
                    <div class="table-scroll">
                        <table class="list-table kv-table">
                            <tbody>
                                {ids.into_iter().map(|(label, value)| {
                                    // A session's other conversations are one filter away.
                                    let session = (label == "Session").then(|| {
                                        let href = format!("/conversations{}", ConversationQuery {
                                            session_id: Some(value.clone()),
                                            ..Default::default()
                                        }.to_url_query());
                                        view! { " "<a href=href class="session-link">"All conversations of this session"</a> }
                                    });
                                    view! {
                                        <tr><th scope="row">{label}</th><td><code>{value}</code>{session}</td></tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                    <h3>"Metadata"</h3>
                    {if metadata_rows.is_empty() {
                        view! { <p class="muted">"No metadata."</p> }.into_any()
                    } else {
                        view! {
                            <div class="table-scroll">
                                <table class="list-table kv-table">
                                    <tbody>
                                        {metadata_rows.into_iter().map(|(key, value)| view! {
                                            <tr><th scope="row"><code>{key}</code></th><td>{value}</td></tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any()
                    }}
                    {tool_definitions.filter(|t| !t.is_empty()).map(|tools| view! {
                        <h3>"Tools"</h3>
                        <ul class="tool-definitions">
                            {tools.into_iter().map(|tool| view! {
                                <li>
                                    <details>
                                        <summary><code>{tool.name}</code></summary>
                                        {tool.description.map(|d| view! { <p>{d}</p> })}
                                        {tool.parameters.map(|p| view! { <pre class="json">{pretty_json(&p)}</pre> })}
                                    </details>
                                </li>
                            }).collect_view()}
                        </ul>
                    })}
                </section>
            </aside>
        </div>
    }
}
