//! Intelligence benchmarks; prints numbers, asserts nothing. Run with
//! `cargo bench -p converra-server --bench intelligence` (release build).
//!
//! 1. Insights for 10,000 stored conversations through the insights queue (offline engine,
//!    results written to SQLite): conversations per second.
//! 2. An offline optimization of 5 variants by 50 simulated conversations each, from queued
//!    to completed through the optimization runner: wall time (target under 1 s).
//! 3. A reflective optimization (3 generations, 4 candidates a generation, 20 feedback cells)
//!    through a real server against the known-fix world of the HTTP tests, an
//!    OpenAI-compatible fixture on loopback: model calls by kind, tokens counted into usage,
//!    wall time. The fixture answers at once, so the time is the server's own.

// The HTTP tests' server and fixture; the bench uses a part of them.
#[allow(dead_code)]
#[path = "../tests/api/common/mod.rs"]
mod common;
#[allow(dead_code)]
#[path = "../tests/api/model_world.rs"]
mod model_world;

use std::sync::Arc;
use std::time::Instant;

use converra_api::conversations::{ConversationStatus, InsightsStatus, Message, Role, ToolCall};
use converra_api::optimizations::{
    OptimizationMode, OptimizationStatus, OptimizationStrategy, SimulationPlan,
};
use converra_api::PlanId;
use converra_server::clock::{Clock, SystemClock};
use converra_server::engine::offline::analysis;
use converra_server::engine::personas::personas;
use converra_server::jobs::insights::run_due_insights;
use converra_server::jobs::optimizations::run_next;
use converra_server::state::{AppState, ServerConfig};
use converra_server::store::agents::{insert_agent, NewAgent, VersionOrigin};
use converra_server::store::conversations::{insert_conversation, NewConversation};
use converra_server::store::insights::queue_insights;
use converra_server::store::optimizations::{insert_optimization, NewOptimization};
use converra_server::store::{Durability, Store};

const CONVERSATIONS: usize = 10_000;

/// Varied transcripts: clean, a failed tool call with frustration, a request for a human.
fn transcript(i: usize) -> Vec<Message> {
    let mut messages = vec![
        Message::new(
            Role::User,
            format!(
                "Hi, where is my order {}? It should have arrived.",
                40_000 + i
            ),
        ),
        Message::new(
            Role::Assistant,
            "Let me look that order up for you.".to_owned(),
        ),
    ];
    match i % 3 {
        0 => {
            messages.push(Message::new(
                Role::User,
                "Thanks, that is great!".to_owned(),
            ));
            messages.push(Message::new(
                Role::Assistant,
                "It arrives tomorrow before noon.".to_owned(),
            ));
        }
        1 => {
            messages[1].tool_calls = Some(vec![ToolCall {
                id: None,
                name: "lookup_order".to_owned(),
                arguments: serde_json::json!({"orderId": 40_000 + i}),
                result: None,
                error: Some("upstream timeout".to_owned()),
                nested_trace: None,
            }]);
            messages.push(Message::new(
                Role::User,
                "This is useless!!! I asked twice already.".to_owned(),
            ));
            messages.push(Message::new(
                Role::Assistant,
                "I'm sorry, I'm sorry about that.".to_owned(),
            ));
        }
        _ => {
            messages.push(Message::new(
                Role::User,
                "Can I speak to a human agent please?".to_owned(),
            ));
            messages.push(Message::new(Role::Assistant, "I can help you with most questions here; what else do you need? Our policies cover refunds, shipping, returns, exchanges and warranty claims in detail.".to_owned()));
        }
    }
    messages
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("bench.db"), Durability::Full).await?;
    let now = SystemClock.now_ms();
    let issued = store.issue_key("Bench", PlanId::Enterprise, now).await?;
    let account = issued.account.id;
    let mut tx = store.begin_write().await?;
    let agent = insert_agent(
        &mut tx,
        &account,
        &NewAgent::from_prompt(
            "Support".to_owned(),
            "You are a support agent for an online shop. Help with orders and refunds.".to_owned(),
            "gpt-4o-mini".to_owned(),
        ),
        &VersionOrigin::manual(),
        now,
    )
    .await?;
    for i in 0..CONVERSATIONS {
        let new = NewConversation {
            agent_id: agent.id.clone(),
            messages: transcript(i),
            status: ConversationStatus::Completed,
            source: converra_api::conversations::ConversationSource::Api,
            llm_model: None,
            company_name: None,
            title: None,
            session_id: None,
            user_id: None,
            trace_id: None,
            parent_trace_id: None,
            metadata: Default::default(),
            tool_definitions: None,
            idempotency_key: None,
            insights_status: InsightsStatus::Pending,
        };
        let conversation =
            insert_conversation(&mut tx, &account, &new, now - 1_000 + (i as i64 % 1_000)).await?;
        queue_insights(&mut tx, &account, &conversation.id, now).await?;
    }
    tx.commit().await?;

    let started = Instant::now();
    for i in 0..CONVERSATIONS {
        std::hint::black_box(analysis::analyze(&transcript(i), None));
    }
    let engine_only = started.elapsed();
    println!(
        "offline analysis alone, {CONVERSATIONS} transcripts        {:>8.0}/s  ({:.1} µs each)",
        CONVERSATIONS as f64 / engine_only.as_secs_f64(),
        engine_only.as_secs_f64() * 1e6 / CONVERSATIONS as f64
    );

    let state = AppState::new(
        store.clone(),
        Arc::new(SystemClock),
        ServerConfig::default(),
    );
    let started = Instant::now();
    while run_due_insights(state.clone()).await? {}
    let wall = started.elapsed();
    println!(
        "insights queue, {CONVERSATIONS} conversations (analyse + store) {:>8.0}/s  ({:.2} s)",
        CONVERSATIONS as f64 / wall.as_secs_f64(),
        wall.as_secs_f64()
    );

    for round in 0..3 {
        let plan = SimulationPlan {
            persona_count: 5,
            scenarios_per_simulation: 5,
            max_turns: 10,
            conversations_per_variant: 50,
            confidence_level: 0.9,
        };
        let mut tx = store.begin_write().await?;
        let optimization = insert_optimization(
            &mut tx,
            &account,
            &NewOptimization {
                agent_id: agent.id.clone(),
                agent_version: 1,
                mode: OptimizationMode::Exploratory,
                variant_count: 5,
                strategy: OptimizationStrategy::Rewrite,
                max_iterations: 0,
                intent: None,
                persona_ids: personas().iter().take(5).map(|p| p.id.to_owned()).collect(),
                plan,
                seed: 1_000 + round,
                engine: "offline".to_owned(),
            },
            now,
        )
        .await?;
        tx.commit().await?;
        let started = Instant::now();
        run_next(state.clone()).await?;
        let wall = started.elapsed();
        let done = store
            .optimization(&account, &optimization.id)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        anyhow::ensure!(
            done.wire.status == OptimizationStatus::Completed,
            "the run did not complete: {:?}",
            done.wire.error
        );
        println!(
            "offline optimization, 5 variants + control × 50 conversations: {:>6.0} ms ({} simulations, outcome {:?})",
            wall.as_secs_f64() * 1000.0,
            done.wire.progress.simulations_completed,
            done.wire.results.map(|r| r.outcome)
        );
    }
    reflective_run().await
}

