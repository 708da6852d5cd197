//! Several server instances over one PostgreSQL database behave as one server: the limits
//! hold across them, and racing first writes register one agent. Runs in the PostgreSQL
//! pass of `scripts/test.sh` (SQLite is one process's file, so there it does not apply).

use std::sync::Arc;

use converra_api::PlanId;
use converra_server::clock::ManualClock;
use converra_server::state::{AppState, ServerConfig};
use converra_server::store::{Database, Durability, Store};
use serde_json::{json, Value};

use crate::common::{send, test_database, START_MS};
use crate::optimizations::silent_model;

/// One instance serving `db` on a loopback port, with its own workers, until the sender drops.
async fn instance(db: &Database) -> (String, tokio::sync::oneshot::Sender<()>) {
    let store = Store::connect(db, Durability::Normal).await.unwrap();
    let config = ServerConfig {
        // The silent model listens on loopback.
        allow_private_network: true,
        ..ServerConfig::default()
    };
    let state = AppState::new(store, Arc::new(ManualClock::new(START_MS)), config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/api/v1", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(converra_server::app::serve(listener, state, async {
        let _ = rx.await;
    }));
    (base, tx)
}

/// Sends every body at once, the i-th to instance i mod 3, and answers in order.
async fn post_all(
    bases: &[String],
    key: &str,
    path: &str,
    bodies: Vec<Value>,
) -> Vec<(u16, Value)> {
    let http = reqwest::Client::new();
    let tasks: Vec<_> = bodies
        .into_iter()
        .enumerate()
        .map(|(i, body)| {
            let request = http
                .post(format!("{}{path}", bases[i % bases.len()]))
                .bearer_auth(key)
                .json(&body);
            tokio::spawn(send(request))
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_instances_on_one_database_hold_the_limits_and_register_an_agent_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = test_database(dir.path()).await;
    if matches!(db, Database::Sqlite(_)) {
        eprintln!("needs CONVERRA_TEST_POSTGRES: several instances share only PostgreSQL");
        return;
    }
    let admin = Store::connect(&db, Durability::Normal).await.unwrap();
    let key = admin
        .issue_key("Acme", PlanId::Enterprise, START_MS)
        .await
        .unwrap()
        .key;
    let mut bases = Vec::new();
    let mut _stops = Vec::new();
    for _ in 0..3 {
        let (base, stop) = instance(&db).await;
        bases.push(base);
        _stops.push(stop);
    }
    let http = reqwest::Client::new();

    // The first conversations of an unknown agent, all at once on every instance.
    let first_conversations = (0..24)
        .map(|i| {
            json!({"agentName": "New Bot", "messages": [
                {"role": "system", "content": "You help with orders."},
                {"role": "user", "content": format!("Where is order {i}?")}]})
        })
        .collect();
    let created = post_all(&bases, &key, "/conversations", first_conversations).await;
    for (status, body) in &created {
        assert_eq!(*status, 200, "{body}");
    }
    let agent_ids: std::collections::HashSet<&str> = created
        .iter()
        .map(|(_, body)| body["data"]["agentId"].as_str().unwrap())
        .collect();
    assert_eq!(
        agent_ids.len(),
        1,
        "one agent registered, not one per instance"
    );
    let agent_id = agent_ids.into_iter().next().unwrap().to_owned();
    let (_, listed) = send(
        http.get(format!("{}/conversations?limit=100", bases[2]))
            .bearer_auth(&key),
    )
    .await;
    assert_eq!(listed["pagination"]["total"], 24, "{listed}");

    // Optimizations wait on a model that never answers, so each stays queued or running.
    let (status, body) = send(
        http.patch(format!("{}/settings", bases[0]))
            .bearer_auth(&key)
            .json(&json!({"llm": {"baseUrl": silent_model().await, "model": "slow-model"}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let starts = vec![json!({"agentId": agent_id, "variantCount": 1}); 15];
    let started = post_all(&bases, &key, "/optimizations", starts).await;
    let accepted = started.iter().filter(|(status, _)| *status == 201).count();
    let refused: Vec<&Value> = started
        .iter()
        .filter(|(status, _)| *status == 429)
        .map(|(_, body)| body)
        .collect();
    assert_eq!(accepted, 10, "{started:?}");
    assert_eq!(refused.len(), 5, "{started:?}");
    for body in refused {
        assert_eq!(body["error"]["code"], "CONCURRENCY_LIMIT");
    }
    admin.close().await;
}
