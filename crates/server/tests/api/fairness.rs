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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_sharing_the_operators_endpoint_each_hold_only_their_share_of_its_slots() {
    use crate::common::fake_model::{CallKind, FakeModel, FAKE_MODEL_NAME};
    use converra_server::engine::model::client::ModelConfig;
    use converra_server::engine::registry::ModelDefaults;
    use std::time::Duration;

    // The stalling account's own prompt never gets an answer; everything else is prompt.
    let model = FakeModel::start_unrecorded().await;
    let well = |request: &crate::common::fake_model::RecordedRequest| match request.kind() {
        CallKind::Verdicts => FakeModel::json_chat_reply(FakeModel::verdicts_json(&vec![
            80.0;
            request
                .conversations_judged(
                )
        ])),
        CallKind::Variants => FakeModel::json_chat_reply(FakeModel::variants_json(1)),
        CallKind::SimulatedUser => FakeModel::chat_reply("Thanks, that is all. [DONE]"),
        _ => FakeModel::chat_reply("Happy to help with your order."),
    };
    model.respond_with(move |request| {
        let reply = well(request);
        if request.kind() == CallKind::Agent && request.system().contains("STALL") {
            reply.with_delay(Duration::from_secs(3_600))
        } else {
            reply
        }
    });
    let server = TestServer::start_with(converra_server::state::ServerConfig {
        model_defaults: ModelDefaults {
            base_url: Some(model.base_url.clone()),
            model: Some(FAKE_MODEL_NAME.to_owned()),
            api_key: None,
        },
        tune_model: |config: &mut ModelConfig| config.retry_base = Duration::from_millis(5),
        ..Default::default()
    })
    .await;
    let small = json!({"personaCount": 2, "scenariosPerSimulation": 2, "maxTurns": 2});
    let stalling = server.key("Stalling", PlanId::Pro).await;
    let (status, body) = server
        .post(
            "/agents",
            &stalling,
            json!({"name": "Support", "content": "STALL: you help customers."}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let stalling_agent = body["data"]["id"].as_str().unwrap().to_owned();
    for seed in 0..2 {
        start(
            &server,
            &stalling,
            json!({"agentId": stalling_agent, "seed": seed, "variantCount": 1,
                   "optimizationStrategy": "rewrite", "simulation": small}),
        )
        .await;
    }
    let other = server.key("Other", PlanId::Pro).await;
    let other_agent = agent(&server, &other).await;
    let run = start(
        &server,
        &other,
        json!({"agentId": other_agent, "seed": 1, "variantCount": 1,
               "optimizationStrategy": "rewrite", "simulation": small}),
    )
    .await;
    // Without shares the stalled calls would hold all four slots of the shared client.
    let done = finished(&server, &other, run["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed", "{done}");
}
