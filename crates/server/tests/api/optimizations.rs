//! Optimizations over real HTTP: the lifecycle with the offline engine, the statistics on
//! the wire, apply and stop, the concurrency limit, model failures and restarts.

use crate::common::{test_database, TestServer, START_MS};
use converra_api::optimizations::{OptimizationOutcome, OptimizationResults};
use converra_api::{Paging, PlanId};
use converra_server::state::ServerConfig;
use converra_server::store::paging::PageRequest;
use converra_server::store::{Durability, Store};
use serde_json::{json, Value};

const PROMPT: &str = "You are Acme's support agent. Help customers with orders and refunds.";

async fn agent(server: &TestServer, key: &str) -> String {
    let (status, body) = server
        .post(
            "/agents",
            key,
            json!({"name": "Support", "content": PROMPT}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["data"]["id"].as_str().unwrap().to_owned()
}

pub(crate) async fn finished(server: &TestServer, key: &str, id: &str) -> Value {
    server
        .wait_for(&format!("/optimizations/{id}"), key, |b| {
            ["completed", "failed", "stopped"].contains(&b["data"]["status"].as_str().unwrap_or(""))
        })
        .await["data"]
        .clone()
}

pub(crate) async fn start(server: &TestServer, key: &str, body: Value) -> Value {
    let (status, body) = server.post("/optimizations", key, body).await;
    assert_eq!(status, 201, "{body}");
    body["data"].clone()
}

#[tokio::test]
async fn an_offline_optimization_runs_to_a_statistically_judged_result_and_applies() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let agent_id = agent(&server, &key).await;
    let created = start(
        &server,
        &key,
        json!({"agentId": agent_id, "variantCount": 3, "seed": 7,
               "intent": {"targetImprovements": ["shorter answers"], "hypothesis": "brevity helps"}}),
    )
    .await;
    assert_eq!(created["status"], "queued");
    assert_eq!(created["mode"], "exploratory");
    assert_eq!(created["agentVersion"], 1);
    assert_eq!(created["engine"], "offline");
    let plan = &created["simulation"];
    assert_eq!(
        plan["conversationsPerVariant"], 30,
        "5 personas × 3 scenarios × 2: {plan}"
    );
    assert_eq!(plan["confidenceLevel"], 0.9);

    let done = finished(&server, &key, created["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["progress"]["phase"], "done");
    assert_eq!(done["progress"]["percent"], 100.0);
    assert_eq!(done["progress"]["simulationsCompleted"], 120);
    assert!(done["completedAt"].is_string() && done["startedAt"].is_string());
    let results = &done["results"];

    let (status, body) = server
        .get(
            &format!(
                "/optimizations/{}/variants",
                created["id"].as_str().unwrap()
            ),
            &key,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let variants = body["data"].as_array().unwrap();
    assert_eq!(variants.len(), 4);
    assert_eq!(variants[0]["id"], "var_control");
    assert_eq!(variants[0]["isControl"], true);
    assert_eq!(variants[0]["content"], PROMPT);
    assert!(variants[0]["difference"].is_null());
    for variant in &variants[1..] {
        assert_ne!(variant["content"], PROMPT);
        assert!(!variant["changeSummary"].as_str().unwrap().is_empty());
        assert_eq!(variant["status"], "tested");
        assert_eq!(variant["metrics"]["simulationCount"], 30);
        assert_eq!(variant["stats"].as_object().unwrap().len(), 12, "{variant}");
        let overall = &variant["stats"]["overallScore"];
        assert!(overall["ci95Low"].as_f64() <= overall["mean"].as_f64());
        assert!(overall["mean"].as_f64() <= overall["ci95High"].as_f64());
        assert_eq!(
            variant["test"],
            "paired t-test, two-sided over persona × scenario cells"
        );
        assert!(variant["pValueAdjusted"].as_f64() >= variant["pValue"].as_f64());
        let difference = &variant["difference"];
        assert!(difference["ci95Low"].as_f64() <= difference["mean"].as_f64());
        assert!(variant["probabilityBetterThanControl"].as_f64().is_some());
        assert!(variant["minimumDetectableEffect"].as_f64().is_some());
        assert!(!variant["personaResults"].as_array().unwrap().is_empty());
        assert_eq!(
            variant["sampleConversationIds"].as_array().unwrap().len(),
            3
        );
        assert!(variant["tokens"]["mean"].as_f64().unwrap() > 0.0);
        // The spread behind the mean: one score per simulation, ascending, averaging to it.
        let scores: Vec<f64> = variant["conversationScores"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_f64().unwrap())
            .collect();
        assert_eq!(scores.len(), 30);
        assert!(scores.windows(2).all(|w| w[0] <= w[1]), "{scores:?}");
        let mean = scores.iter().sum::<f64>() / scores.len() as f64;
        assert!(
            (mean - overall["mean"].as_f64().unwrap()).abs() < 0.05,
            "{mean} vs {overall}"
        );
    }
    let best_sum: f64 = variants
        .iter()
        .map(|v| v["probabilityBest"].as_f64().unwrap())
        .sum();
    assert!((best_sum - 1.0).abs() < 0.01, "{best_sum}");
    // The offline engine's variants add the behaviours its scripted personas reward, so with
    // this seed a winner is named; the test checks that it is the one the rules name.
    assert_eq!(created["evidence"], "scripted");
    assert_eq!(done["evidence"], "scripted");
    assert_eq!(results["outcome"], "variant_won", "{results}");
    assert_eq!(results["winnerSelected"], true);
    assert!(results.get("reason").is_none(), "{results}");
    let winners: Vec<&Value> = variants.iter().filter(|v| v["isWinner"] == true).collect();
    assert_eq!(winners.len(), 1, "{body}");
    let winner = winners[0];
    assert_eq!(results["winningVariantId"], winner["id"]);
    // Significant: more than the minimum cells, enough data, an improvement whose adjusted
    // p-value is below 1 − the run's level; the winner is the significant arm that gains most.
    let f = |v: &Value| v.as_f64().unwrap();
    let significant = |v: &&Value| {
        v["enoughData"] == true
            && f(&v["difference"]["mean"]) > 0.0
            && f(&v["difference"]["cells"]) >= 8.0
            && f(&v["pValueAdjusted"]) < 1.0 - 0.9
    };
    let expected = variants[1..]
        .iter()
        .filter(significant)
        .max_by(|a, b| f(&a["difference"]["mean"]).total_cmp(&f(&b["difference"]["mean"])))
        .expect("a significant variant");
    assert_eq!(winner["id"], expected["id"]);
    // The unit is the persona × scenario cell: 5 × 3, each played twice.
    let difference = &winner["difference"];
    assert_eq!(results["cells"], 15, "{results}");
    assert_eq!(difference["cells"], 15, "{difference}");
    assert_eq!(difference["level"], 0.9);
    assert_eq!(results["confidenceLevel"], 0.9);
    // Significant at 0.90: the interval at that level lies above zero.
    assert!(f(&difference["low"]) > 0.0, "{difference}");
    assert!(f(&difference["low"]) <= f(&difference["mean"]));
    assert!(f(&difference["mean"]) <= f(&difference["high"]));
    // `confidence` is the strictest standard level at which the adjusted p is significant.
    let adjusted = f(&winner["pValueAdjusted"]);
    let strictest = [0.95, 0.9, 0.8]
        .into_iter()
        .find(|level| adjusted < 1.0 - level)
        .unwrap();
    assert_eq!(f(&results["confidence"]), strictest, "{results}");
    // Points are the paired difference; the percentage is of the control's mean.
    let points = f(&results["improvementPoints"]);
    assert!((points - f(&difference["mean"])).abs() < 0.01, "{results}");
    let control_mean = f(&variants[0]["stats"]["overallScore"]["mean"]);
    let percent = f(&results["improvementPercentage"]);
    assert!(
        (percent - 100.0 * points / control_mean).abs() < 0.1,
        "{percent} vs {points} of {control_mean}"
    );
    assert!((percent - points).abs() > 0.1, "a percentage, not points");

    // A sample simulated transcript can be read.
    let sample = variants[1]["sampleConversationIds"][0].as_str().unwrap();
    let (status, body) = server
        .get(
            &format!(
                "/optimizations/{}/simulations/{sample}",
                created["id"].as_str().unwrap()
            ),
            &key,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["variantId"], variants[1]["id"]);
    assert!(body["data"]["messages"].as_array().unwrap().len() >= 2);

    // Apply: the control is refused; a variant becomes version 2 with source optimization.
    let id = created["id"].as_str().unwrap();
    let (status, body) = server
        .post(
            &format!("/optimizations/{id}/apply"),
            &key,
            json!({"variantId": "var_control"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let chosen = variants[2]["id"].as_str().unwrap();
    let (status, body) = server
        .post(
            &format!("/optimizations/{id}/apply"),
            &key,
            json!({"variantId": chosen}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["success"], true);
    assert_eq!(body["data"]["agent"]["version"], 2);
    assert_eq!(body["data"]["agent"]["content"], variants[2]["content"]);
    let (_, versions) = server
        .get(&format!("/agents/{agent_id}/versions"), &key)
        .await;
    assert_eq!(versions["data"][0]["source"], "optimization");
    assert_eq!(versions["data"][0]["optimizationId"], id);
    let (_, after) = server.get(&format!("/optimizations/{id}"), &key).await;
    assert_eq!(after["data"]["appliedVariantId"], chosen);

    // Finished: stop is refused.
    let (status, _) = server
        .post(&format!("/optimizations/{id}/stop"), &key, json!({}))
        .await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn completing_a_run_queues_optimization_completed_in_the_same_write() {
    // The fake model never answers, so the run stays `running` until the server stops.
    let server = TestServer::start_with(ServerConfig {
        allow_private_network: true,
        ..ServerConfig::default()
    })
    .await;
    let key = server.key("Acme", PlanId::Pro).await;
    // Nothing listens there: the delivery rows are what this test reads, not what arrives.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    let (status, hook) = server
        .post(
            "/webhooks",
            &key,
            json!({"url": url, "events": ["optimization.completed"]}),
        )
        .await;
    assert_eq!(status, 201, "{hook}");
    let hook_id = hook["data"]["id"].as_str().unwrap().to_owned();
    let agent_id = agent(&server, &key).await;
    let base = silent_model().await;
    server
        .patch(
            "/settings",
            &key,
            json!({"llm": {"baseUrl": base, "model": "slow"}}),
        )
        .await;
    let created = start(
        &server,
        &key,
        // Rewrite: the reflective strategy (the default with a model) cannot go on offline.
        json!({"agentId": agent_id, "variantCount": 1, "seed": 3, "optimizationStrategy": "rewrite"}),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    server
        .wait_for(&format!("/optimizations/{id}"), &key, |b| {
            b["data"]["status"] == "running"
        })
        .await;
    let dir = server.stop().await;

    // With no server running, nothing but the completing write itself can queue the event.
    let store = Store::connect(&test_database(dir.path()).await, Durability::Normal)
        .await
        .unwrap();
    // A clean stop gave the run back to the queue (a claim takes only queued runs); claim
    // it as a runner would.
    let run = store
        .claim_queued_optimization(START_MS + 30_000)
        .await
        .unwrap()
        .expect("the run is queued again");
    assert_eq!(run.id, id);
    let results = OptimizationResults {
        winner_selected: false,
        winning_variant_id: None,
        lift: 0.0,
        confidence: 0.0,
        outcome: OptimizationOutcome::Inconclusive,
        improvement_percentage: 0.0,
        improvement_points: 0.0,
        confidence_level: 0.9,
        cells: 0,
        retest: None,
        reason: Some("not enough data yet".to_owned()),
    };
    assert!(store
        .complete_optimization(&run, &[], &results, START_MS + 60_000)
        .await
        .unwrap());
    // The worker's fan-out, by hand: it finds the event the completing write queued.
    assert_eq!(
        store.fan_out_events(START_MS + 60_000, 64).await.unwrap(),
        1
    );
    let page = PageRequest::from_query(&Paging::default(), 20).unwrap();
    let (deliveries, _) = store
        .webhook_deliveries(&run.account_id, &hook_id, &page)
        .await
        .unwrap()
        .unwrap();
    let events: Vec<&str> = deliveries.iter().map(|d| d.event.as_str()).collect();
    assert_eq!(events, ["optimization.completed"]);
}

#[tokio::test]
async fn the_same_seed_gives_the_same_numbers() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let agent_id = agent(&server, &key).await;
    let mut runs = Vec::new();
    for _ in 0..2 {
        let created = start(
            &server,
            &key,
            json!({"agentId": agent_id, "variantCount": 2, "seed": 42}),
        )
        .await;
        let id = created["id"].as_str().unwrap().to_owned();
        finished(&server, &key, &id).await;
        let (_, variants) = server
            .get(&format!("/optimizations/{id}/variants"), &key)
            .await;
        let numbers: Vec<(Value, Value, Value)> = variants["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["content"].clone(),
                    v["stats"].clone(),
                    v["pValue"].clone(),
                )
            })
            .collect();
        runs.push(numbers);
    }
    assert_eq!(runs[0], runs[1]);
}

#[tokio::test]
async fn validation_errors_quota_and_other_accounts() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let agent_id = agent(&server, &key).await;
    for (body, field) in [
        (
            json!({"agentId": agent_id, "variantCount": 6}),
            "variantCount",
        ),
        (
            json!({"agentId": agent_id, "personaIds": ["persona_nobody"]}),
            "personaIds",
        ),
        (
            json!({"agentId": agent_id, "simulation": {"maxTurns": 1}}),
            "simulation.maxTurns",
        ),
    ] {
        let (status, response) = server.post("/optimizations", &key, body).await;
        assert_eq!(status, 400, "{response}");
        assert_eq!(response["error"]["code"], "VALIDATION_ERROR");
        assert!(
            response["error"]["message"]
                .as_str()
                .unwrap()
                .contains(field),
            "{response}"
        );
    }
    let (status, body) = server
        .post("/optimizations", &key, json!({"agentId": "agent_nope"}))
        .await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = server
        .post(
            "/optimizations",
            &key,
            json!({"agentId": agent_id, "mode": "fast"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");

    let created = start(
        &server,
        &key,
        json!({"agentId": agent_id, "variantCount": 1}),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let other = server.key("Other", PlanId::Pro).await;
    for path in [
        format!("/optimizations/{id}"),
        format!("/optimizations/{id}/variants"),
    ] {
        let (status, _) = server.get(&path, &other).await;
        assert_eq!(status, 404);
    }
    // `status` takes one status: a list of them is refused, not read as some other filter.
    let (status, list) = server
        .get(
            &format!("/optimizations?agentId={agent_id}&status=queued,running"),
            &key,
        )
        .await;
    assert_eq!(status, 400, "{list}");
    assert_eq!(list["error"]["code"], "VALIDATION_ERROR");
    assert!(
        list["error"]["message"]
            .as_str()
            .unwrap()
            .contains("status"),
        "{list}"
    );
    let (status, list) = server.get("/optimizations?limit=1", &key).await;
    assert_eq!(status, 200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    finished(&server, &key, id).await;
    let ids = |list: &Value| -> Vec<String> {
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (status, list) = server
        .get(
            &format!("/optimizations?agentId={agent_id}&status=completed"),
            &key,
        )
        .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(ids(&list), [id]);
    let (status, list) = server
        .get(
            &format!("/optimizations?agentId={agent_id}&status=queued"),
            &key,
        )
        .await;
    assert_eq!(status, 200, "{list}");
    assert!(ids(&list).is_empty(), "{list}");

    // The free plan's monthly quota.
    let free = server.key("Free Co", PlanId::Free).await;
    let free_agent = agent(&server, &free).await;
    let mut last = (0, Value::Null);
    for _ in 0..20 {
        last = server
            .post(
                "/optimizations",
                &free,
                json!({"agentId": free_agent, "variantCount": 1}),
            )
            .await;
        if last.0 != 201 {
            break;
        }
    }
    assert_eq!(last.0, 403, "{}", last.1);
    assert_eq!(last.1["error"]["code"], "LIMIT_EXCEEDED");
}

/// A model endpoint that accepts connections and never answers: runs on it stay running.
pub(crate) async fn silent_model() -> String {
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

#[tokio::test]
async fn the_eleventh_concurrent_optimization_is_refused_until_one_stops() {
    // The fake model listens on loopback, an address only this flag lets accounts name.
    let server = TestServer::start_with(ServerConfig {
        allow_private_network: true,
        ..Default::default()
    })
    .await;
    let key = server.key("Acme", PlanId::Pro).await;
    let agent_id = agent(&server, &key).await;
    let base = silent_model().await;
    let (status, body) = server
        .patch(
            "/settings",
            &key,
            json!({"llm": {"baseUrl": base, "model": "slow-model"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let mut ids = Vec::new();
    for _ in 0..10 {
        let created = start(
            &server,
            &key,
            json!({"agentId": agent_id, "variantCount": 1}),
        )
        .await;
        assert_eq!(created["engine"], "model:slow-model");
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    let (status, body) = server
        .post("/optimizations", &key, json!({"agentId": agent_id}))
        .await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["code"], "CONCURRENCY_LIMIT");
    let (_, usage) = server.get("/usage", &key).await;
    assert_eq!(usage["data"]["optimizations"]["running"], 10);

    // The first one is running (waiting on the model); stop it and keep what it measured.
    server
        .wait_for(&format!("/optimizations/{}", ids[0]), &key, |b| {
            b["data"]["status"] == "running"
        })
        .await;
    let (status, body) = server
        .post(
            &format!("/optimizations/{}/stop", ids[0]),
            &key,
            json!({"reason": "too slow"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["status"], "stopped");
    assert_eq!(body["data"]["error"]["message"], "too slow");
    let (status, _) = server
        .post(&format!("/optimizations/{}/stop", ids[0]), &key, json!({}))
        .await;
    assert_eq!(status, 409);
    // Stopped without results: nothing to apply.
    let (status, _) = server
        .post(&format!("/optimizations/{}/apply", ids[0]), &key, json!({}))
        .await;
    assert_eq!(status, 409);
    // A queued one stops too (no body at all, as SDKs send it).
    let response = server
        .request(
            reqwest::Method::POST,
            &format!("/optimizations/{}/stop", ids[9]),
            Some(&key),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);

    let created = start(
        &server,
        &key,
        json!({"agentId": agent_id, "variantCount": 1}),
    )
    .await;
    assert_eq!(created["status"], "queued");
}

/// A chat-completions endpoint that answers every call with a reply that is not the JSON asked for.
async fn babbling_model() -> String {
    use axum::routing::post;
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        post(|| async {
            axum::Json(json!({
                "choices": [{"message": {"role": "assistant", "content": "Sure! Here are some ideas..."}}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5}
            }))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/v1")
}

#[tokio::test]
async fn a_malformed_model_reply_fails_the_optimization_with_a_clear_error() {
    // The fake model listens on loopback, an address only this flag lets accounts name.
    let server = TestServer::start_with(ServerConfig {
        allow_private_network: true,
        ..Default::default()
    })
    .await;
    let key = server.key("Acme", PlanId::Pro).await;
    let agent_id = agent(&server, &key).await;
    let base = babbling_model().await;
    server
        .patch(
            "/settings",
            &key,
            json!({"llm": {"baseUrl": base, "model": "babbler", "apiKey": "sk-test"}}),
        )
        .await;
    let created = start(
        &server,
        &key,
        json!({"agentId": agent_id, "variantCount": 2}),
    )
    .await;
    let done = finished(&server, &key, created["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(done["error"]["code"], "MODEL_MALFORMED_REPLY");
    assert!(!done["error"]["message"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn a_restart_resumes_an_interrupted_optimization() {
    // The fake model listens on loopback, an address only this flag lets accounts name.
    let server = TestServer::start_with(ServerConfig {
        allow_private_network: true,
        ..Default::default()
    })
    .await;
    let key = server.key("Acme", PlanId::Pro).await;
    let agent_id = agent(&server, &key).await;
    let base = silent_model().await;
    server
        .patch(
            "/settings",
            &key,
            json!({"llm": {"baseUrl": base, "model": "slow"}}),
        )
        .await;
    let created = start(
        &server,
        &key,
        // Rewrite: the reflective strategy (the default with a model) cannot go on offline.
        json!({"agentId": agent_id, "variantCount": 1, "seed": 3, "optimizationStrategy": "rewrite"}),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    server
        .wait_for(&format!("/optimizations/{id}"), &key, |b| {
            b["data"]["status"] == "running"
        })
        .await;
    // Back to the offline engine for the next start; the run in flight still waits.
    let (status, body) = server
        .patch("/settings", &key, json!({"llm": {"baseUrl": null}}))
        .await;
    assert_eq!(status, 200, "{body}");
    let dir = server.stop().await;

    // The interrupted run is queued again on start, picked up, and finishes.
    let server = TestServer::start_in(dir, ServerConfig::default()).await;
    let done = finished(&server, &key, &id).await;
    assert_eq!(done["status"], "completed", "{done}");
}
