//! OpenTelemetry ingest over real HTTP: OTLP protobuf and JSON, gzip, each convention the
//! server reads, retried exports, refusals, auth and rate limits.

use std::io::Write;

use converra_api::PlanId;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    span, status, ResourceSpans, ScopeSpans, Span, Status,
};
use prost::Message as _;
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{send, status_and_json, TestServer, START_MS};

const TRACES: &str = "/otel/v1/traces";
const LOGS: &str = "/otel/v1/logs";

fn text(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_owned())),
        }),
        ..KeyValue::default()
    }
}

fn int(key: &str, value: i64) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(value)),
        }),
        ..KeyValue::default()
    }
}

/// Nanoseconds `ms` after the tests' start.
fn at(ms: u64) -> u64 {
    (START_MS as u64 + ms) * 1_000_000
}

fn span(
    trace: u8,
    id: u8,
    name: &str,
    from_ms: u64,
    to_ms: u64,
    attributes: Vec<KeyValue>,
) -> Span {
    Span {
        trace_id: vec![trace; 16],
        span_id: vec![id; 8],
        name: name.to_owned(),
        start_time_unix_nano: at(from_ms),
        end_time_unix_nano: at(to_ms),
        attributes,
        ..Span::default()
    }
}

fn export(service: &str, spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![text("service.name", service)],
                ..Resource::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    }
}

async fn post_protobuf(
    server: &TestServer,
    path: &str,
    key: &str,
    body: Vec<u8>,
) -> (u16, Vec<u8>) {
    let response = server
        .request(Method::POST, path, Some(key))
        .header("content-type", "application/x-protobuf")
        .body(body)
        .send()
        .await
        .expect("request reaches the server");
    let status = response.status().as_u16();
    (status, response.bytes().await.expect("body").to_vec())
}

async fn post_traces(
    server: &TestServer,
    key: &str,
    request: &ExportTraceServiceRequest,
) -> ExportTraceServiceResponse {
    let (status, body) = post_protobuf(server, TRACES, key, request.encode_to_vec()).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    ExportTraceServiceResponse::decode(body.as_slice()).expect("an ExportTraceServiceResponse")
}

async fn otel_conversations(server: &TestServer, key: &str) -> Vec<Value> {
    let (status, list) = server.get("/conversations?source=otel", key).await;
    assert_eq!(status, 200, "{list}");
    list["data"].as_array().expect("a list").clone()
}

async fn only_conversation(server: &TestServer, key: &str) -> Value {
    let list = otel_conversations(server, key).await;
    assert_eq!(list.len(), 1, "{list:?}");
    let id = list[0]["id"].as_str().expect("an id");
    let (status, conversation) = server.get(&format!("/conversations/{id}"), key).await;
    assert_eq!(status, 200);
    conversation["data"].clone()
}

/// Each message's role and text, in order.
fn transcript(conversation: &Value) -> Vec<(String, String)> {
    conversation["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| {
            (
                m["role"].as_str().expect("a role").to_owned(),
                m["content"].as_str().expect("content").to_owned(),
            )
        })
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(r, c)| ((*r).to_owned(), (*c).to_owned()))
        .collect()
}

