//! `GET /usage` over real HTTP: its shape, a continuous `byDay`, counts made with
//! `add_usage` in a transaction, and requests counted in memory then flushed (on demand and
//! on a clean shutdown).

use std::sync::Arc;

use crate::common::{send, test_database, START_MS};
use converra_api::PlanId;
use converra_server::clock::DAY_MS;
use converra_server::clock::{Clock, ManualClock};
use converra_server::state::{AppState, ServerConfig};
use converra_server::store::accounts::AccountRecord;
use converra_server::store::usage::{add_usage, UsageDelta};
use converra_server::store::{Database, Durability, Store};
use serde_json::{json, Value};

/// Like `common::TestServer`, but keeps the state (to flush the limiter) and the serve task
/// (to stop the server cleanly and look at the database afterwards).
struct UsageServer {
    base: String,
    state: AppState,
    clock: ManualClock,
    http: reqwest::Client,
    db: Database,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl UsageServer {
    async fn start() -> UsageServer {
        let dir = tempfile::tempdir().unwrap();
        let db = test_database(dir.path()).await;
        let store = Store::connect(&db, Durability::Normal).await.unwrap();
        let clock = ManualClock::new(START_MS);
        let state = AppState::new(store, Arc::new(clock.clone()), ServerConfig::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/api/v1", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(converra_server::app::serve(
            listener,
            state.clone(),
            async {
                let _ = rx.await;
            },
        ));
        UsageServer {
            base,
            state,
            clock,
            http: reqwest::Client::new(),
            db,
            shutdown: Some(tx),
            task: Some(task),
            _dir: dir,
        }
    }

    fn store(&self) -> &Store {
        &self.state.store
    }

    async fn account(&self, name: &str, plan: PlanId) -> (String, AccountRecord) {
        let issued = self
            .store()
            .issue_key(name, plan, self.clock.now_ms())
            .await
            .unwrap();
        (issued.key, issued.account)
    }

    async fn get(&self, path: &str, key: &str) -> (u16, Value) {
        send(
            self.http
                .get(format!("{}{path}", self.base))
                .bearer_auth(key),
        )
        .await
    }

    async fn usage(&self, key: &str) -> Value {
        let (status, body) = self.get("/usage", key).await;
        assert_eq!(status, 200, "{body}");
        body["data"].clone()
    }

    async fn add(&self, account_id: &str, at_ms: i64, delta: UsageDelta) {
        let mut tx = self.store().begin_write().await.unwrap();
        add_usage(&mut tx, account_id, at_ms, delta).await.unwrap();
        tx.commit().await.unwrap();
    }

    /// (day, requests, conversations, optimizations, tokens) rows as stored.
    async fn stored_rows(store: &Store, account_id: &str) -> Vec<(String, i64, i64, i64, i64)> {
        sqlx::query_as(
            "SELECT day, requests, conversations, optimizations, tokens FROM usage_daily \
             WHERE account_id = $1 ORDER BY day",
        )
        .bind(account_id)
        .fetch_all(store.pool())
        .await
        .unwrap()
    }

    /// Stops the server as SIGTERM would and waits for `serve` to return.
    async fn stop(&mut self) {
        let _ = self.shutdown.take().unwrap().send(());
        self.task.take().unwrap().await.unwrap().unwrap();
    }
}

impl Drop for UsageServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

fn conversations(n: i64, tokens: i64) -> UsageDelta {
    UsageDelta {
        conversations: n,
        tokens,
        ..Default::default()
    }
}

#[tokio::test]
async fn a_new_free_account_sees_its_period_limits_and_a_day_for_each_date_so_far() {
    let server = UsageServer::start().await;
    let (key, _) = server.account("Acme", PlanId::Free).await;
    let usage = server.usage(&key).await;
    let mut without_days = usage.clone();
    without_days.as_object_mut().unwrap().remove("byDay");
    assert_eq!(
        without_days,
        json!({
            "period": {"start": "2026-11-01T00:00:00.000Z", "end": "2026-12-01T00:00:00.000Z"},
            "agents": 0,
            "prompts": 0,
            "optimizations": {"used": 0, "limit": 10, "running": 0},
            "conversations": {"used": 0, "limit": 500},
            "tokens": {"used": 0, "limit": null},
            // This very request.
            "requests": {"used": 1}
        })
    );
    let days = usage["byDay"].as_array().unwrap();
    assert_eq!(days.len(), 28);
    for (i, day) in days.iter().enumerate() {
        let requests = if i == 27 { 1 } else { 0 };
        assert_eq!(
            day,
            &json!({"date": format!("2026-11-{:02}", i + 1), "requests": requests,
                "conversations": 0, "optimizations": 0, "tokens": 0})
        );
    }
}

