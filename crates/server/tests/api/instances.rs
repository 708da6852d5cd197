//! Several server instances over one PostgreSQL database behave as one server: the rate
//! limit and the concurrency limit hold across them, racing first writes register one
//! agent, every webhook event is delivered once, and a killed instance loses no
//! acknowledged write and leaves its jobs to the others. Runs in the PostgreSQL
//! pass of `scripts/test.sh` (SQLite is one process's file, so there it does not apply).

use std::sync::Arc;

use converra_api::{PlanId, PlanLimits};
use converra_server::clock::ManualClock;
use converra_server::state::{AppState, ServerConfig};
use converra_server::store::{Database, Durability, Store};
use serde_json::{json, Value};

use crate::common::{db_arg, send, test_database, START_MS};
use crate::optimizations::silent_model;
use crate::process::{free_port, wait_until_up, BIN};
use crate::webhooks::Receiver;
use converra_server::store::leases::LEASE_MS;
use converra_server::store::usage::{add_usage, UsageDelta};

/// One instance serving `db` on a loopback port, with its own workers, until the sender drops.
pub(crate) async fn instance(db: &Database) -> (String, tokio::sync::oneshot::Sender<()>) {
    let (base, stop, _) = instance_at(db, START_MS).await;
    (base, stop)
}

/// An instance whose clock reads `now_ms`, and its store.
async fn instance_at(
    db: &Database,
    now_ms: i64,
) -> (String, tokio::sync::oneshot::Sender<()>, Store) {
    instance_with(db, now_ms, ServerConfig::default()).await
}

async fn instance_with(
    db: &Database,
    now_ms: i64,
    config: ServerConfig,
) -> (String, tokio::sync::oneshot::Sender<()>, Store) {
    let store = Store::connect(db, Durability::Normal).await.unwrap();
    let config = ServerConfig {
        // The silent model listens on loopback.
        allow_private_network: true,
        ..config
    };
    let state = AppState::new(store.clone(), Arc::new(ManualClock::new(now_ms)), config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/api/v1", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(converra_server::app::serve(listener, state, async {
        let _ = rx.await;
    }));
    (base, tx, store)
}

/// A PostgreSQL database for several instances, a store on it for the test's own reads,
/// and a key of account "Acme"; `None` over SQLite (one process's file), and the test is
/// skipped.
async fn shared_database(plan: PlanId) -> Option<(tempfile::TempDir, Database, Store, String)> {
    let dir = tempfile::tempdir().unwrap();
    let db = test_database(dir.path()).await;
    if matches!(db, Database::Sqlite(_)) {
        eprintln!("needs CONVERRA_TEST_POSTGRES: several instances share only PostgreSQL");
        return None;
    }
    let admin = Store::connect(&db, Durability::Normal).await.unwrap();
    let key = admin.issue_key("Acme", plan, START_MS).await.unwrap().key;
    Some((dir, db, admin, key))
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
    let Some((_dir, db, admin, key)) = shared_database(PlanId::Enterprise).await else {
        return;
    };
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

    // A free plan's 60 requests a minute, asked 90 times across the three instances.
    let free_key = admin
        .issue_key("Small Co", PlanId::Free, START_MS)
        .await
        .unwrap()
        .key;
    let reads: Vec<_> = (0..90)
        .map(|i| {
            let request = http
                .get(format!("{}/account", bases[i % 3]))
                .bearer_auth(&free_key);
            tokio::spawn(send(request))
        })
        .collect();
    let mut statuses = Vec::new();
    for read in reads {
        statuses.push(read.await.unwrap().0);
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 60);
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 30);
    admin.close().await;
}