/// A support agent's turn in the latest GenAI conventions: a chat span, then a failing tool
/// span, then the chat span that answers.
fn genai_conversation(prompt: &str) -> ExportTraceServiceRequest {
    let common = |op: &str| {
        vec![
            text("gen_ai.operation.name", op),
            text("gen_ai.agent.name", "Support Bot"),
            text("gen_ai.conversation.id", "conv-42"),
            text("gen_ai.request.model", "gpt-test"),
        ]
    };
    let mut first = common("chat");
    first.extend([
        text(
            "gen_ai.system_instructions",
            &json!([{"type": "text", "content": prompt}]).to_string(),
        ),
        text(
            "gen_ai.input.messages",
            &json!([{"role": "user", "parts": [{"type": "text", "content": "Refund order 7"}]}])
                .to_string(),
        ),
        text(
            "gen_ai.output.messages",
            &json!([{"role": "assistant", "parts": [
                {"type": "tool_call", "id": "call-1", "name": "refund", "arguments": {"order": 7}}
            ], "finish_reason": "tool_call"}])
            .to_string(),
        ),
        int("gen_ai.usage.input_tokens", 40),
        int("gen_ai.usage.output_tokens", 8),
    ]);
    let mut tool = common("execute_tool");
    tool.extend([
        text("gen_ai.tool.name", "refund"),
        text("gen_ai.tool.call.id", "call-1"),
        text("gen_ai.tool.call.arguments", r#"{"order": 7}"#),
    ]);
    let mut failed_tool = span(1, 2, "execute_tool refund", 250, 300, tool);
    failed_tool.status = Some(Status {
        code: status::StatusCode::Error as i32,
        message: "card declined".to_owned(),
    });
    let mut second = common("chat");
    second.extend([
        text(
            "gen_ai.system_instructions",
            &json!([{"type": "text", "content": prompt}]).to_string(),
        ),
        text(
            "gen_ai.input.messages",
            &json!([
                {"role": "user", "parts": [{"type": "text", "content": "Refund order 7"}]},
                {"role": "assistant", "parts": [{"type": "tool_call", "id": "call-1", "name": "refund", "arguments": {"order": 7}}]},
                {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call-1", "response": "card declined"}]}
            ])
            .to_string(),
        ),
        text(
            "gen_ai.output.messages",
            &json!([{"role": "assistant", "parts": [{"type": "text", "content": "The refund failed: your card was declined."}]}]).to_string(),
        ),
        int("gen_ai.usage.input_tokens", 60),
        int("gen_ai.usage.output_tokens", 12),
    ]);
    export(
        "support-service",
        vec![
            span(1, 1, "chat gpt-test", 0, 200, first),
            failed_tool,
            span(1, 3, "chat gpt-test", 400, 900, second),
        ],
    )
}

#[tokio::test]
async fn genai_spans_become_one_conversation_message_by_message() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let response = post_traces(&server, &key, &genai_conversation("You refund orders.")).await;
    assert_eq!(response.partial_success, None);

    let conversation = only_conversation(&server, &key).await;
    assert_eq!(conversation["source"], "otel");
    assert_eq!(conversation["agentName"], "Support Bot");
    assert_eq!(conversation["sessionId"], "conv-42");
    assert_eq!(conversation["llmModel"], "gpt-test");
    assert_eq!(
        transcript(&conversation),
        pairs(&[
            ("system", "You refund orders."),
            ("user", "Refund order 7"),
            ("assistant", ""),
            ("assistant", "The refund failed: your card was declined."),
        ])
    );
    let messages = conversation["messages"].as_array().unwrap();
    let call = &messages[2]["toolCalls"][0];
    assert_eq!(call["name"], "refund");
    assert_eq!(call["arguments"], json!({"order": 7}));
    assert_eq!(call["error"], "card declined");
    assert_eq!(
        messages[2]["usage"],
        json!({"promptTokens": 40, "completionTokens": 8})
    );
    assert_eq!(messages[2]["latencyMs"], 200.0);
    assert_eq!(
        messages[3]["usage"],
        json!({"promptTokens": 60, "completionTokens": 12})
    );
    assert_eq!(messages[3]["latencyMs"], 500.0);
    assert_eq!(messages[3]["timestamp"], "2026-11-28T00:00:00.900Z");
    assert_eq!(messages[1]["timestamp"], "2026-11-28T00:00:00.000Z");
    assert_eq!(conversation["totalTokens"], 120);
    assert_eq!(conversation["hasFailedSteps"], true);

    // The agent was registered with the system prompt, its version from OpenTelemetry.
    let agent_id = conversation["agentId"].as_str().unwrap();
    let (_, agent) = server.get(&format!("/agents/{agent_id}"), &key).await;
    assert_eq!(agent["data"]["content"], "You refund orders.");
    let (_, versions) = server
        .get(&format!("/agents/{agent_id}/versions"), &key)
        .await;
    assert_eq!(versions["data"][0]["source"], "otel");

    // The conversation counts in usage like any other.
    let (_, usage) = server.get("/usage", &key).await;
    assert_eq!(usage["data"]["conversations"]["used"], 1, "{usage}");
}

#[tokio::test]
async fn a_retried_export_adds_nothing_and_a_changed_prompt_is_a_new_version() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let request = genai_conversation("You refund orders.");
    post_traces(&server, &key, &request).await;
    let before = only_conversation(&server, &key).await;
    post_traces(&server, &key, &request).await;
    let after = only_conversation(&server, &key).await;
    assert_eq!(transcript(&after), transcript(&before));
    assert_eq!(after["totalTokens"], before["totalTokens"]);
    let (_, usage) = server.get("/usage", &key).await;
    assert_eq!(usage["data"]["conversations"]["used"], 1);

    // New spans of the same conversation, with a new prompt.
    let mut later = genai_conversation("You refund orders politely.");
    for (i, span) in later.resource_spans[0].scope_spans[0]
        .spans
        .iter_mut()
        .enumerate()
    {
        span.span_id = vec![10 + i as u8; 8];
        span.trace_id = vec![2; 16];
    }
    post_traces(&server, &key, &later).await;
    let grown = only_conversation(&server, &key).await;
    assert_eq!(
        grown["id"], before["id"],
        "one conversation per gen_ai.conversation.id"
    );
    assert_eq!(
        grown["messages"].as_array().unwrap().len(),
        before["messages"].as_array().unwrap().len() + 2,
        "the history repeated in the prompt is not added again: {grown}"
    );
    let agent_id = grown["agentId"].as_str().unwrap();
    let (_, versions) = server
        .get(&format!("/agents/{agent_id}/versions"), &key)
        .await;
    let versions = versions["data"].as_array().unwrap();
    assert_eq!(versions.len(), 2, "{versions:?}");
    let newest = versions
        .iter()
        .find(|v| v["version"] == 2)
        .expect("version 2");
    assert_eq!(newest["source"], "otel");
    assert_eq!(newest["content"], "You refund orders politely.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_copies_of_one_export_make_one_conversation() {
    // An exporter that timed out and retried while its first export still runs (on
    // PostgreSQL, or another instance, the two run at once).
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let request = genai_conversation("You refund orders.").encode_to_vec();
    let racing: Vec<_> = (0..6)
        .map(|_| {
            let send = server
                .request(Method::POST, TRACES, Some(&key))
                .header("content-type", "application/x-protobuf")
                .body(request.clone())
                .send();
            tokio::spawn(async move { send.await.expect("reaches the server").status() })
        })
        .collect();
    for answer in racing {
        assert_eq!(answer.await.unwrap(), 200);
    }
    let conversation = only_conversation(&server, &key).await;
    let single = TestServer::start().await;
    let single_key = single.key("Acme", PlanId::Pro).await;
    post_traces(
        &single,
        &single_key,
        &genai_conversation("You refund orders."),
    )
    .await;
    let expected = only_conversation(&single, &single_key).await;
    assert_eq!(transcript(&conversation), transcript(&expected));
    let (_, usage) = server.get("/usage", &key).await;
    assert_eq!(usage["data"]["conversations"]["used"], 1);
}

#[tokio::test]
async fn openllmetry_attributes_in_gzip_json_read_the_same() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let attributes = vec![
        text("gen_ai.system", "openai"),
        text("gen_ai.request.model", "gpt-test"),
        text("gen_ai.prompt.0.role", "system"),
        text("gen_ai.prompt.0.content", "You are terse."),
        text("gen_ai.prompt.1.role", "user"),
        text("gen_ai.prompt.1.content", "Capital of France?"),
        text("gen_ai.completion.0.role", "assistant"),
        text("gen_ai.completion.0.content", "Paris."),
        int("gen_ai.usage.prompt_tokens", 11),
        int("gen_ai.usage.completion_tokens", 2),
    ];
    let request = export(
        "geo-service",
        vec![span(3, 1, "openai.chat", 0, 50, attributes)],
    );
    let json_body = serde_json::to_vec(&request).expect("OTLP JSON");
    // OTLP JSON spells ids in hex, not base64.
    let sent: Value = serde_json::from_slice(&json_body).unwrap();
    assert_eq!(
        sent["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"],
        "03030303030303030303030303030303"
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&json_body).unwrap();
    let response = server
        .request(Method::POST, TRACES, Some(&key))
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(gz.finish().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "answered in the request's encoding"
    );
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("partialSuccess").is_none(), "{body}");

    let conversation = only_conversation(&server, &key).await;
    assert_eq!(
        conversation["agentName"], "geo-service",
        "service.name names the agent"
    );
    assert_eq!(
        transcript(&conversation),
        pairs(&[
            ("system", "You are terse."),
            ("user", "Capital of France?"),
            ("assistant", "Paris."),
        ])
    );
    assert_eq!(conversation["totalTokens"], 13);
    assert_eq!(conversation["traceId"], "03030303030303030303030303030303");
}

