//! OpenTelemetry ingest throughput; prints numbers, asserts nothing. Run with
//! `cargo bench -p converra-server --bench otel` (release build, loopback only).
//!
//! The same conversations (four messages: two model calls) arrive two ways: as OTLP/HTTP
//! protobuf exports of 512 spans (two chat spans in the GenAI conventions per conversation,
//! the second repeating the first's history), and as one `POST /conversations` each. Both
//! with one client and with 8 concurrent clients, each over a fresh database.

use std::sync::Arc;
use std::time::{Duration, Instant};

use converra_api::conversations::{Message, Role};
use converra_api::PlanId;
use converra_server::clock::{Clock, SystemClock};
use converra_server::state::{AppState, ServerConfig};
use converra_server::store::{Durability, Store};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message as _;
use serde_json::json;

const BATCH_SPANS: usize = 512;
/// Conversations each run logs, both ways.
const CONVERSATIONS: usize = 4_096;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

fn transcript(i: usize) -> Vec<Message> {
    vec![
        Message::new(Role::User, format!("Hi, where is my order {i}?")),
        Message::new(
            Role::Assistant,
            "Could you confirm the email on the order?".to_owned(),
        ),
        Message::new(Role::User, format!("It is customer{i}@example.com.")),
        Message::new(
            Role::Assistant,
            format!("Thanks! Order {i} ships tomorrow."),
        ),
    ]
}

fn text(key: &str, value: String) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value)),
        }),
        ..KeyValue::default()
    }
}

fn parts(messages: &[Message]) -> String {
    let list: Vec<_> = messages
        .iter()
        .map(|m| {
            let role = match m.role {
                Role::User => "user",
                _ => "assistant",
            };
            json!({"role": role, "parts": [{"type": "text", "content": m.content}]})
        })
        .collect();
    serde_json::Value::Array(list).to_string()
}

/// The two chat spans of conversation `i`.
fn spans_of(i: usize, now_ns: u64) -> [Span; 2] {
    let messages = transcript(i);
    let span = |n: usize, input: &[Message], output: &Message| {
        let id = (i * 2 + n) as u64 + 1;
        Span {
            trace_id: (i as u128 + 1).to_be_bytes().to_vec(),
            span_id: id.to_be_bytes().to_vec(),
            name: "chat gpt-4o-mini".to_owned(),
            start_time_unix_nano: now_ns + n as u64 * 1_000_000,
            end_time_unix_nano: now_ns + n as u64 * 1_000_000 + 500_000,
            attributes: vec![
                text("gen_ai.operation.name", "chat".to_owned()),
                text("gen_ai.agent.name", "Bench".to_owned()),
                text("gen_ai.conversation.id", format!("s{i}")),
                text("gen_ai.request.model", "gpt-4o-mini".to_owned()),
                text("gen_ai.input.messages", parts(input)),
                text(
                    "gen_ai.output.messages",
                    parts(std::slice::from_ref(output)),
                ),
            ],
            ..Span::default()
        }
    };
    [
        span(0, &messages[..1], &messages[1]),
        span(1, &messages[..3], &messages[3]),
    ]
}

/// The exports, in batches of 512 spans.
fn exports() -> Vec<Vec<u8>> {
    let now_ns = u64::try_from(SystemClock.now_ms()).unwrap_or(0) * 1_000_000;
    let spans: Vec<Span> = (0..CONVERSATIONS)
        .flat_map(|i| spans_of(i, now_ns))
        .collect();
    spans
        .chunks(BATCH_SPANS)
        .map(|batch| {
            ExportTraceServiceRequest {
                resource_spans: vec![ResourceSpans {
                    resource: Some(Resource {
                        attributes: vec![text("service.name", "bench".to_owned())],
                        ..Resource::default()
                    }),
                    scope_spans: vec![ScopeSpans {
                        spans: batch.to_vec(),
                        ..ScopeSpans::default()
                    }],
                    ..ResourceSpans::default()
                }],
            }
            .encode_to_vec()
        })
        .collect()
}

/// Accounts the requests rotate over: one client alone outruns the Enterprise plan's 3,000
/// requests a minute with `POST /conversations`, and a refused request measures nothing.
const ACCOUNTS: usize = 8;

