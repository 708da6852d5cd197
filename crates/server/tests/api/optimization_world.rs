//! How often optimizations name a winner when no prompt is better than another: many small
//! optimizations through the real server, its model engine pointed at the null world.

use serde_json::{json, Value};

use crate::common::TestServer;
use crate::model_world::{account_in_world, null_world, server_config, Seeds};

/// Optimizations per world.
const RUNS: usize = 200;
/// The most that may name a winner: 7 % of the runs, for a nominal 5 to 10 % test.
const MAX_WINNER_RATE: f64 = 0.07;
/// Runs started at once: the account's limit on concurrent optimizations.
const BATCH: usize = 10;

/// The share of `RUNS` small optimizations (2 variants, 4 personas × 2 scenarios = 8 cells,
/// 3 turns) that named a winner in the null world.
async fn winner_rate(seeds: Seeds) -> f64 {
    let world = null_world(seeds).await;
    let server = TestServer::start_with(server_config()).await;
    let key = account_in_world(&server, "Null world", &world.base_url).await;

    let mut winners = 0;
    for batch in 0..RUNS.div_ceil(BATCH) {
        let mut ids = Vec::with_capacity(BATCH);
        for run in batch * BATCH..((batch + 1) * BATCH).min(RUNS) {
            // An agent of its own per run: where the server ignores seeds, runs of one prompt
            // would all be the same run, and the rate would rest on one experiment.
            let (status, body) = server
                .post(
                    "/agents",
                    &key,
                    json!({"name": format!("Support {run}"),
                           "content": format!("You are the support agent of Acme Shop, desk {run}.")}),
                )
                .await;
            assert_eq!(status, 201, "{body}");
            let agent_id = body["data"]["id"].as_str().expect("an id").to_owned();
            let (status, body) = server
                .post(
                    "/optimizations",
                    &key,
                    json!({"agentId": agent_id, "variantCount": 2, "seed": run,
                           "optimizationStrategy": "rewrite",
                           "simulation": {"personaCount": 4, "scenariosPerSimulation": 2, "maxTurns": 3}}),
                )
                .await;
            assert_eq!(status, 201, "{body}");
            ids.push(body["data"]["id"].as_str().expect("an id").to_owned());
        }
        for id in ids {
            let done = server
                .wait_for(&format!("/optimizations/{id}"), &key, |b| {
                    b["data"]["status"] != "queued" && b["data"]["status"] != "running"
                })
                .await;
            let done = &done["data"];
            assert_eq!(done["status"], "completed", "{done}");
            if named_a_winner(done) {
                winners += 1;
            }
        }
    }
    winners as f64 / RUNS as f64
}

fn named_a_winner(optimization: &Value) -> bool {
    let results = &optimization["results"];
    let named = results["winnerSelected"] == true;
    assert_eq!(named, results["winningVariantId"].is_string(), "{results}");
    named
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_the_null_world_few_optimizations_name_a_winner() {
    let rate = winner_rate(Seeds::Honoured).await;
    println!(
        "null world, seeds honoured: a winner in {:.1} % of {RUNS} optimizations",
        rate * 100.0
    );
    assert!(
        rate <= MAX_WINNER_RATE,
        "{:.1} % named a winner",
        rate * 100.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_ignores_seeds_does_not_make_winners_out_of_identical_replicates() {
    let rate = winner_rate(Seeds::Ignored).await;
    println!(
        "null world, seeds ignored: a winner in {:.1} % of {RUNS} optimizations",
        rate * 100.0
    );
    assert!(
        rate <= MAX_WINNER_RATE,
        "{:.1} % named a winner",
        rate * 100.0
    );
}