#[tokio::test]
async fn openinference_spans_group_by_session_and_name_their_agent() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let turn = |trace: u8, question: &str, answer: &str| {
        vec![
            text("openinference.span.kind", "LLM"),
            text("session.id", "sess-9"),
            text("agent.name", "Travel Agent"),
            text("llm.model_name", "gpt-test"),
            text("llm.input_messages.0.message.role", "system"),
            text("llm.input_messages.0.message.content", "You book trips."),
            text("llm.input_messages.1.message.role", "user"),
            text("llm.input_messages.1.message.content", question),
            text("llm.output_messages.0.message.role", "assistant"),
            text("llm.output_messages.0.message.content", answer),
            int("llm.token_count.prompt", 20 + i64::from(trace)),
            int("llm.token_count.completion", 5),
        ]
    };
    // Two traces, one session: one conversation.
    post_traces(
        &server,
        &key,
        &export(
            "svc",
            vec![span(
                4,
                1,
                "ChatCompletion",
                0,
                30,
                turn(4, "To Rome?", "Booked Rome."),
            )],
        ),
    )
    .await;
    post_traces(
        &server,
        &key,
        &export(
            "svc",
            vec![span(
                5,
                1,
                "ChatCompletion",
                100,
                130,
                turn(5, "And back?", "Booked the return."),
            )],
        ),
    )
    .await;
    let conversation = only_conversation(&server, &key).await;
    assert_eq!(conversation["agentName"], "Travel Agent");
    assert_eq!(conversation["sessionId"], "sess-9");
    assert_eq!(
        transcript(&conversation),
        pairs(&[
            ("system", "You book trips."),
            ("user", "To Rome?"),
            ("assistant", "Booked Rome."),
            ("user", "And back?"),
            ("assistant", "Booked the return."),
        ])
    );
    assert_eq!(conversation["totalTokens"], 24 + 25 + 10);
}