/// Far from their monthly limit, an account's creates check the quota alongside each other
/// (the account's turn held shared); near it, alone. Across three instances, all at once,
/// the limit still holds to the conversation, and the usage and the agent's count, each
/// summed over its counter slots, agree with what was accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn creates_check_the_quota_together_far_from_the_limit_and_it_still_holds_exactly() {
    let Some((_dir, db, admin, key)) = shared_database(PlanId::Enterprise).await else {
        return;
    };
    let limit: u32 = 5_000;
    let limits = PlanLimits {
        conversations_per_month: limit,
        ..PlanId::Enterprise.default_limits()
    };
    admin
        .set_account_limits("Acme", Some(&limits))
        .await
        .unwrap();
    let mut conn = admin.pool().acquire().await.unwrap();
    let in_flight = admin.max_in_flight(&mut conn).await.unwrap().unwrap();
    // Left: 24 creates' worth above the shared checks' margin (twice the creates that can be
    // in flight), so the first of the creates below share the turn and the rest take it alone.
    let left = 2 * in_flight + 24;
    let accounts = admin.accounts().await.unwrap();
    let account = &accounts.iter().find(|a| a.name == "Acme").unwrap().id;
    let earlier = UsageDelta {
        conversations: i64::from(limit) - i64::try_from(left).unwrap(),
        ..UsageDelta::default()
    };
    add_usage(&mut conn, account, START_MS - 60_000, earlier)
        .await
        .unwrap();
    drop(conn);
    let mut bases = Vec::new();
    let mut _stops = Vec::new();
    for _ in 0..3 {
        let (base, stop) = instance(&db).await;
        bases.push(base);
        _stops.push(stop);
    }

    let asked = usize::try_from(left).unwrap() + 30;
    let bodies = (0..asked)
        .map(|i| {
            json!({"agentName": "Busy Bot", "messages": [
                {"role": "user", "content": format!("Where is order {i}?")}]})
        })
        .collect();
    let answers = post_all(&bases, &key, "/conversations", bodies).await;
    let accepted = answers.iter().filter(|(status, _)| *status == 200).count();
    let refused: Vec<&Value> = answers
        .iter()
        .filter(|(status, _)| *status == 403)
        .map(|(_, body)| body)
        .collect();
    assert_eq!(
        accepted + refused.len(),
        asked,
        "every answer is 200 or 403"
    );
    assert_eq!(
        u64::try_from(accepted).unwrap(),
        left,
        "the limit holds exactly"
    );
    for body in refused {
        assert_eq!(body["error"]["code"], "LIMIT_EXCEEDED", "{body}");
    }

    let http = reqwest::Client::new();
    let (_, usage) = send(http.get(format!("{}/usage", bases[1])).bearer_auth(&key)).await;
    assert_eq!(usage["data"]["conversations"]["used"], limit, "{usage}");
    let (_, agents) = send(http.get(format!("{}/agents", bases[2])).bearer_auth(&key)).await;
    assert_eq!(agents["data"][0]["conversationCount"], accepted, "{agents}");
    let (_, listed) = send(
        http.get(format!("{}/conversations?limit=1", bases[0]))
            .bearer_auth(&key),
    )
    .await;
    assert_eq!(listed["pagination"]["total"], accepted, "{listed}");
    admin.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_webhook_event_is_delivered_once_by_three_instances() {
    let Some((_dir, db, admin, key)) = shared_database(PlanId::Pro).await else {
        return;
    };
    let mut bases = Vec::new();
    let mut _stops = Vec::new();
    for _ in 0..3 {
        let (base, stop) = instance(&db).await;
        bases.push(base);
        _stops.push(stop);
    }
    let receiver = Receiver::start(&[]).await;
    let hook =
        json!({"url": receiver.url, "events": ["conversation.created", "insights.generated"]});
    let created = post_all(&bases[..1], &key, "/webhooks", vec![hook]).await;
    assert_eq!(created[0].0, 201, "{:?}", created[0].1);

    // Each conversation raises two events: it was logged, and its insights are ready (the
    // three instances' insights workers share the queue).
    const CONVERSATIONS: usize = 30;
    let conversations = (0..CONVERSATIONS)
        .map(|i| {
            json!({"agentName": "Support", "messages": [
                {"role": "user", "content": format!("Where is order {i}?")},
                {"role": "assistant", "content": format!("Order {i} ships tomorrow.")}]})
        })
        .collect();
    for (status, body) in post_all(&bases, &key, "/conversations", conversations).await {
        assert_eq!(status, 200, "{body}");
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while receiver.count() < 2 * CONVERSATIONS {
        assert!(
            std::time::Instant::now() < deadline,
            "{} of {} events delivered",
            receiver.count(),
            2 * CONVERSATIONS
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // A second delivery of an event would come from another instance's worker: give the
    // workers time to make one.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let mut events = std::collections::BTreeMap::<(String, String), usize>::new();
    for received in receiver.received() {
        let event: Value = serde_json::from_slice(&received.body).unwrap();
        let what = (
            event["type"].as_str().unwrap().to_owned(),
            event["data"]["conversationId"].as_str().unwrap().to_owned(),
        );
        *events.entry(what).or_default() += 1;
    }
    assert_eq!(events.len(), 2 * CONVERSATIONS, "{events:?}");
    assert!(
        events.values().all(|count| *count == 1),
        "an event delivered more than once: {events:?}"
    );
    admin.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_queued_elsewhere_wakes_an_idle_instance_at_once() {
    use converra_server::store::insights::queue_insights;
    use converra_server::store::notify::Channel;

    let Some((_dir, db, admin, key)) = shared_database(PlanId::Pro).await else {
        return;
    };
    // An instance that, unwoken, would not look for work for an hour.
    let hour = ServerConfig {
        job_poll: std::time::Duration::from_secs(3_600),
        ..ServerConfig::default()
    };
    let (base, _stop, _) = instance_with(&db, START_MS, hour).await;
    let http = reqwest::Client::new();
    let (status, _) = send(
        http.patch(format!("{base}/settings"))
            .bearer_auth(&key)
            .json(&json!({"insights": {"autoGenerate": false}})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, created) = send(
        http.post(format!("{base}/conversations"))
            .bearer_auth(&key)
            .json(&json!({"agentName": "Support", "messages": [
                {"role": "user", "content": "Where is my order?"},
                {"role": "assistant", "content": "It ships tomorrow."}]})),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let conversation = created["data"]["id"].as_str().unwrap().to_owned();
    let (_, account) = send(http.get(format!("{base}/account")).bearer_auth(&key)).await;
    let account = account["data"]["id"].as_str().unwrap().to_owned();
    // Let the instance's worker find nothing and go idle.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    // Another process queues insights and announces them.
    let mut tx = admin.begin_write().await.unwrap();
    queue_insights(&mut tx, &account, &conversation, START_MS)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    admin.announce(Channel::Insights).await.unwrap();
    let status = || async {
        sqlx::query_scalar::<_, String>("SELECT insights_status FROM conversations WHERE id = $1")
            .bind(&conversation)
            .fetch_one(admin.pool())
            .await
            .unwrap()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while status().await != "ready" {
        assert!(
            std::time::Instant::now() < deadline,
            "the announcement did not wake the idle instance"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // An older server, mid rolling upgrade, announces on the one channel it knew.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut tx = admin.begin_write().await.unwrap();
    queue_insights(&mut tx, &account, &conversation, START_MS)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    sqlx::query("SELECT pg_notify('converra_jobs', '')")
        .execute(admin.pool())
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while status().await != "ready" {
        assert!(
            std::time::Instant::now() < deadline,
            "an older server's announcement did not wake the idle instance"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    admin.close().await;
}

/// Logs conversations through `base` from `writers` clients at once until the instance stops
/// answering; returns the ids it acknowledged (200).
async fn write_until_refused(base: String, key: String, writers: usize) -> Vec<String> {
    let http = reqwest::Client::new();
    let tasks: Vec<_> = (0..writers)
        .map(|writer| {
            let (http, base, key) = (http.clone(), base.clone(), key.clone());
            tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                for i in 0.. {
                    let body = json!({"agentName": "Load", "messages": [
                        {"role": "user", "content": format!("Writer {writer}, message {i}")}]});
                    let sent = http
                        .post(format!("{base}/conversations"))
                        .bearer_auth(&key)
                        .json(&body)
                        .send()
                        .await;
                    let Ok(response) = sent else { break };
                    if response.status() != 200 {
                        break;
                    }
                    let Ok(body) = response.json::<Value>().await else {
                        break;
                    };
                    acknowledged.push(body["data"]["id"].as_str().unwrap().to_owned());
                }
                acknowledged
            })
        })
        .collect();
    let mut acknowledged = Vec::new();
    for task in tasks {
        acknowledged.extend(task.await.unwrap());
    }
    acknowledged
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_instance_loses_no_acknowledged_write_and_its_job_is_taken_over_after_its_lease() {
    let Some((_dir, db, admin, key)) = shared_database(PlanId::Enterprise).await else {
        return;
    };
    // Instance A is a process on the real clock, killed while its run waits on the model.
    let port = free_port();
    let a = format!("http://127.0.0.1:{port}/api/v1");
    let mut process = std::process::Command::new(BIN)
        .args([
            "serve",
            "--allow-private-network",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--db",
        ])
        .arg(db_arg(&db))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    wait_until_up(&http, &a).await;
    let auth = |request: reqwest::RequestBuilder| request.bearer_auth(&key);
    let (_, agent) = send(
        auth(http.post(format!("{a}/agents")))
            .json(&json!({"name": "Support", "content": "You help customers with orders."})),
    )
    .await;
    let (status, body) = send(
        auth(http.patch(format!("{a}/settings")))
            .json(&json!({"llm": {"baseUrl": silent_model().await, "model": "slow-model"}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, created) = send(
        auth(http.post(format!("{a}/optimizations")))
            .json(&json!({"agentId": agent["data"]["id"], "variantCount": 1})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["data"]["id"].as_str().unwrap().to_owned();
    let lease = |store: Store, id: String| async move {
        sqlx::query_as::<_, (String, Option<String>)>(
            "SELECT status, lease_owner FROM optimizations WHERE id = $1",
        )
        .bind(id)
        .fetch_one(store.pool())
        .await
        .unwrap()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while lease(admin.clone(), id.clone()).await.0 != "running" {
        assert!(std::time::Instant::now() < deadline, "A never ran the job");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // A is killed under write load: four clients logging conversations through it.
    let load = tokio::spawn(write_until_refused(a.clone(), key.clone(), 4));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while admin_conversations(&admin).await < 40 {
        assert!(std::time::Instant::now() < deadline, "A took no writes");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    process.kill().unwrap(); // SIGKILL: A gives nothing back
    process.wait().unwrap();
    let acknowledged = load.await.unwrap();
    // 40 were stored; each of the 4 clients may have had one committed but not yet answered.
    assert!(acknowledged.len() >= 36, "{}", acknowledged.len());
    let stored: std::collections::HashSet<String> =
        sqlx::query_scalar("SELECT id FROM conversations")
            .fetch_all(admin.pool())
            .await
            .unwrap()
            .into_iter()
            .collect();
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !stored.contains(*id))
        .collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    let (status, owner_a) = lease(admin.clone(), id.clone()).await;
    assert_eq!(status, "running", "a killed process leaves its job running");

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    // Instance C starts while A's lease still holds: it leaves the job alone.
    let (_c, _stop_c, c) = instance_at(&db, now).await;
    tokio::time::sleep(std::time::Duration::from_millis(1_000)).await;
    assert_eq!(
        lease(admin.clone(), id.clone()).await,
        ("running".to_owned(), owner_a.clone()),
        "a live lease is not taken over"
    );

    // Instance B's clock is past A's lease: B queues the job again at its start, and a
    // live instance (B or C) runs it.
    let (_b, _stop, b) = instance_at(&db, now + LEASE_MS + 5_000).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (status, owner) = lease(admin.clone(), id.clone()).await;
        let live = [Some(b.instance_id()), Some(c.instance_id())];
        if status == "running" && live.contains(&owner.as_deref()) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "B never took the job over: {status} {owner:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    admin.close().await;
}

async fn admin_conversations(admin: &Store) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM conversations")
        .fetch_one(admin.pool())
        .await
        .unwrap()
}
