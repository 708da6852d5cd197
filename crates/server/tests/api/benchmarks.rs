//! Benchmarks over real HTTP: a run to completion with per-agent results and a winner,
//! validation, account isolation, the list's filters and paging, bulk delete and cancel,
//! determinism, the `benchmark.completed` webhook, models on a model engine (a fake
//! chat-completions endpoint), engine failures and a rerun after a restart.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::fake_model::{CallKind, FakeModel, FAKE_MODEL_NAME};
use crate::common::{send, test_database, TestServer, START_MS};
use axum::body::Bytes;
use converra_api::PlanId;
use converra_server::clock::ManualClock;
use converra_server::engine::model::ModelConfig;
use converra_server::engine::personas::personas;
use converra_server::engine::registry::ModelDefaults;
use converra_server::state::{AppState, ServerConfig};
use converra_server::store::agents::{insert_agent, NewAgent, VersionOrigin};
use converra_server::store::benchmarks::{insert_benchmark, NewBenchmark};
use converra_server::store::{Database, Durability, Store};
use serde_json::{json, Value};

/// A prompt that asks for most of what the simulated users need.
const CAREFUL_PROMPT: &str = "You are Acme's support agent. Ask for the order number and any \
    missing details before acting. Keep answers short. If a tool fails, say so and offer an \
    alternative. Acknowledge the customer's feelings and stay calm. Answer the question asked \
    directly. Do not repeat yourself; move the conversation forward. Only state facts from \
    tools; say when you are unsure. Hand over to a human when asked or when stuck.";
/// A prompt that asks for nothing in particular.
const BARE_PROMPT: &str = "You are a bot.";

const METRICS: [&str; 11] = [
    "successScore",
    "aiRelevancy",
    "sentiment",
    "hallucinationScore",
    "repetitionScore",
    "consistencyScore",
    "naturalLanguageScore",
    "contextRetentionScore",
    "verbosityScore",
    "taskCompletion",
    "clarity",
];

async fn create_agent(server: &TestServer, key: &str, name: &str, content: &str) -> String {
    let (status, body) = server
        .post("/agents", key, json!({"name": name, "content": content}))
        .await;
    assert_eq!(status, 201, "{body}");
    body["data"]["id"].as_str().unwrap().to_owned()
}

async fn create_benchmark(server: &TestServer, key: &str, body: Value) -> Value {
    let (status, created) = server.post("/benchmarks", key, body).await;
    assert_eq!(status, 201, "{created}");
    created["data"].clone()
}