#[tokio::test]
async fn earlier_span_events_and_openai_v2_log_events_are_read() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let event = |name: &str, attributes: Vec<KeyValue>| span::Event {
        name: name.to_owned(),
        time_unix_nano: at(10),
        attributes,
        ..span::Event::default()
    };
    let mut with_events = span(
        6,
        1,
        "chat",
        0,
        40,
        vec![text("gen_ai.agent.name", "Events Bot")],
    );
    with_events.events = vec![
        event(
            "gen_ai.system.message",
            vec![text("content", "Answer in French.")],
        ),
        event("gen_ai.user.message", vec![text("content", "Hello")]),
        event(
            "gen_ai.choice",
            vec![text(
                "message",
                r#"{"role": "assistant", "content": "Bonjour"}"#,
            )],
        ),
    ];
    post_traces(&server, &key, &export("svc", vec![with_events])).await;
    let conversation = only_conversation(&server, &key).await;
    assert_eq!(
        transcript(&conversation),
        pairs(&[
            ("system", "Answer in French."),
            ("user", "Hello"),
            ("assistant", "Bonjour")
        ])
    );

    // opentelemetry-instrumentation-openai-v2: the span holds the numbers, log events the
    // content. The span arrives first here, before anything it could attach to.
    let other = TestServer::start().await;
    let key = other.key("Beta", PlanId::Pro).await;
    let figures = span(
        7,
        1,
        "chat gpt-test",
        0,
        80,
        vec![
            text("gen_ai.operation.name", "chat"),
            text("gen_ai.request.model", "gpt-test"),
            int("gen_ai.usage.input_tokens", 9),
            int("gen_ai.usage.output_tokens", 3),
        ],
    );
    let response = post_traces(&other, &key, &export("logs-service", vec![figures])).await;
    assert_eq!(
        response.partial_success, None,
        "numbers alone are kept, not refused"
    );
    assert!(otel_conversations(&other, &key).await.is_empty());

    let record = |name: &str, body: Value, ms: u64| LogRecord {
        time_unix_nano: at(ms),
        event_name: name.to_owned(),
        trace_id: vec![7; 16],
        span_id: vec![1; 8],
        body: Some(json_any(&body)),
        ..LogRecord::default()
    };
    let logs = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![text("service.name", "logs-service")],
                ..Resource::default()
            }),
            scope_logs: vec![ScopeLogs {
                log_records: vec![
                    record(
                        "gen_ai.system.message",
                        json!({"content": "Be helpful."}),
                        1,
                    ),
                    record("gen_ai.user.message", json!({"content": "Hi there"}), 2),
                    record(
                        "gen_ai.choice",
                        json!({"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Hello!"}}),
                        80,
                    ),
                    record("some.other.event", json!({"content": "noise"}), 81),
                ],
                ..ScopeLogs::default()
            }],
            ..ResourceLogs::default()
        }],
    };
    let send_logs = || async {
        let (status, body) = post_protobuf(&other, LOGS, &key, logs.encode_to_vec()).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        ExportLogsServiceResponse::decode(body.as_slice()).expect("an ExportLogsServiceResponse")
    };
    let answer = send_logs().await;
    let partial = answer.partial_success.expect("the stray event is refused");
    assert_eq!(partial.rejected_log_records, 1);
    assert!(
        partial.error_message.contains("some.other.event"),
        "{}",
        partial.error_message
    );

    let conversation = only_conversation(&other, &key).await;
    assert_eq!(conversation["agentName"], "logs-service");
    assert_eq!(
        transcript(&conversation),
        pairs(&[
            ("system", "Be helpful."),
            ("user", "Hi there"),
            ("assistant", "Hello!")
        ])
    );
    let reply = &conversation["messages"][2];
    assert_eq!(
        reply["usage"],
        json!({"promptTokens": 9, "completionTokens": 3})
    );
    assert_eq!(reply["latencyMs"], 80.0);
    assert_eq!(reply["model"], "gpt-test");

    // Retried: nothing added.
    send_logs().await;
    let again = only_conversation(&other, &key).await;
    assert_eq!(transcript(&again), transcript(&conversation));
}

