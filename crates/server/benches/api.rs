//! API benchmarks; prints numbers, asserts nothing. Run with
//! `cargo bench -p converra-server --bench api` (release build, loopback only) for SQLite,
//! or with `CONVERRA_BENCH_POSTGRES` set to a PostgreSQL server's URL (a user that may
//! create databases; `scripts/bench-postgres.sh` starts a throwaway one) for PostgreSQL.
//!
//! 1. `POST /conversations` with 8 concurrent clients: throughput, p50, p99; beside the same
//!    rows inserted straight into the database by one process with the same durability (one
//!    transaction a row, as the server commits each create before answering). On
//!    PostgreSQL also with the clients spread over 1, 2 and 3 server instances.
//! 2. With 100,000 conversations stored: `GET /conversations?limit=50` and a full-text
//!    search, each p50/p99 over sequential requests.
//!
//! `-- creates` or `-- reads` runs one part alone.

use std::sync::Arc;
use std::time::{Duration, Instant};

use converra_api::conversations::{ConversationStatus, InsightsStatus, Message, Role};
use converra_api::PlanId;
use converra_server::clock::{Clock, SystemClock};
use converra_server::state::{AppState, ServerConfig};
use converra_server::store::agents::{insert_agent, NewAgent, VersionOrigin};
use converra_server::store::conversations::{insert_conversation, NewConversation};
use converra_server::store::{Database, Durability, Store};
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

/// A fresh store: a SQLite file in `dir`, or a new database on the PostgreSQL server named by
/// `CONVERRA_BENCH_POSTGRES`.
async fn open_store(
    dir: &std::path::Path,
    name: &str,
    durability: Durability,
) -> anyhow::Result<Store> {
    Store::connect(&bench_database(dir, name).await?, durability).await
}

async fn bench_database(dir: &std::path::Path, name: &str) -> anyhow::Result<Database> {
    let Ok(server) = std::env::var("CONVERRA_BENCH_POSTGRES") else {
        return Ok(Database::Sqlite(dir.join(format!("{name}.db"))));
    };
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    // Unquoted names are folded to lower case by PostgreSQL: the URL must name it so.
    let database = format!("bench_{name}_{}", std::process::id()).to_lowercase();
    let mut admin = sqlx::AnyConnection::connect(&server).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    let mut url = url::Url::parse(&server)?;
    url.set_path(&database);
    Ok(Database::Postgres(url.into()))
}

fn backend_name() -> &'static str {
    if std::env::var_os("CONVERRA_BENCH_POSTGRES").is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    }
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
    // Straight into the database, one process, one transaction per row.
    let dir = tempfile::tempdir()?;
    let store = open_store(dir.path(), &format!("direct_{durability:?}"), durability).await?;
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
        &format!("direct {} insert ({durability:?})", backend_name()),
        samples,
        direct_wall,
    );

    let direct_rate = CREATES as f64 / direct_wall.as_secs_f64();
    let instances = if backend_name() == "PostgreSQL" { 3 } else { 1 };
    for n in 1..=instances {
        let http_rate = bench_http_creates(durability, n).await?;
        println!(
            "  ratio HTTP/direct throughput: {:.2}",
            http_rate / direct_rate
        );
    }
    Ok(())
}

/// Creates over HTTP from 8 clients spread over `instances` servers on one database;
/// returns the throughput.
async fn bench_http_creates(durability: Durability, instances: usize) -> anyhow::Result<f64> {
    let dir = tempfile::tempdir()?;
    let database = bench_database(dir.path(), &format!("http_{durability:?}_{instances}")).await?;
    let store = Store::connect(&database, durability).await?;
    let key = store
        .issue_key("Http", PlanId::Enterprise, SystemClock.now_ms())
        .await?
        .key;
    let mut bases = vec![start_server(store).await];
    for _ in 1..instances {
        bases.push(start_server(Store::connect(&database, durability).await?).await);
    }
    let http = reqwest::Client::new();
    http.post(format!("{}/agents", bases[0]))
        .bearer_auth(&key)
        .json(&json!({"name": "Bench", "content": "x"}))
        .send()
        .await?;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let (http, base, key) = (http.clone(), bases[client % instances].clone(), key.clone());
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
        &format!(
            "POST /conversations, {CLIENTS} clients, {instances} instance(s) ({durability:?})"
        ),
        samples,
        http_wall,
    );
    Ok(http_rate)
}

async fn bench_reads() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = open_store(dir.path(), "reads", Durability::Normal).await?;
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
    tx.commit().await?;
    // In batches: one transaction updating an agent's counters 20,000 times makes
    // PostgreSQL walk an ever longer chain of row versions.
    for start in (0..STORED).step_by(1_000) {
        let mut tx = store.begin_write().await?;
        for i in start..(start + 1_000).min(STORED) {
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
    }
    println!(
        "seeded {STORED} conversations in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );
    if backend_name() == "PostgreSQL" {
        // As autovacuum would within its next minute: without it, the reads' figures depend
        // on whether it has run yet (the word index's list of fresh entries, scanned by
        // every search until a vacuum merges it, costs ~3.5 ms a search here).
        sqlx::query("VACUUM (ANALYZE) conversations, conversation_search")
            .execute(store.pool())
            .await?;
    }

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
    // cargo passes `--bench` too; any other argument names the parts to run.
    let parts: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let runs = |part: &str| parts.is_empty() || parts.iter().any(|p| p == part);
    if runs("creates") {
        println!("== creates ({CREATES} rows, {})", backend_name());
        bench_creates(Durability::Full).await?;
        // PostgreSQL flushes its WAL at every commit whatever the durability asked.
        if backend_name() == "SQLite" {
            bench_creates(Durability::Normal).await?;
        }
    }
    if runs("reads") {
        println!("== reads ({STORED} conversations)");
        bench_reads().await?;
    }
    Ok(())
}