/// Polls the benchmark until it is finished (completed, failed or cancelled).
async fn wait_finished(server: &TestServer, key: &str, id: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = server.get(&format!("/benchmarks/{id}"), key).await;
        assert_eq!(status, 200, "{body}");
        let state = body["data"]["status"].as_str().unwrap().to_owned();
        if ["completed", "failed", "cancelled"].contains(&state.as_str()) {
            return body["data"].clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "benchmark {id} still {state} at the deadline: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls until `check` holds for the benchmark.
async fn wait_for(
    server: &TestServer,
    key: &str,
    id: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, body) = server.get(&format!("/benchmarks/{id}"), key).await;
        if check(&body["data"]) {
            return body["data"].clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "benchmark {id} never reached the awaited state: {body}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn field_errors(body: &Value) -> Vec<String> {
    body["error"]["details"]["fields"]
        .as_array()
        .map(|fields| {
            fields
                .iter()
                .map(|f| f["field"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_benchmark_runs_every_agent_and_the_best_overall_score_wins() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let careful = create_agent(&server, &key, "Careful", CAREFUL_PROMPT).await;
    let bare = create_agent(&server, &key, "Bare", BARE_PROMPT).await;

    let created = create_benchmark(
        &server,
        &key,
        json!({"agentIds": [careful, bare], "scenarioCount": 2}),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    assert!(id.starts_with("bench_"), "{created}");
    assert_eq!(created["status"], "queued");
    assert_eq!(created["name"], "Benchmark of Careful, Bare");
    assert_eq!(created["scenarioCount"], 2);
    assert_eq!(created["maxTurns"], 8);
    assert_eq!(created["engine"], "offline");
    let default_personas: Vec<&str> = personas().iter().take(3).map(|p| p.id).collect();
    assert_eq!(created["personaIds"], json!(default_personas));
    assert_eq!(created["progress"], json!({"completed": 0, "total": 12}));
    assert!(created.get("results").is_none() && created.get("winner").is_none());

    let done = wait_finished(&server, &key, id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["progress"], json!({"completed": 12, "total": 12}));
    assert!(done["startedAt"].is_string() && done["completedAt"].is_string());
    assert!(done.get("error").is_none());
    let results = done["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["agentId"], careful);
    assert_eq!(results[0]["agentName"], "Careful");
    assert_eq!(results[1]["agentId"], bare);
    for result in results {
        assert_eq!(result["conversationCount"], 6, "{result}");
        let pass_rate = result["passRate"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&pass_rate), "{result}");
        let metrics = result["metrics"].as_object().unwrap();
        assert_eq!(metrics.len(), 11, "{result}");
        for name in METRICS {
            let value = metrics[name].as_f64().unwrap();
            assert!((0.0..=100.0).contains(&value), "{name} = {value}");
        }
        // The overall score is the plain mean of the 11 metrics, so the mean of the
        // conversations' overall scores is the mean of the metrics' means.
        let mean = metrics.values().map(|v| v.as_f64().unwrap()).sum::<f64>() / 11.0;
        let overall = result["overallScore"].as_f64().unwrap();
        assert!((overall - mean).abs() < 1e-9, "{overall} vs {mean}");
        assert!(result.get("model").is_none());
    }
    let best = results
        .iter()
        .max_by(|a, b| {
            a["overallScore"]
                .as_f64()
                .unwrap()
                .total_cmp(&b["overallScore"].as_f64().unwrap())
        })
        .unwrap();
    assert_eq!(done["winner"], best["agentId"]);
    // The offline engine's users fare better with a prompt that asks for what they need.
    assert_eq!(done["winner"], careful);
}

#[tokio::test]
async fn invalid_requests_name_the_offending_field() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let agent = create_agent(&server, &key, "Support", CAREFUL_PROMPT).await;

    let cases = [
        (json!({}), "agentIds"),
        (json!({"agentIds": []}), "agentIds"),
        (json!({"agentIds": [agent], "agentId": agent}), "agentId"),
        (json!({"agentIds": [agent, agent]}), "agentIds[1]"),
        (
            json!({"agentId": agent, "scenarioCount": 0}),
            "scenarioCount",
        ),
        (
            json!({"agentId": agent, "scenarioCount": 11}),
            "scenarioCount",
        ),
        (json!({"agentId": agent, "maxTurns": 1}), "maxTurns"),
        (json!({"agentId": agent, "maxTurns": 31}), "maxTurns"),
        (json!({"agentId": agent, "personaIds": []}), "personaIds"),
        (
            json!({"agentId": agent, "personaIds": ["persona_nobody"]}),
            "personaIds[0]",
        ),
        (json!({"agentId": agent, "name": "x".repeat(201)}), "name"),
        (json!({"agentId": agent, "name": "  "}), "name"),
        (
            json!({"agentIds": (0..11).map(|i| format!("agent_{i}")).collect::<Vec<_>>()}),
            "agentIds",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) = server.post("/benchmarks", &key, body.clone()).await;
        assert_eq!(status, 400, "{body} -> {answer}");
        assert_eq!(answer["error"]["code"], "VALIDATION_ERROR", "{answer}");
        assert!(
            field_errors(&answer).contains(&field.to_owned()),
            "{body}: expected an error on {field}: {answer}"
        );
    }

    // The offline engine plays every model the same: a benchmark over models is refused.
    let (status, answer) = server
        .post(
            "/benchmarks",
            &key,
            json!({"agentId": agent, "models": ["gpt-4o", "gpt-4o-mini"]}),
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"]["code"], "VALIDATION_ERROR");
    assert_eq!(field_errors(&answer), ["models"]);
    let message = answer["error"]["details"]["fields"][0]["message"]
        .as_str()
        .unwrap();
    assert!(message.contains("offline engine"), "{message}");

    // An unknown field is refused by name.
    let (status, answer) = server
        .post("/benchmarks", &key, json!({"agentId": agent, "agents": 2}))
        .await;
    assert_eq!(status, 400);
    assert!(answer.to_string().contains("agents"), "{answer}");

    // An agent that is not in the account is not found, by its id.
    let (status, answer) = server
        .post(
            "/benchmarks",
            &key,
            json!({"agentIds": [agent, "agent_missing"]}),
        )
        .await;
    assert_eq!(status, 404, "{answer}");
    assert_eq!(answer["error"]["code"], "NOT_FOUND");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("agent_missing"),
        "{answer}"
    );
    let (_, list) = server.get("/benchmarks", &key).await;
    assert_eq!(list["pagination"]["total"], 0, "nothing was queued: {list}");
}

#[tokio::test]
async fn another_accounts_benchmark_and_agents_are_not_found() {
    let server = TestServer::start().await;
    let acme = server.key("Acme", PlanId::Pro).await;
    let globex = server.key("Globex", PlanId::Pro).await;
    let agent = create_agent(&server, &acme, "Support", CAREFUL_PROMPT).await;
    let created = create_benchmark(
        &server,
        &acme,
        json!({"agentId": agent, "scenarioCount": 1}),
    )
    .await;
    let id = created["id"].as_str().unwrap();

    let (status, body) = server.get(&format!("/benchmarks/{id}"), &globex).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "NOT_FOUND");
    let (status, unknown) = server.get("/benchmarks/bench_nope", &globex).await;
    assert_eq!(status, 404);
    assert_eq!(
        body["error"]["message"].as_str().unwrap().replace(id, "X"),
        unknown["error"]["message"]
            .as_str()
            .unwrap()
            .replace("bench_nope", "X"),
        "another account's id reads like an unknown one"
    );
    let (_, list) = server.get("/benchmarks", &globex).await;
    assert_eq!(list["pagination"]["total"], 0);

    // Globex cannot benchmark Acme's agent, nor cancel or delete Acme's benchmark.
    let (status, _) = server
        .post("/benchmarks", &globex, json!({"agentId": agent}))
        .await;
    assert_eq!(status, 404);
    for action in ["cancel", "delete"] {
        let (status, body) = server
            .post(
                "/benchmarks/bulk",
                &globex,
                json!({"action": action, "jobIds": [id]}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["succeeded"], json!([]));
        assert_eq!(
            body["data"]["failed"],
            json!([{"id": id, "error": "not found"}])
        );
    }
    let (status, _) = server.get(&format!("/benchmarks/{id}"), &acme).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_list_filters_by_agent_and_status_and_pages_newest_first() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let a = create_agent(&server, &key, "A", CAREFUL_PROMPT).await;
    let b = create_agent(&server, &key, "B", BARE_PROMPT).await;
    let mut ids = Vec::new();
    for agents in [json!([a]), json!([a, b]), json!([b])] {
        server.clock.advance_ms(1_000);
        let created = create_benchmark(
            &server,
            &key,
            json!({"agentIds": agents, "scenarioCount": 1, "personaIds": [personas()[0].id]}),
        )
        .await;
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        assert_eq!(
            wait_finished(&server, &key, id).await["status"],
            "completed"
        );
    }

    let (status, all) = server.get("/benchmarks", &key).await;
    assert_eq!(status, 200);
    assert_eq!(all["pagination"]["total"], 3);
    let listed: Vec<&str> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [&ids[2], &ids[1], &ids[0]], "newest first");

    let (_, with_a) = server.get(&format!("/benchmarks?agentId={a}"), &key).await;
    assert_eq!(with_a["pagination"]["total"], 2);
    let (_, with_b) = server.get(&format!("/benchmarks?agentId={b}"), &key).await;
    assert_eq!(with_b["data"][0]["id"], ids[2]);
    assert_eq!(with_b["data"][1]["id"], ids[1]);
    let (_, completed) = server.get("/benchmarks?status=completed", &key).await;
    assert_eq!(completed["pagination"]["total"], 3);
    let (_, queued) = server.get("/benchmarks?status=queued", &key).await;
    assert_eq!(queued["pagination"]["total"], 0);
    let (status, bad) = server.get("/benchmarks?status=finished", &key).await;
    assert_eq!(status, 400, "{bad}");

    // A cursor walk sees every benchmark once, even when a new one arrives meanwhile.
    let (_, first) = server.get("/benchmarks?limit=2", &key).await;
    assert_eq!(first["pagination"]["hasMore"], true);
    let cursor = first["pagination"]["nextCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    server.clock.advance_ms(1_000);
    create_benchmark(&server, &key, json!({"agentId": a, "scenarioCount": 1})).await;
    let (_, second) = server
        .get(&format!("/benchmarks?limit=2&cursor={cursor}"), &key)
        .await;
    assert_eq!(second["pagination"]["hasMore"], false);
    let walked: Vec<&str> = first["data"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["data"].as_array().unwrap())
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    assert_eq!(walked, [&ids[2], &ids[1], &ids[0]]);
}

#[tokio::test]
async fn bulk_delete_reports_unknown_ids_and_bad_requests_are_refused() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let agent = create_agent(&server, &key, "Support", CAREFUL_PROMPT).await;
    let one = create_benchmark(&server, &key, json!({"agentId": agent, "scenarioCount": 1})).await;
    let two = create_benchmark(&server, &key, json!({"agentId": agent, "scenarioCount": 1})).await;
    let (one, two) = (one["id"].as_str().unwrap(), two["id"].as_str().unwrap());
    wait_finished(&server, &key, one).await;
    wait_finished(&server, &key, two).await;

    // Cancelling a finished benchmark fails with the reason.
    let (status, body) = server
        .post(
            "/benchmarks/bulk",
            &key,
            json!({"action": "cancel", "jobIds": [one]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["action"], "cancel");
    let error = body["data"]["failed"][0]["error"].as_str().unwrap();
    assert!(error.contains("already completed"), "{error}");

    let (status, body) = server
        .post(
            "/benchmarks/bulk",
            &key,
            json!({"action": "delete", "jobIds": [one, "bench_unknown", one]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"],
        json!({"action": "delete", "succeeded": [one],
               "failed": [{"id": "bench_unknown", "error": "not found"}]})
    );
    let (status, _) = server.get(&format!("/benchmarks/{one}"), &key).await;
    assert_eq!(status, 404);
    let (status, _) = server.get(&format!("/benchmarks/{two}"), &key).await;
    assert_eq!(status, 200);

    let (status, body) = server
        .post(
            "/benchmarks/bulk",
            &key,
            json!({"action": "stop", "jobIds": [two]}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "VALIDATION_ERROR");
    let text = body.to_string();
    assert!(
        text.contains("action")
            && text.contains("stop")
            && text.contains("delete")
            && text.contains("cancel"),
        "the error names the field, the value and the actions: {body}"
    );
    let (status, body) = server
        .post(
            "/benchmarks/bulk",
            &key,
            json!({"action": "delete", "jobIds": []}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(field_errors(&body), ["jobIds"]);
    let many: Vec<String> = (0..101).map(|i| format!("bench_{i}")).collect();
    let (status, body) = server
        .post(
            "/benchmarks/bulk",
            &key,
            json!({"action": "delete", "jobIds": many}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(field_errors(&body), ["jobIds"]);
    let (status, _) = server
        .post("/benchmarks/bulk", &key, json!({"action": "delete"}))
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_same_benchmark_twice_gives_the_same_numbers() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let careful = create_agent(&server, &key, "Careful", CAREFUL_PROMPT).await;
    let bare = create_agent(&server, &key, "Bare", BARE_PROMPT).await;
    let body = json!({"agentIds": [careful, bare], "scenarioCount": 3, "maxTurns": 10});
    let first = create_benchmark(&server, &key, body.clone()).await;
    let second = create_benchmark(&server, &key, body).await;
    let alone = create_benchmark(
        &server,
        &key,
        json!({"agentId": careful, "scenarioCount": 3, "maxTurns": 10}),
    )
    .await;
    let first = wait_finished(&server, &key, first["id"].as_str().unwrap()).await;
    let second = wait_finished(&server, &key, second["id"].as_str().unwrap()).await;
    let alone = wait_finished(&server, &key, alone["id"].as_str().unwrap()).await;
    assert_eq!(first["status"], "completed");
    assert_eq!(first["results"], second["results"]);
    assert_eq!(first["winner"], second["winner"]);
    // Users are seeded by the cell, not the agent: an agent scores the same whoever it is
    // compared with.
    assert_eq!(alone["results"][0], first["results"][0]);
}

/// A webhook receiver on a loopback port that records every body and answers 200.
async fn receiver() -> (String, Arc<Mutex<Vec<Bytes>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: Bytes| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(body);
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

#[tokio::test]
async fn a_completed_benchmark_is_announced_to_subscribed_webhooks() {
    let server = TestServer::start_with(ServerConfig {
        allow_private_network: true,
        ..ServerConfig::default()
    })
    .await;
    let key = server.key("Acme", PlanId::Pro).await;
    let (url, received) = receiver().await;
    let (status, hook) = server
        .post(
            "/webhooks",
            &key,
            json!({"url": url, "events": ["benchmark.completed"]}),
        )
        .await;
    assert_eq!(status, 201, "{hook}");
    let careful = create_agent(&server, &key, "Careful", CAREFUL_PROMPT).await;
    let bare = create_agent(&server, &key, "Bare", BARE_PROMPT).await;
    let created = create_benchmark(
        &server,
        &key,
        json!({"agentIds": [careful, bare], "scenarioCount": 1, "name": "Weekly check"}),
    )
    .await;
    let done = wait_finished(&server, &key, created["id"].as_str().unwrap()).await;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let body = loop {
        if let Some(body) = received.lock().unwrap().first().cloned() {
            break body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no delivery arrived"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let event: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(event["type"], "benchmark.completed");
    assert!(event["id"].as_str().unwrap().starts_with("evt_"));
    let data = &event["data"];
    assert_eq!(data["benchmarkId"], done["id"]);
    assert_eq!(data["name"], "Weekly check");
    assert_eq!(data["agentIds"], json!([careful, bare]));
    assert_eq!(data["winner"], done["winner"]);
    assert_eq!(data["results"], done["results"]);
    assert_eq!(data["completedAt"], done["completedAt"]);
    assert_eq!(
        received.lock().unwrap().len(),
        1,
        "one event, delivered once"
    );
}

/// A server whose accounts are served by the fake model unless their settings say otherwise.
async fn model_server(fake: &FakeModel) -> TestServer {
    TestServer::start_with(ServerConfig {
        model_defaults: ModelDefaults {
            base_url: Some(fake.base_url.clone()),
            model: Some(FAKE_MODEL_NAME.to_owned()),
            api_key: Some("sk-test-key".to_owned()),
        },
        tune_model: |config: &mut ModelConfig| {
            config.timeout = Duration::from_secs(5);
            config.max_retries = 0;
            config.retry_base = Duration::from_millis(5);
        },
        ..ServerConfig::default()
    })
    .await
}

/// A cooperative fake model whose every answer takes `delay`.
fn behave_slowly(fake: &FakeModel, delay: Duration) {
    fake.respond_with(move |request| {
        let reply = match request.kind() {
            CallKind::Judge => FakeModel::json_chat_reply(FakeModel::analysis_json(80.0)),
            CallKind::Variants => FakeModel::json_chat_reply(FakeModel::variants_json(1)),
            CallKind::Agent => FakeModel::chat_reply("Sure. What is your order number?"),
            CallKind::SimulatedUser => FakeModel::chat_reply("It is 1234, thanks! [DONE]"),
            CallKind::Verdicts | CallKind::Reflection => {
                FakeModel::error_reply(500, "a benchmark makes no such call")
            }
        };
        reply.with_delay(delay)
    });
}

#[tokio::test]
async fn a_model_engine_compares_one_agent_across_models_and_counts_its_tokens() {
    let fake = FakeModel::start().await;
    fake.behave_well();
    let server = model_server(&fake).await;
    let key = server.key("Acme", PlanId::Pro).await;
    let agent = create_agent(&server, &key, "Support", CAREFUL_PROMPT).await;
    let other = create_agent(&server, &key, "Other", BARE_PROMPT).await;

    let (status, body) = server
        .post(
            "/benchmarks",
            &key,
            json!({"agentIds": [agent, other], "models": ["model-a", "model-b"]}),
        )
        .await;
    assert_eq!(status, 400, "models compare one agent: {body}");
    let (status, body) = server
        .post(
            "/benchmarks",
            &key,
            json!({"agentId": agent, "models": ["model-a"]}),
        )
        .await;
    assert_eq!(status, 400, "at least two models: {body}");

    let created = create_benchmark(
        &server,
        &key,
        json!({"agentId": agent, "models": ["model-a", "model-b"], "scenarioCount": 1,
               "personaIds": [personas()[0].id]}),
    )
    .await;
    assert_eq!(created["models"], json!(["model-a", "model-b"]));
    assert_eq!(created["name"], "Benchmark of Support on model-a, model-b");
    assert_eq!(created["engine"], format!("model:{FAKE_MODEL_NAME}"));
    assert_eq!(created["progress"]["total"], 2);
    let done = wait_finished(&server, &key, created["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed", "{done}");
    let results = done["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["model"], "model-a");
    assert_eq!(results[1]["model"], "model-b");
    for result in results {
        assert_eq!(result["agentId"], agent);
        assert_eq!(result["passRate"], 1.0);
        assert!(result["avgLatencyMs"].is_number(), "{result}");
    }
    assert!(["model-a", "model-b"].contains(&done["winner"].as_str().unwrap()));

    // Each model played the agent's side; the account's model judged both.
    let asked: Vec<(CallKind, String)> = fake
        .requests()
        .iter()
        .map(|r| {
            (
                r.kind(),
                r.body["model"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    for model in ["model-a", "model-b"] {
        assert!(
            asked.contains(&(CallKind::Agent, model.to_owned())),
            "{model} never played: {asked:?}"
        );
    }
    assert!(asked
        .iter()
        .filter(|(kind, _)| *kind == CallKind::Judge)
        .all(|(_, model)| model == FAKE_MODEL_NAME));

    let (_, usage) = server.get("/usage", &key).await;
    assert!(
        usage["data"]["tokens"]["used"].as_u64().unwrap() > 0,
        "{usage}"
    );
}

#[tokio::test]
async fn an_engine_error_fails_the_benchmark_with_its_code() {
    let fake = FakeModel::start().await;
    fake.respond_with(|_| FakeModel::error_reply(400, "model_not_found: no such model"));
    let server = model_server(&fake).await;
    let key = server.key("Acme", PlanId::Pro).await;
    let agent = create_agent(&server, &key, "Support", CAREFUL_PROMPT).await;
    let created =
        create_benchmark(&server, &key, json!({"agentId": agent, "scenarioCount": 1})).await;
    let done = wait_finished(&server, &key, created["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(done["error"]["code"], "MODEL_ERROR");
    // The status in our words; the endpoint's body is never shown.
    assert_eq!(
        done["error"]["message"],
        "the language model endpoint answered 400"
    );
    assert!(done.get("results").is_none());
}

#[tokio::test]
async fn bulk_cancel_stops_a_running_benchmark_and_a_queued_one_never_starts() {
    let fake = FakeModel::start().await;
    behave_slowly(&fake, Duration::from_millis(100));
    let server = model_server(&fake).await;
    let key = server.key("Acme", PlanId::Pro).await;
    let agent = create_agent(&server, &key, "Support", CAREFUL_PROMPT).await;
    let running =
        create_benchmark(&server, &key, json!({"agentId": agent, "scenarioCount": 5})).await;
    server.clock.advance_ms(1_000);
    let queued =
        create_benchmark(&server, &key, json!({"agentId": agent, "scenarioCount": 5})).await;
    let (running, queued) = (
        running["id"].as_str().unwrap().to_owned(),
        queued["id"].as_str().unwrap().to_owned(),
    );
    wait_for(&server, &key, &running, |b| {
        b["status"] == "running" && b["progress"]["completed"].as_u64().unwrap() >= 1
    })
    .await;

    let (status, body) = server
        .post(
            "/benchmarks/bulk",
            &key,
            json!({"action": "cancel", "jobIds": [running, queued]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["succeeded"], json!([running, queued]));
    assert_eq!(body["data"]["failed"], json!([]));

    // The runner notices at its next finished run and plays nothing more.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let calls = fake.requests().len();
    let stopped = wait_finished(&server, &key, &running).await;
    assert_eq!(stopped["status"], "cancelled");
    let progress = stopped["progress"]["completed"].as_u64().unwrap();
    assert!(progress < 15, "{stopped}");
    assert!(stopped.get("results").is_none());
    let never = wait_finished(&server, &key, &queued).await;
    assert_eq!(never["status"], "cancelled");
    assert!(never.get("startedAt").is_none(), "{never}");
    assert_eq!(never["progress"]["completed"], 0);
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(
        fake.requests().len(),
        calls,
        "no more calls after the cancel"
    );
    let (_, again) = server.get(&format!("/benchmarks/{running}"), &key).await;
    assert_eq!(again["data"]["progress"]["completed"], progress);

    // The runner is free for the next one; deleting a running one stops it too.
    let next = create_benchmark(&server, &key, json!({"agentId": agent, "scenarioCount": 3})).await;
    let next = next["id"].as_str().unwrap();
    wait_for(&server, &key, next, |b| b["status"] == "running").await;
    let (_, body) = server
        .post(
            "/benchmarks/bulk",
            &key,
            json!({"action": "delete", "jobIds": [next]}),
        )
        .await;
    assert_eq!(body["data"]["succeeded"], json!([next]));
    let (status, _) = server.get(&format!("/benchmarks/{next}"), &key).await;
    assert_eq!(status, 404);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let calls = fake.requests().len();
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(
        fake.requests().len(),
        calls,
        "a deleted benchmark plays no more"
    );
}

#[tokio::test]
async fn a_benchmark_left_running_by_a_stopped_server_is_rerun_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = test_database(dir.path()).await;
    let store = Store::connect(&db, Durability::Normal).await.unwrap();
    let issued = store
        .issue_key("Acme", PlanId::Pro, START_MS)
        .await
        .unwrap();
    let mut tx = store.begin_write().await.unwrap();
    let agent = insert_agent(
        &mut tx,
        &issued.account.id,
        &NewAgent::from_prompt(
            "Support".into(),
            CAREFUL_PROMPT.into(),
            "gpt-4o-mini".into(),
        ),
        &VersionOrigin::manual(),
        START_MS,
    )
    .await
    .unwrap();
    let new = NewBenchmark {
        name: "Interrupted".into(),
        agent_ids: vec![agent.id.clone()],
        models: None,
        persona_ids: vec![personas()[0].id.to_owned()],
        scenario_count: 2,
        max_turns: 8,
        seed: converra_server::jobs::benchmarks::SUITE_SEED,
        engine: "offline".into(),
    };
    let benchmark = insert_benchmark(&mut tx, &issued.account.id, &new, START_MS)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // What a process killed mid-run leaves behind: the row claimed, some progress made.
    let claimed = store.claim_next_benchmark(START_MS).await.unwrap().unwrap();
    assert_eq!(claimed.benchmark.id, benchmark.id);
    assert!(store
        .record_benchmark_run(&issued.account.id, &benchmark.id, 1, 0, START_MS)
        .await
        .unwrap());
    store.close().await;

    let (base, _shutdown) = serve(&db).await;
    let http = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let done = loop {
        let (status, body) = send(
            http.get(format!("{base}/benchmarks/{}", benchmark.id))
                .bearer_auth(&issued.key),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        if body["data"]["status"] == "completed" {
            break body["data"].clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never rerun: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(done["progress"], json!({"completed": 2, "total": 2}));
    assert_eq!(done["results"][0]["conversationCount"], 2);
}

/// Serves the database at `db` on a loopback port until the returned sender is dropped.
async fn serve(db: &Database) -> (String, tokio::sync::oneshot::Sender<()>) {
    let store = Store::connect(db, Durability::Normal).await.unwrap();
    let clock = ManualClock::new(START_MS + 60_000);
    let state = AppState::new(store, Arc::new(clock), ServerConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/api/v1", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(converra_server::app::serve(listener, state, async {
        let _ = rx.await;
    }));
    (base, tx)
}

#[tokio::test]
async fn openapi_lists_the_benchmark_paths() {
    let server = TestServer::start().await;
    let (status, doc) = send(server.http.get(format!("{}/openapi.json", server.base))).await;
    assert_eq!(status, 200);
    let paths = &doc["paths"];
    assert!(paths["/benchmarks"]["get"].is_object());
    assert!(paths["/benchmarks"]["post"].is_object());
    assert!(paths["/benchmarks/{id}"]["get"].is_object());
    assert!(paths["/benchmarks/bulk"]["post"].is_object());
    assert!(doc["components"]["schemas"]["Benchmark"].is_object());
}

#[tokio::test]
async fn at_most_three_benchmarks_run_at_once_and_a_month_holds_the_plans_quota() {
    let fake = FakeModel::start().await;
    behave_slowly(&fake, Duration::from_millis(500));
    let server = model_server(&fake).await;
    let key = server.key("Acme", PlanId::Free).await;
    let agent = create_agent(&server, &key, "Support", CAREFUL_PROMPT).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let created =
            create_benchmark(&server, &key, json!({"agentId": agent, "scenarioCount": 5})).await;
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    let (status, body) = server
        .post("/benchmarks", &key, json!({"agentId": agent}))
        .await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["code"], "CONCURRENCY_LIMIT");
    assert!(body["error"]["message"].as_str().unwrap().contains("(3)"));

    // Cancelled ones free their slots, but still count towards the month (10 on Free).
    let (status, _) = server
        .post(
            "/benchmarks/bulk",
            &key,
            json!({"action": "cancel", "jobIds": ids}),
        )
        .await;
    assert_eq!(status, 200);
    for id in &ids {
        assert_eq!(
            wait_finished(&server, &key, id).await["status"],
            "cancelled"
        );
    }
    for created in 3..10 {
        let body = create_benchmark(&server, &key, json!({"agentId": agent})).await;
        let id = body["id"].as_str().unwrap().to_owned();
        let (status, _) = server
            .post(
                "/benchmarks/bulk",
                &key,
                json!({"action": "delete", "jobIds": [id]}),
            )
            .await;
        assert_eq!(status, 200, "benchmark {created}");
    }
    let (status, body) = server
        .post("/benchmarks", &key, json!({"agentId": agent}))
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "LIMIT_EXCEEDED");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("10 benchmarks a month"));
}