fn json_any(value: &Value) -> AnyValue {
    let value = match value {
        Value::String(s) => any_value::Value::StringValue(s.clone()),
        Value::Bool(b) => any_value::Value::BoolValue(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => any_value::Value::IntValue(i),
            None => any_value::Value::DoubleValue(n.as_f64().unwrap_or_default()),
        },
        Value::Array(items) => {
            any_value::Value::ArrayValue(opentelemetry_proto::tonic::common::v1::ArrayValue {
                values: items.iter().map(json_any).collect(),
            })
        }
        Value::Object(map) => {
            any_value::Value::KvlistValue(opentelemetry_proto::tonic::common::v1::KeyValueList {
                values: map
                    .iter()
                    .map(|(k, v)| KeyValue {
                        key: k.clone(),
                        value: Some(json_any(v)),
                        ..KeyValue::default()
                    })
                    .collect(),
            })
        }
        Value::Null => return AnyValue { value: None },
    };
    AnyValue { value: Some(value) }
}

#[tokio::test]
async fn spans_without_content_are_refused_with_their_reason() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let http = span(8, 1, "GET /health", 0, 5, vec![text("http.method", "GET")]);
    let chat = span(
        8,
        2,
        "chat",
        0,
        5,
        vec![
            text(
                "gen_ai.input.messages",
                r#"[{"role":"user","parts":[{"type":"text","content":"Hi"}]}]"#,
            ),
            text(
                "gen_ai.output.messages",
                r#"[{"role":"assistant","parts":[{"type":"text","content":"Hey"}]}]"#,
            ),
        ],
    );
    let response = post_traces(&server, &key, &export("svc", vec![http, chat])).await;
    let partial = response.partial_success.expect("one span refused");
    assert_eq!(partial.rejected_spans, 1);
    assert!(
        partial.error_message.contains("GET /health")
            && partial.error_message.contains("no GenAI content"),
        "{}",
        partial.error_message
    );
    assert_eq!(
        transcript(&only_conversation(&server, &key).await),
        pairs(&[("user", "Hi"), ("assistant", "Hey")])
    );
}