/// A server over a fresh database, and a key for each of its accounts.
async fn start_server() -> anyhow::Result<(String, Vec<String>, tempfile::TempDir)> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("bench.db"), Durability::Normal).await?;
    let mut keys = Vec::with_capacity(ACCOUNTS);
    for account in 0..ACCOUNTS {
        let issued = store
            .issue_key(
                &format!("Bench {account}"),
                PlanId::Enterprise,
                SystemClock.now_ms(),
            )
            .await?;
        keys.push(issued.key);
    }
    let state = AppState::new(store, Arc::new(SystemClock), ServerConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}/api/v1", listener.local_addr()?);
    tokio::spawn(converra_server::app::serve(
        listener,
        state,
        std::future::pending(),
    ));
    Ok((base, keys, dir))
}

/// Sends every request with `clients` concurrent clients; returns the wall time and each
/// request's latency.
async fn run<F>(
    clients: usize,
    requests: usize,
    send: F,
) -> anyhow::Result<(Duration, Vec<Duration>)>
where
    F: Fn(usize) -> reqwest::RequestBuilder + Clone + Send + 'static,
{
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..clients {
        let send = send.clone();
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            for i in (client..requests).step_by(clients) {
                let t = Instant::now();
                match send(i).send().await {
                    Ok(r) if r.status() == 200 => samples.push(t.elapsed()),
                    Ok(r) => eprintln!(
                        "answered {}: {}",
                        r.status(),
                        r.text().await.unwrap_or_default()
                    ),
                    Err(e) => eprintln!("failed: {e}"),
                }
            }
            samples
        }));
    }
    let mut samples = Vec::new();
    for task in tasks {
        samples.extend(task.await?);
    }
    samples.sort_unstable();
    Ok((started.elapsed(), samples))
}

async fn bench(clients: usize, bodies: &Arc<Vec<Vec<u8>>>) -> anyhow::Result<()> {
    let http = reqwest::Client::new();

    let (base, keys, _dir) = start_server().await?;
    let (wall, samples) = {
        let (http, base, keys, bodies) = (http.clone(), base.clone(), keys.clone(), bodies.clone());
        run(clients, bodies.len(), move |i| {
            http.post(format!("{base}/otel/v1/traces"))
                .bearer_auth(&keys[i % ACCOUNTS])
                .header("content-type", "application/x-protobuf")
                .body(bodies[i].clone())
        })
        .await?
    };
    let spans = samples.len() * BATCH_SPANS;
    let secs = wall.as_secs_f64();
    println!(
        "OTLP exports of {BATCH_SPANS} spans, {clients} client(s): {:>7.0} spans/s  {:>6.0} conversations/s  \
         p50 {:>7.1} ms  p99 {:>7.1} ms per export",
        spans as f64 / secs,
        (spans / 2) as f64 / secs,
        percentile(&samples, 0.50),
        percentile(&samples, 0.99),
    );
    let mut stored = 0;
    for key in &keys {
        let listed: serde_json::Value = http
            .get(format!("{base}/conversations?source=otel&limit=1"))
            .bearer_auth(key)
            .send()
            .await?
            .json()
            .await?;
        stored += listed["pagination"]["total"].as_u64().unwrap_or(0);
    }
    println!("  stored: {stored} conversations");

    let (base, keys, _dir) = start_server().await?;
    let (wall, samples) = run(clients, CONVERSATIONS, move |i| {
        http.post(format!("{base}/conversations"))
            .bearer_auth(&keys[i % ACCOUNTS])
            .json(&json!({"agentName": "Bench", "messages": transcript(i), "sessionId": format!("s{i}")}))
    })
    .await?;
    println!(
        "POST /conversations, {clients} client(s):            {:>7.0} messages/s  {:>6.0} conversations/s  \
         p50 {:>7.2} ms  p99 {:>7.2} ms per request",
        (samples.len() * 4) as f64 / wall.as_secs_f64(),
        samples.len() as f64 / wall.as_secs_f64(),
        percentile(&samples, 0.50),
        percentile(&samples, 0.99),
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let bodies = Arc::new(exports());
    println!(
        "{CONVERSATIONS} conversations of 4 messages; {} exports of {BATCH_SPANS} spans, {} KiB each",
        bodies.len(),
        bodies.first().map(|b| b.len() / 1024).unwrap_or(0)
    );
    for clients in [1, 8] {
        bench(clients, &bodies).await?;
    }
    Ok(())
}
