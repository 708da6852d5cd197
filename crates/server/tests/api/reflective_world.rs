//! The reflective optimizer in the known-fix world: the agent fails until its prompt states a
//! fact that only the judge's reasons on the failing transcripts reveal. Over ten seeds, the
//! optimizer must find the fix and name it the winner on held-out cells in at least nine,
//! while every variant keeps the agent's constraints.

use serde_json::{json, Value};

use crate::common::fake_model::CallKind;
use crate::common::TestServer;
use crate::model_world::{
    account_in_world, known_fix_world, server_config, states_the_fact, PROMPT_WITHOUT_FACT,
};

const SEEDS: u64 = 10;
const MIN_FOUND: usize = 9;
const CONSTRAINT: &str = "Never promise a delivery date.";

/// Whether the run named a winner whose prompt states the fact, after checking what every
/// reflective run must show.
async fn found_the_fix(server: &TestServer, key: &str, id: &str) -> bool {
    let done = server
        .wait_for(&format!("/optimizations/{id}"), key, |b| {
            b["data"]["status"] != "queued" && b["data"]["status"] != "running"
        })
        .await;
    let done = &done["data"];
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["optimizationStrategy"], "reflective");
    assert_eq!(done["maxIterations"], 3);
    assert_eq!(done["evidence"], "model", "{done}");
    let (status, variants) = server
        .get(&format!("/optimizations/{id}/variants"), key)
        .await;
    assert_eq!(status, 200, "{variants}");
    let variants = variants["data"].as_array().expect("variants");
    for variant in variants {
        let content = variant["content"].as_str().expect("content");
        assert!(
            content.contains(CONSTRAINT),
            "dropped the constraint: {content}"
        );
    }
    let results = &done["results"];
    let Some(winner) = results["winningVariantId"].as_str() else {
        return false;
    };
    let winner: &Value = variants
        .iter()
        .find(|v| v["id"] == winner)
        .expect("the winner is a variant");
    states_the_fact(winner["content"].as_str().expect("content"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reflective_optimizer_finds_the_known_fix_and_names_it_the_winner() {
    let world = known_fix_world().await;
    let server = TestServer::start_with(server_config()).await;
    let key = account_in_world(&server, "Known fix", &world.base_url).await;
    let (status, body) = server
        .post(
            "/agents",
            &key,
            json!({"name": "Refunds", "content": format!("{PROMPT_WITHOUT_FACT}\n{CONSTRAINT}"),
                   "constraints": CONSTRAINT}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let agent_id = body["data"]["id"].as_str().expect("an id").to_owned();
    let mut ids = Vec::new();
    for seed in 0..SEEDS {
        let (status, body) = server
            .post(
                "/optimizations",
                &key,
                // No strategy named: with a model, reflective is the default.
                json!({"agentId": agent_id, "variantCount": 2, "seed": seed,
                       "simulation": {"personaCount": 4, "scenariosPerSimulation": 2, "maxTurns": 4}}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["data"]["id"].as_str().expect("an id").to_owned());
    }
    let mut found = 0;
    for id in &ids {
        if found_the_fix(&server, &key, id).await {
            found += 1;
        }
    }
    // The fix came from reflection on judged failures, not from a one-shot rewrite.
    let calls = world.calls();
    assert!(
        calls.get(&CallKind::Reflection).copied().unwrap_or(0) > 0,
        "{calls:?}"
    );
    assert!(
        calls.get(&CallKind::Verdicts).copied().unwrap_or(0) > 0,
        "{calls:?}"
    );
    assert_eq!(calls.get(&CallKind::Variants), None, "{calls:?}");
    println!("known-fix world: the fix found and named the winner in {found} of {SEEDS} seeds");
    assert!(found >= MIN_FOUND, "found in {found} of {SEEDS} seeds");
}