#[tokio::test]
async fn malformed_oversized_or_unauthenticated_exports_are_refused() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let (status, body) = post_protobuf(&server, TRACES, &key, vec![0xff, 0xff, 0xff]).await;
    let body: Value = serde_json::from_slice(&body).expect("an error body");
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "VALIDATION_ERROR");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("protobuf"),
        "{body}"
    );

    let (status, body) = send(
        server
            .request(Method::POST, TRACES, Some(&key))
            .header("content-type", "application/json")
            .body("{\"resourceSpans\": ["),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (400, json!("INVALID_JSON"))
    );
    let (status, body) = send(
        server
            .request(Method::POST, TRACES, Some(&key))
            .header("content-type", "application/json")
            .body(r#"{"resourceSpans": [{"scopeSpans": 7}]}"#),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (400, json!("VALIDATION_ERROR"))
    );

    let (status, body) = send(
        server
            .request(Method::POST, TRACES, Some(&key))
            .header("content-type", "text/plain")
            .body("hello"),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (415, json!("UNSUPPORTED_MEDIA_TYPE"))
    );

    let (status, body) = send(
        server
            .request(Method::POST, TRACES, Some(&key))
            .header("content-type", "application/x-protobuf")
            .header("content-encoding", "gzip")
            .body("not gzip at all"),
    )
    .await;
    assert_eq!(status, 400, "{body}");

    // Over the body limit, sent as is or inflating past it.
    let (status, body) = post_protobuf(&server, TRACES, &key, vec![0; 2 * 1024 * 1024]).await;
    let body: Value = serde_json::from_slice(&body).expect("an error body");
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (413, json!("PAYLOAD_TOO_LARGE"))
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&vec![b' '; 4 * 1024 * 1024]).unwrap();
    let (status, body) = send(
        server
            .request(Method::POST, TRACES, Some(&key))
            .header("content-type", "application/json")
            .header("content-encoding", "gzip")
            .body(gz.finish().unwrap()),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (413, json!("PAYLOAD_TOO_LARGE"))
    );

    let (status, body) = send(
        server
            .request(Method::POST, TRACES, None)
            .header("content-type", "application/x-protobuf")
            .body(genai_conversation("x").encode_to_vec()),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert!(body["error"]["code"].is_string());

    // Nothing was half-written by any of these.
    assert!(otel_conversations(&server, &key).await.is_empty());
}

#[tokio::test]
async fn each_export_is_one_request_under_the_rate_limit() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Free).await;
    let body = genai_conversation("You refund orders.").encode_to_vec();
    for i in 0..60 {
        let (status, _) = post_protobuf(&server, TRACES, &key, body.clone()).await;
        assert_eq!(status, 200, "export {i}");
    }
    let (status, body) = post_protobuf(&server, TRACES, &key, body).await;
    let body: Value = serde_json::from_slice(&body).expect("an error body");
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (429, json!("RATE_LIMITED"))
    );
}

#[tokio::test]
async fn conversations_list_by_source() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let body = json!({"agentName": "Bot", "messages": [{"role": "user", "content": "hi"}]});
    assert_eq!(
        server.post("/conversations", &key, body.clone()).await.0,
        200
    );
    assert_eq!(server.post("/runs", &key, body).await.0, 200);
    post_traces(&server, &key, &genai_conversation("You refund orders.")).await;
    for source in ["api", "sdk", "otel"] {
        let (status, list) = server
            .get(&format!("/conversations?source={source}"), &key)
            .await;
        assert_eq!(status, 200);
        let sources: Vec<&Value> = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| &c["source"])
            .collect();
        assert_eq!(sources, vec![&json!(source)], "{list}");
    }
    let (status, body) = server
        .get("/conversations?source=carrier-pigeon", &key)
        .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn log_events_before_the_span_that_names_the_conversation_end_up_in_it() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let logs = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord {
                    time_unix_nano: at(5),
                    event_name: "gen_ai.user.message".to_owned(),
                    trace_id: vec![9; 16],
                    span_id: vec![1; 8],
                    body: Some(json_any(&json!({"content": "First question"}))),
                    ..LogRecord::default()
                }],
                ..ScopeLogs::default()
            }],
            ..ResourceLogs::default()
        }],
    };
    let (status, _) = post_protobuf(&server, LOGS, &key, logs.encode_to_vec()).await;
    assert_eq!(status, 200);
    let early = only_conversation(&server, &key).await;
    assert_eq!(early["sessionId"], Value::Null);

    let answer = span(
        9,
        2,
        "chat",
        10,
        20,
        vec![
            text("gen_ai.conversation.id", "conv-late"),
            text(
                "gen_ai.output.messages",
                r#"[{"role":"assistant","parts":[{"type":"text","content":"First answer"}]}]"#,
            ),
        ],
    );
    post_traces(&server, &key, &export("svc", vec![answer])).await;
    let conversation = only_conversation(&server, &key).await;
    assert_eq!(conversation["id"], early["id"]);
    assert_eq!(conversation["sessionId"], "conv-late");
    assert_eq!(
        transcript(&conversation),
        pairs(&[("user", "First question"), ("assistant", "First answer")])
    );
}