#[tokio::test]
async fn by_day_is_continuous_and_totals_sum_the_period_of_this_account_only() {
    let server = UsageServer::start().await;
    let (key, acme) = server.account("Acme", PlanId::Pro).await;
    let (_, other) = server.account("Other", PlanId::Pro).await;
    let nov_3 = START_MS - 25 * DAY_MS + 3_600_000;
    let nov_20 = START_MS - 8 * DAY_MS;
    server.add(&acme.id, nov_3, conversations(2, 300)).await;
    server
        .add(&acme.id, nov_3 + 60_000, conversations(1, 50))
        .await;
    let optimization = UsageDelta {
        optimizations: 1,
        ..Default::default()
    };
    server.add(&acme.id, nov_20, optimization).await;
    // Last month and another account stay out.
    server
        .add(&acme.id, START_MS - 40 * DAY_MS, conversations(7, 700))
        .await;
    server.add(&other.id, nov_3, conversations(9, 900)).await;

    let usage = server.usage(&key).await;
    assert_eq!(usage["conversations"], json!({"used": 3, "limit": 10000}));
    assert_eq!(usage["tokens"], json!({"used": 350, "limit": null}));
    assert_eq!(usage["optimizations"]["used"], 1);
    let days = usage["byDay"].as_array().unwrap();
    let dates: Vec<&str> = days.iter().map(|d| d["date"].as_str().unwrap()).collect();
    let expected: Vec<String> = (1..=28).map(|d| format!("2026-11-{d:02}")).collect();
    assert_eq!(dates, expected);
    assert_eq!(
        days[2],
        json!({"date": "2026-11-03", "requests": 0, "conversations": 3, "optimizations": 0, "tokens": 350})
    );
    assert_eq!(days[19]["optimizations"], 1);
    let quiet = days.iter().filter(|d| d["conversations"] == 0).count();
    assert_eq!(quiet, 27);
}

#[tokio::test]
async fn counts_commit_and_roll_back_with_the_callers_transaction() {
    let server = UsageServer::start().await;
    let (key, acme) = server.account("Acme", PlanId::Free).await;
    {
        let mut tx = server.store().begin_write().await.unwrap();
        add_usage(&mut tx, &acme.id, START_MS, conversations(1, 120))
            .await
            .unwrap();
        // Dropped without a commit, as when the insert beside it fails.
    }
    assert_eq!(server.usage(&key).await["conversations"]["used"], 0);

    server.add(&acme.id, START_MS, conversations(1, 120)).await;
    server
        .add(&acme.id, START_MS + 5, conversations(1, 80))
        .await;
    let usage = server.usage(&key).await;
    assert_eq!(usage["conversations"]["used"], 2);
    assert_eq!(usage["tokens"]["used"], 200);
    // One row per account and day, updated in place.
    let rows = UsageServer::stored_rows(server.store(), &acme.id).await;
    assert_eq!(rows, vec![("2026-11-28".to_owned(), 0, 2, 0, 200)]);
}

#[tokio::test]
async fn requests_are_counted_in_memory_and_flushed_to_their_day() {
    let server = UsageServer::start().await;
    let (key, acme) = server.account("Acme", PlanId::Free).await;
    for _ in 0..4 {
        assert_eq!(server.get("/account", &key).await.0, 200);
    }
    server.state.limiter.flush(server.store()).await.unwrap();
    let rows = UsageServer::stored_rows(server.store(), &acme.id).await;
    assert_eq!(rows, vec![("2026-11-28".to_owned(), 4, 0, 0, 0)]);
    // Flushing again adds nothing twice.
    server.state.limiter.flush(server.store()).await.unwrap();
    assert_eq!(
        UsageServer::stored_rows(server.store(), &acme.id).await,
        rows
    );

    // The next day's requests land on the next day, flushed or not.
    server.clock.advance_ms(DAY_MS);
    assert_eq!(server.get("/account", &key).await.0, 200);
    let usage = server.usage(&key).await;
    assert_eq!(usage["requests"]["used"], 6);
    let days = usage["byDay"].as_array().unwrap();
    assert_eq!(days.len(), 29);
    assert_eq!(days[27]["requests"], 4);
    assert_eq!(
        days[28],
        json!({"date": "2026-11-29", "requests": 2,
        "conversations": 0, "optimizations": 0, "tokens": 0})
    );

    server.state.limiter.flush(server.store()).await.unwrap();
    let rows = UsageServer::stored_rows(server.store(), &acme.id).await;
    assert_eq!(
        rows,
        vec![
            ("2026-11-28".to_owned(), 4, 0, 0, 0),
            ("2026-11-29".to_owned(), 2, 0, 0, 0)
        ]
    );
    assert_eq!(server.usage(&key).await["requests"]["used"], 7);
}

