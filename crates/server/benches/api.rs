//! API benchmarks; prints numbers, asserts nothing. Run with
//! `cargo bench -p converra-server --bench api` (release build, loopback only).
//!
//! 1. `POST /conversations` with 8 concurrent clients: throughput, p50, p99; beside the same
//!    rows inserted straight into SQLite by one process with the same durability (one
//!    transaction a row, as the server commits each create before answering).
//! 2. With 100,000 conversations stored: `GET /conversations?limit=50` and a full-text
//!    search, each p50/p99 over sequential requests.

use std::sync::Arc;
use std::time::{Duration, Instant};

use converra_api::conversations::{ConversationStatus, InsightsStatus, Message, Role};
use converra_api::PlanId;
use converra_server::clock::{Clock, SystemClock};
use converra_server::state::{AppState, ServerConfig};
use converra_server::store::agents::{insert_agent, NewAgent, VersionOrigin};
use converra_server::store::conversations::{insert_conversation, NewConversation};
use converra_server::store::{Durability, Store};
use serde_json::json;

const CLIENTS: usize = 8;
const CREATES: usize = 2_000;
const STORED: usize = 100_000;
const READS: usize = 300;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

fn report(name: &str, mut samples: Vec<Duration>, wall: Duration) {
    samples.sort_unstable();
    println!(
        "{name:<44} n={:<6} {:>8.0}/s  p50 {:>7.2} ms  p99 {:>7.2} ms",
        samples.len(),
        samples.len() as f64 / wall.as_secs_f64(),
        percentile(&samples, 0.50),
        percentile(&samples, 0.99),
    );
}

fn transcript(i: usize) -> Vec<Message> {
    let words = [
        "refund", "shipping", "password", "invoice", "booking", "upgrade", "delivery", "warranty",
    ];
    let topic = words[i % words.len()];
    vec![
        Message::new(
            Role::User,
            format!("Hi, I have a question about my {topic} (case {i})."),
        ),
        Message::new(
            Role::Assistant,
            format!("Happy to help with your {topic}. Could you share the order number?"),
        ),
        Message::new(Role::User, format!("Sure, it is {}.", 10_000 + i)),
        Message::new(
            Role::Assistant,
            "Thanks! It's sorted; you'll get an email confirmation shortly.".to_owned(),
        ),
    ]
}

fn new_conversation(agent_id: &str, i: usize) -> NewConversation {
    NewConversation {
        agent_id: agent_id.to_owned(),
        messages: transcript(i),
        status: ConversationStatus::Completed,
        source: converra_api::conversations::ConversationSource::Api,
        llm_model: Some("gpt-4o-mini".into()),
        company_name: None,
        title: None,
        session_id: Some(format!("s{}", i % 5_000)),
        user_id: None,
        trace_id: None,
        parent_trace_id: None,
        metadata: serde_json::Map::new(),
        tool_definitions: None,
        idempotency_key: None,
        insights_status: InsightsStatus::Pending,
    }
}

fn agent(name: &str) -> NewAgent {
    NewAgent::from_prompt(
        name.into(),
        "You are a support agent.".into(),
        "gpt-4o-mini".into(),
    )
}

