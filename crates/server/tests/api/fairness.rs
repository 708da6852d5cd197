//! One tenant cannot stall the others: an account whose model endpoint never answers holds
//! only its own runners, and another account's offline optimization completes meanwhile.

use converra_api::PlanId;
use converra_server::store::optimizations::RUNNING_PER_ACCOUNT;
use serde_json::json;

use crate::common::TestServer;
use crate::optimizations::{finished, start};

/// A model endpoint that accepts connections and never answers.
async fn endpoint_that_never_answers() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    format!("http://{addr}/v1")
}

async fn agent(server: &TestServer, key: &str) -> String {
    let (status, body) = server
        .post(
            "/agents",
            key,
            json!({"name": "Support", "content": "You help customers with their orders."}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["data"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_account_holds_only_its_own_runners() {
    // The model client's own 60 s timeout: the stuck runs stay stuck for the whole test.
    let server = TestServer::start_with(converra_server::state::ServerConfig {
        allow_private_network: true,
        ..Default::default()
    })
    .await;
    let stuck = server.key("Stuck", PlanId::Pro).await;
    let base = endpoint_that_never_answers().await;
    let (status, body) = server
        .patch(
            "/settings",
            &stuck,
            json!({"llm": {"baseUrl": base, "model": "m"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let stuck_agent = agent(&server, &stuck).await;
    let mut stuck_runs = Vec::new();
    for seed in 0..4 {
        let run = start(
            &server,
            &stuck,
            json!({"agentId": stuck_agent, "seed": seed, "optimizationStrategy": "rewrite"}),
        )
        .await;
        stuck_runs.push(run["id"].as_str().unwrap().to_owned());
    }
    let other = server.key("Other", PlanId::Pro).await;
    let other_agent = agent(&server, &other).await;
    // With one runner it would wait behind the stuck runs, past `finished`'s 30 s.
    let run = start(&server, &other, json!({"agentId": other_agent, "seed": 1})).await;
    let done = finished(&server, &other, run["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed", "{done}");
    // The stuck account's runs wait on its endpoint, no more of them than its share.
    let mut running = 0;
    for id in &stuck_runs {
        let (_, body) = server.get(&format!("/optimizations/{id}"), &stuck).await;
        match body["data"]["status"].as_str().unwrap() {
            "running" => running += 1,
            "queued" => {}
            other => panic!("a stuck run ended: {other}"),
        }
    }
    assert_eq!(
        running, RUNNING_PER_ACCOUNT,
        "runs of the stuck account running"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_benchmark_stuck_on_its_model_leaves_other_accounts_a_runner() {
    let server = TestServer::start_with(converra_server::state::ServerConfig {
        allow_private_network: true,
        ..Default::default()
    })
    .await;
    let stuck = server.key("Stuck", PlanId::Pro).await;
    let base = endpoint_that_never_answers().await;
    let (status, body) = server
        .patch(
            "/settings",
            &stuck,
            json!({"llm": {"baseUrl": base, "model": "m"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let stuck_agent = agent(&server, &stuck).await;
    let mut stuck_ids = Vec::new();
    for _ in 0..2 {
        let (status, body) = server
            .post("/benchmarks", &stuck, json!({"agentId": stuck_agent}))
            .await;
        assert_eq!(status, 201, "{body}");
        stuck_ids.push(body["data"]["id"].as_str().unwrap().to_owned());
    }
    let other = server.key("Other", PlanId::Pro).await;
    let other_agent = agent(&server, &other).await;
    let (status, body) = server
        .post("/benchmarks", &other, json!({"agentId": other_agent}))
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["data"]["id"].as_str().unwrap();
    let done = server
        .wait_for(&format!("/benchmarks/{id}"), &other, |b| {
            b["data"]["status"] == "completed"
        })
        .await;
    assert_eq!(done["data"]["status"], "completed");
    // The stuck account runs one benchmark; its second waits its turn.
    let (_, first) = server
        .get(&format!("/benchmarks/{}", stuck_ids[0]), &stuck)
        .await;
    let (_, second) = server
        .get(&format!("/benchmarks/{}", stuck_ids[1]), &stuck)
        .await;
    assert_eq!(first["data"]["status"], "running", "{first}");
    assert_eq!(second["data"]["status"], "queued", "{second}");
}