#[tokio::test]
async fn refused_requests_are_not_counted_as_used() {
    let server = UsageServer::start().await;
    let (key, acme) = server.account("Acme", PlanId::Free).await;
    for _ in 0..60 {
        assert_eq!(server.get("/account", &key).await.0, 200);
    }
    assert_eq!(server.get("/usage", &key).await.0, 429);
    server.state.limiter.flush(server.store()).await.unwrap();
    let rows = UsageServer::stored_rows(server.store(), &acme.id).await;
    assert_eq!(rows[0].1, 60);
}

#[tokio::test]
async fn a_clean_shutdown_flushes_every_counted_request() {
    let mut server = UsageServer::start().await;
    let (key, acme) = server.account("Acme", PlanId::Free).await;
    for _ in 0..3 {
        assert_eq!(server.get("/account", &key).await.0, 200);
    }
    server.stop().await;
    let reopened = Store::connect(&server.db, Durability::Normal)
        .await
        .unwrap();
    let rows = UsageServer::stored_rows(&reopened, &acme.id).await;
    assert_eq!(rows, vec![("2026-11-28".to_owned(), 3, 0, 0, 0)]);
    reopened.close().await;
}

#[tokio::test]
async fn the_period_turns_over_with_the_utc_calendar_month() {
    let server = UsageServer::start().await;
    let (key, acme) = server.account("Acme", PlanId::Free).await;
    server.add(&acme.id, START_MS, conversations(5, 500)).await;
    assert_eq!(server.get("/account", &key).await.0, 200);

    // 2026-12-01T00:00:00Z, to the millisecond.
    server.clock.advance_ms(3 * DAY_MS);
    let usage = server.usage(&key).await;
    assert_eq!(
        usage["period"],
        json!({"start": "2026-12-01T00:00:00.000Z", "end": "2027-01-01T00:00:00.000Z"})
    );
    assert_eq!(usage["conversations"]["used"], 0);
    assert_eq!(usage["tokens"]["used"], 0);
    assert_eq!(usage["requests"]["used"], 1);
    assert_eq!(
        usage["byDay"],
        json!([{"date": "2026-12-01", "requests": 1, "conversations": 0, "optimizations": 0, "tokens": 0}])
    );
}

#[tokio::test]
async fn agents_and_prompts_count_the_agents_that_use_the_plan() {
    let server = UsageServer::start().await;
    let (key, acme) = server.account("Acme", PlanId::Free).await;
    for (name, status) in [("a", "active"), ("b", "draft"), ("c", "archived")] {
        sqlx::query(
            "INSERT INTO agents (id, account_id, name, content, content_hash, llm_model, status, version, created_at, updated_at) \
             VALUES ($1, $2, $3, 'You help.', 'hash', 'gpt-4o', $4, 1, $5, $5)",
        )
        .bind(format!("agent_{name}"))
        .bind(&acme.id)
        .bind(name)
        .bind(status)
        .bind(START_MS)
        .execute(server.store().pool())
        .await
        .unwrap();
    }
    let usage = server.usage(&key).await;
    assert_eq!(
        (usage["agents"].clone(), usage["prompts"].clone()),
        (json!(2), json!(2))
    );
}

#[tokio::test]
async fn usage_needs_a_key_and_is_documented() {
    let server = UsageServer::start().await;
    let (status, body) = send(server.http.get(format!("{}/usage", server.base))).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("UNAUTHORIZED"))
    );
    let (status, doc) = send(server.http.get(format!("{}/openapi.json", server.base))).await;
    assert_eq!(status, 200);
    assert!(doc["paths"]["/usage"]["get"].is_object());
    assert!(doc["components"]["schemas"]["Usage"].is_object());
}

#[tokio::test]
async fn token_counters_saturate_instead_of_overflowing() {
    let server = UsageServer::start().await;
    let (key, acme) = server.account("Acme", PlanId::Free).await;
    let huge = UsageDelta {
        tokens: i64::MAX - 1,
        ..UsageDelta::default()
    };
    // Twice on one day (the upsert) and once on the next (the period's total).
    server.add(&acme.id, START_MS, huge).await;
    server.add(&acme.id, START_MS + 5, huge).await;
    server.add(&acme.id, START_MS + DAY_MS, huge).await;

    let usage = server.usage(&key).await;
    assert_eq!(usage["tokens"]["used"], i64::MAX, "{usage}");
    let rows = UsageServer::stored_rows(server.store(), &acme.id).await;
    let tokens: Vec<i64> = rows.iter().map(|row| row.4).collect();
    assert_eq!(tokens, vec![i64::MAX, i64::MAX - 1]);
}