async fn start_server(store: Store) -> String {
    let state = AppState::new(store, Arc::new(SystemClock), ServerConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/api/v1", listener.local_addr().unwrap());
    tokio::spawn(converra_server::app::serve(
        listener,
        state,
        std::future::pending(),
    ));
    base
}

async fn bench_creates(durability: Durability) -> anyhow::Result<()> {
    // Straight into SQLite, one process, one transaction per row.
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("direct.db"), durability).await?;
    let account = store
        .issue_key("Direct", PlanId::Enterprise, SystemClock.now_ms())
        .await?
        .account;
    let mut tx = store.begin_write().await?;
    let agent_id = insert_agent(
        &mut tx,
        &account.id,
        &agent("Bench"),
        &VersionOrigin::manual(),
        0,
    )
    .await?
    .id;
    tx.commit().await?;
    let mut samples = Vec::with_capacity(CREATES);
    let started = Instant::now();
    for i in 0..CREATES {
        let t = Instant::now();
        let mut tx = store.begin_write().await?;
        insert_conversation(
            &mut tx,
            &account.id,
            &new_conversation(&agent_id, i),
            SystemClock.now_ms(),
        )
        .await?;
        tx.commit().await?;
        samples.push(t.elapsed());
    }
    let direct_wall = started.elapsed();
    report(
        &format!("direct SQLite insert ({durability:?})"),
        samples,
        direct_wall,
    );

    // Over HTTP, 8 clients.
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("http.db"), durability).await?;
    let key = store
        .issue_key("Http", PlanId::Enterprise, SystemClock.now_ms())
        .await?
        .key;
    let base = start_server(store).await;
    let http = reqwest::Client::new();
    http.post(format!("{base}/agents"))
        .bearer_auth(&key)
        .json(&json!({"name": "Bench", "content": "x"}))
        .send()
        .await?;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let (http, base, key) = (http.clone(), base.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            for i in (client..CREATES).step_by(CLIENTS) {
                let body = json!({"agentName": "Bench", "messages": transcript(i), "sessionId": format!("s{i}")});
                let t = Instant::now();
                let response = http.post(format!("{base}/conversations")).bearer_auth(&key).json(&body).send().await;
                match response {
                    Ok(r) if r.status() == 200 => samples.push(t.elapsed()),
                    Ok(r) => eprintln!("create answered {}", r.status()),
                    Err(e) => eprintln!("create failed: {e}"),
                }
            }
            samples
        }));
    }
    let mut samples = Vec::new();
    for task in tasks {
        samples.extend(task.await?);
    }
    let http_wall = started.elapsed();
    let http_rate = samples.len() as f64 / http_wall.as_secs_f64();
    report(
        &format!("POST /conversations, {CLIENTS} clients ({durability:?})"),
        samples,
        http_wall,
    );
    let direct_rate = CREATES as f64 / direct_wall.as_secs_f64();
    println!(
        "  ratio HTTP/direct throughput: {:.2}",
        http_rate / direct_rate
    );
    Ok(())
}

async fn bench_reads() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("reads.db"), Durability::Normal).await?;
    let issued = store
        .issue_key("Reads", PlanId::Enterprise, SystemClock.now_ms())
        .await?;
    let now = SystemClock.now_ms();
    let seeding = Instant::now();
    let mut tx = store.begin_write().await?;
    let agents: Vec<String> = {
        let mut ids = Vec::new();
        for n in 0..5 {
            ids.push(
                insert_agent(
                    &mut tx,
                    &issued.account.id,
                    &agent(&format!("Agent {n}")),
                    &VersionOrigin::manual(),
                    0,
                )
                .await?
                .id,
            );
        }
        ids
    };
    for i in 0..STORED {
        let at = now - ((STORED - i) as i64) * 30_000;
        insert_conversation(
            &mut tx,
            &issued.account.id,
            &new_conversation(&agents[i % agents.len()], i),
            at,
        )
        .await?;
    }
    tx.commit().await?;
    println!(
        "seeded {STORED} conversations in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );

    let base = start_server(store).await;
    let http = reqwest::Client::new();
    for (name, path) in [
        (
            "GET /conversations?limit=50",
            "/conversations?limit=50".to_owned(),
        ),
        (
            "GET /conversations?limit=50&agentId=…",
            format!("/conversations?limit=50&agentId={}", agents[2]),
        ),
        (
            "GET /conversations?limit=50&q=warranty",
            "/conversations?limit=50&q=warranty".to_owned(),
        ),
        (
            "GET /conversations?limit=50&q=case 4242",
            "/conversations?limit=50&q=case%204242".to_owned(),
        ),
    ] {
        let mut samples = Vec::with_capacity(READS);
        let started = Instant::now();
        for _ in 0..READS {
            let t = Instant::now();
            let response = http
                .get(format!("{base}{path}"))
                .bearer_auth(&issued.key)
                .send()
                .await?;
            assert_eq!(response.status(), 200, "{path}");
            response.bytes().await?;
            samples.push(t.elapsed());
        }
        report(name, samples, started.elapsed());
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    println!("== creates ({CREATES} rows)");
    bench_creates(Durability::Full).await?;
    bench_creates(Durability::Normal).await?;
    println!("== reads ({STORED} conversations)");
    bench_reads().await
}