/// Section 3: a reflective run in the known-fix world.
async fn reflective_run() -> anyhow::Result<()> {
    let world = model_world::known_fix_world().await;
    let server = common::TestServer::start_with(model_world::server_config()).await;
    let key = model_world::account_in_world(&server, "Reflective bench", &world.base_url).await;
    let (status, agent) = server
        .post(
            "/agents",
            &key,
            serde_json::json!({"name": "Refunds", "content": model_world::PROMPT_WITHOUT_FACT}),
        )
        .await;
    anyhow::ensure!(status == 201, "creating the agent: {agent}");
    let started = Instant::now();
    let (status, created) = server
        .post(
            "/optimizations",
            &key,
            // 5 personas × 4 scenarios = 20 cells: the feedback cells, and the held-out test.
            serde_json::json!({"agentId": agent["data"]["id"], "variantCount": 4, "seed": 1,
                   "optimizationStrategy": "reflective", "maxIterations": 3,
                   "simulation": {"personaCount": 5, "scenariosPerSimulation": 4, "maxTurns": 4}}),
        )
        .await;
    anyhow::ensure!(status == 201, "creating the run: {created}");
    let id = created["data"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let done = server
        .wait_for(&format!("/optimizations/{id}"), &key, |b| {
            b["data"]["status"] != "queued" && b["data"]["status"] != "running"
        })
        .await;
    let wall = started.elapsed();
    let done = &done["data"];
    anyhow::ensure!(
        done["status"] == "completed",
        "the run did not complete: {done}"
    );
    let (_, usage) = server.get("/usage", &key).await;
    let calls = world.calls();
    println!(
        "reflective optimization, 3 generations × 4 candidates, 20 cells: {:>6.0} ms, {} model calls ({}), {} tokens, winner found the fix: {}",
        wall.as_secs_f64() * 1000.0,
        calls.values().sum::<usize>(),
        calls
            .iter()
            .map(|(kind, n)| format!("{kind:?} {n}"))
            .collect::<Vec<_>>()
            .join(", "),
        usage["data"]["tokens"]["used"],
        done["results"]["winnerSelected"] == true
    );
    Ok(())
}
