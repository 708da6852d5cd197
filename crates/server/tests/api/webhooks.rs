//! Webhooks over real HTTP: registration and its URL policy, the 404s, and delivery to a
//! receiver on a loopback port: signature, headers, retry with backoff, the recorded
//! attempts, redelivery, disabling after repeated failure, and a restart mid-retry.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::{send, status_and_json, test_database, START_MS};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use converra_api::PlanId;
use converra_server::clock::{Clock, ManualClock};
use converra_server::state::{AppState, ServerConfig};
use converra_server::store::notify::Channel;
use converra_server::store::webhooks::enqueue_event;
use converra_server::store::{Database, Durability, Store};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

const RETRY_BASE_MS: u64 = 20;

/// A server like `common::TestServer`, but keeping its state (to wake the webhook worker
/// as a route would after its commit) and able to stop and start again over the same file.
struct HookServer {
    base: String,
    state: AppState,
    clock: ManualClock,
    http: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl HookServer {
    async fn start(db: &Database, clock: ManualClock, allow_private: bool) -> HookServer {
        let store = Store::connect(db, Durability::Normal).await.unwrap();
        let config = ServerConfig {
            allow_private_network: allow_private,
            webhook_retry_base_ms: RETRY_BASE_MS,
            ..ServerConfig::default()
        };
        let state = AppState::new(store, Arc::new(clock.clone()), config);
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
        HookServer {
            base,
            state,
            clock,
            http: reqwest::Client::new(),
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    /// Stops the server cleanly (worker included) and waits until it has.
    async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }

    async fn key(&self, account: &str) -> String {
        self.state
            .store
            .issue_key(account, PlanId::Pro, self.clock.now_ms())
            .await
            .unwrap()
            .key
    }

    async fn get(&self, path: &str, key: &str) -> (u16, Value) {
        send(
            self.http
                .get(format!("{}{path}", self.base))
                .bearer_auth(key),
        )
        .await
    }

    async fn post(&self, path: &str, key: &str, body: Value) -> (u16, Value) {
        send(
            self.http
                .post(format!("{}{path}", self.base))
                .bearer_auth(key)
                .json(&body),
        )
        .await
    }

    async fn delete(&self, path: &str, key: &str) -> (u16, Value) {
        send(
            self.http
                .delete(format!("{}{path}", self.base))
                .bearer_auth(key),
        )
        .await
    }

    async fn account_id(&self, key: &str) -> String {
        let (_, body) = self.get("/account", key).await;
        body["data"]["id"].as_str().unwrap().to_owned()
    }

    /// Queues an event as a route would: in a write transaction, then a wake-up.
    async fn fire(&self, account_id: &str, event: &str, data: Value) {
        let mut tx = self.state.store.begin_write().await.unwrap();
        enqueue_event(&mut tx, account_id, event, data, self.clock.now_ms())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        self.state.wake(Channel::Webhooks);
    }

    async fn create_hook(&self, key: &str, url: &str, events: &[&str]) -> (String, String) {
        let (status, body) = self
            .post("/webhooks", key, json!({"url": url, "events": events}))
            .await;
        assert_eq!(status, 201, "{body}");
        (
            body["data"]["id"].as_str().unwrap().to_owned(),
            body["data"]["secret"].as_str().unwrap().to_owned(),
        )
    }

    async fn deliveries(&self, key: &str, hook: &str) -> Vec<Value> {
        let (status, body) = self.get(&format!("/webhooks/{hook}/deliveries"), key).await;
        assert_eq!(status, 200, "{body}");
        body["data"].as_array().unwrap().clone()
    }

    /// Polls the deliveries until `done` holds for them.
    async fn deliveries_until(
        &self,
        key: &str,
        hook: &str,
        what: &str,
        done: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let deliveries = self.deliveries(key, hook).await;
            if done(&deliveries) {
                return deliveries;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}; deliveries: {deliveries:#?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for HookServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

/// A webhook receiver on a loopback port that answers with the scripted statuses, then 200.
#[derive(Clone)]
pub(crate) struct Receiver {
    pub(crate) url: String,
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
}

impl Receiver {
    pub(crate) async fn start(script: &[u16]) -> Receiver {
        let received = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(script.iter().copied().collect::<VecDeque<_>>()));
        let (r, s) = (received.clone(), script.clone());
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let (r, s) = (r.clone(), s.clone());
                async move {
                    r.lock().unwrap().push(Received { headers, body });
                    let code = s.lock().unwrap().pop_front().unwrap_or(200);
                    StatusCode::from_u16(code).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver {
            url,
            received,
            script,
        }
    }

    fn always(&self, code: u16) {
        *self.script.lock().unwrap() = std::iter::repeat_n(code, 1_000).collect();
    }

    pub(crate) fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    pub(crate) fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let received = self.received.lock().unwrap().clone();
            if received.len() >= n {
                return received;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for request {n}; got {}",
                received.len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

fn header<'a>(r: &'a Received, name: &str) -> &'a str {
    r.headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

/// Checks `X-Converra-Signature` as a receiver would, from the secret alone.
fn verify_signature(r: &Received, secret: &str) -> i64 {
    let value = header(r, "x-converra-signature");
    let (t, v1) = value
        .split_once(',')
        .and_then(|(t, v1)| Some((t.strip_prefix("t=")?, v1.strip_prefix("v1=")?)))
        .unwrap_or_else(|| panic!("malformed signature header {value}"));
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(&r.body);
    mac.verify_slice(&hex::decode(v1).unwrap())
        .expect("the signature matches the body and the secret");
    t.parse().unwrap()
}

async fn temp_db() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let db = test_database(dir.path()).await;
    (dir, db)
}

const PUBLIC_URL: &str = "https://93.184.215.14/hooks/converra";

#[tokio::test]
async fn create_answers_201_and_shows_the_secret_only_once() {
    let (_dir, db) = temp_db().await;
    let server = HookServer::start(&db, ManualClock::new(START_MS), false).await;
    let key = server.key("Acme").await;
    let (status, body) = server
        .post(
            "/webhooks",
            &key,
            json!({"url": PUBLIC_URL, "events": ["conversation.created", "optimization.completed"],
                   "description": "  CRM sync  "}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let hook = &body["data"];
    let id = hook["id"].as_str().unwrap();
    assert!(id.starts_with("wh_"), "{id}");
    assert!(hook["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(hook["url"], PUBLIC_URL);
    assert_eq!(
        hook["events"],
        json!(["conversation.created", "optimization.completed"])
    );
    assert_eq!(hook["description"], "CRM sync");
    assert_eq!(hook["status"], "active");
    assert_eq!(hook["createdAt"], "2026-11-28T00:00:00.000Z");

    let (status, list) = server.get("/webhooks", &key).await;
    assert_eq!(status, 200);
    assert_eq!(list["pagination"]["total"], 1);
    let listed = &list["data"][0];
    assert_eq!(listed["id"], id);
    assert!(listed.get("secret").is_none(), "{listed}");
    let mut expected = hook.clone();
    expected.as_object_mut().unwrap().remove("secret");
    assert_eq!(listed, &expected);
}

#[tokio::test]
async fn the_twenty_first_webhook_is_refused_with_limit_exceeded() {
    let (_dir, db) = temp_db().await;
    let server = HookServer::start(&db, ManualClock::new(START_MS), false).await;
    let key = server.key("Acme").await;
    let mut first = String::new();
    for i in 0..20 {
        let (id, _) = server
            .create_hook(&key, PUBLIC_URL, &["agent.updated"])
            .await;
        if i == 0 {
            first = id;
        }
    }
    let body = json!({"url": PUBLIC_URL, "events": ["agent.updated"]});
    let (status, refused) = server.post("/webhooks", &key, body.clone()).await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(refused["error"]["code"], "LIMIT_EXCEEDED");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(message.contains("at most 20 webhooks"), "{message}");
    let (_, list) = server.get("/webhooks", &key).await;
    assert_eq!(list["pagination"]["total"], 20);

    // Another account has places of its own, and deleting one frees a place.
    let other = server.key("Globex").await;
    assert_eq!(server.post("/webhooks", &other, body.clone()).await.0, 201);
    assert_eq!(
        server.delete(&format!("/webhooks/{first}"), &key).await.0,
        200
    );
    assert_eq!(server.post("/webhooks", &key, body).await.0, 201);
}

#[tokio::test]
async fn list_is_newest_first_and_pages_by_cursor() {
    let (_dir, db) = temp_db().await;
    let server = HookServer::start(&db, ManualClock::new(START_MS), false).await;
    let key = server.key("Acme").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(
            server
                .create_hook(&key, PUBLIC_URL, &["agent.updated"])
                .await
                .0,
        );
        server.clock.advance_ms(1_000);
    }
    let (_, first) = server.get("/webhooks?limit=2", &key).await;
    assert_eq!(first["data"][0]["id"], ids[2].as_str());
    assert_eq!(first["data"][1]["id"], ids[1].as_str());
    assert_eq!(first["pagination"]["hasMore"], true);
    let cursor = first["pagination"]["nextCursor"].as_str().unwrap();
    let (_, second) = server
        .get(&format!("/webhooks?limit=2&cursor={cursor}"), &key)
        .await;
    assert_eq!(second["data"].as_array().unwrap().len(), 1);
    assert_eq!(second["data"][0]["id"], ids[0].as_str());
    assert_eq!(second["pagination"]["hasMore"], false);
    let (status, body) = server.get("/webhooks?limit=0", &key).await;
    assert_eq!(
        (
            status,
            body["error"]["details"]["fields"][0]["field"].as_str()
        ),
        (400, Some("limit"))
    );
}

#[tokio::test]
async fn plain_http_and_internal_addresses_are_refused_on_url() {
    let (_dir, db) = temp_db().await;
    let server = HookServer::start(&db, ManualClock::new(START_MS), false).await;
    let key = server.key("Acme").await;
    for url in [
        "http://93.184.215.14/hook",
        "https://127.0.0.1/hook",
        "https://localhost:8443/hook",
        "https://10.0.0.5/hook",
        "https://172.20.1.1/hook",
        "https://192.168.1.10/hook",
        "https://100.64.0.7/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://0.0.0.0/hook",
        "https://[::1]/hook",
        "https://[fe80::1]/hook",
        "https://[fd00::1]/hook",
        "https://[::ffff:192.168.0.1]/hook",
        "https://2130706433/hook",
        "ftp://93.184.215.14/hook",
        "not a url",
    ] {
        let (status, body) = server
            .post(
                "/webhooks",
                &key,
                json!({"url": url, "events": ["agent.updated"]}),
            )
            .await;
        assert_eq!(status, 400, "{url}: {body}");
        assert_eq!(body["error"]["code"], "VALIDATION_ERROR");
        assert_eq!(
            body["error"]["details"]["fields"][0]["field"], "url",
            "{url}: {body}"
        );
    }
    let (_, list) = server.get("/webhooks", &key).await;
    assert_eq!(list["data"], json!([]));
}

#[tokio::test]
async fn events_and_body_shape_are_validated() {
    let (_dir, db) = temp_db().await;
    let server = HookServer::start(&db, ManualClock::new(START_MS), false).await;
    let key = server.key("Acme").await;
    let fields = |body: &Value| -> Vec<String> {
        body["error"]["details"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap().to_owned())
            .collect()
    };

    let (status, body) = server
        .post("/webhooks", &key, json!({"url": PUBLIC_URL, "events": []}))
        .await;
    assert_eq!((status, fields(&body)), (400, vec!["events".to_owned()]));

    let (status, body) = server
        .post(
            "/webhooks",
            &key,
            json!({"url": "http://x.test", "events": ["agent.updated", "agent.exploded"]}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        fields(&body),
        vec!["url".to_owned(), "events[1]".to_owned()]
    );

    let (status, body) = server
        .post(
            "/webhooks",
            &key,
            json!({"url": PUBLIC_URL, "events": ["agent.updated"], "secret": "mine"}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field `secret`"),
        "{body}"
    );

    let (status, body) = server
        .post(
            "/webhooks",
            &key,
            json!({"url": PUBLIC_URL, "events": "agent.updated"}),
        )
        .await;
    assert_eq!((status, fields(&body)), (400, vec!["events".to_owned()]));

    let (status, body) = server
        .post("/webhooks", &key, json!({"events": ["agent.updated"]}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("VALIDATION_ERROR"))
    );

    let raw = |content_type: &'static str, body: &'static str| {
        server
            .http
            .post(format!("{}/webhooks", server.base))
            .bearer_auth(&key)
            .header("content-type", content_type)
            .body(body)
    };
    let (status, body) = send(raw("application/json", "{\"url\": ")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("INVALID_JSON"))
    );
    let (status, body) = send(raw("text/plain", "{}")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (415, Some("UNSUPPORTED_MEDIA_TYPE"))
    );
}

#[tokio::test]
async fn another_accounts_webhook_answers_404_like_an_unknown_id() {
    let (_dir, db) = temp_db().await;
    let server = HookServer::start(&db, ManualClock::new(START_MS), false).await;
    let owner = server.key("Acme").await;
    let other = server.key("Globex").await;
    let (id, _) = server
        .create_hook(&owner, PUBLIC_URL, &["agent.updated"])
        .await;

    for path in [
        format!("/webhooks/{id}/deliveries"),
        "/webhooks/wh_nope/deliveries".to_owned(),
    ] {
        let (status, body) = server.get(&path, &other).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (404, Some("NOT_FOUND")),
            "{path}"
        );
    }
    let (status, theirs) = server.delete(&format!("/webhooks/{id}"), &other).await;
    let (_, unknown) = server.delete("/webhooks/wh_nope", &other).await;
    assert_eq!(status, 404);
    assert_eq!(
        theirs["error"]["message"]
            .as_str()
            .unwrap()
            .replace(&id, "ID"),
        unknown["error"]["message"]
            .as_str()
            .unwrap()
            .replace("wh_nope", "ID")
    );
    let (status, _) = server
        .post(
            &format!("/webhooks/{id}/deliveries/dlv_x/redeliver"),
            &other,
            json!({}),
        )
        .await;
    assert_eq!(status, 404);
    let (_, list) = server.get("/webhooks", &other).await;
    assert_eq!(list["data"], json!([]));
    let (_, list) = server.get("/webhooks", &owner).await;
    assert_eq!(list["data"][0]["id"], id.as_str());
}

#[tokio::test]
async fn delete_answers_success_and_message_and_then_404() {
    let (_dir, db) = temp_db().await;
    let server = HookServer::start(&db, ManualClock::new(START_MS), true).await;
    let receiver = Receiver::start(&[]).await;
    let key = server.key("Acme").await;
    let account = server.account_id(&key).await;
    let (id, _) = server
        .create_hook(&key, &receiver.url, &["agent.updated"])
        .await;
    server
        .fire(&account, "agent.updated", json!({"agentId": "agent_1"}))
        .await;
    server
        .deliveries_until(&key, &id, "the delivery", |d| {
            d.first().is_some_and(|d| d["status"] == "succeeded")
        })
        .await;
    let (status, body) = server.delete(&format!("/webhooks/{id}"), &key).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"data": {"id": id, "deleted": true}, "success": true, "message": "Webhook deleted"})
    );
    let (status, _) = server.delete(&format!("/webhooks/{id}"), &key).await;
    assert_eq!(status, 404);
    let (_, list) = server.get("/webhooks", &key).await;
    assert_eq!(list["pagination"]["total"], 0);
    // Its deliveries, their attempts and the events only they referred to are gone.
    for table in ["webhook_deliveries", "webhook_attempts", "webhook_events"] {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(server.state.store.pool())
            .await
            .unwrap();
        assert_eq!(count, 0, "{table}");
    }
}

#[tokio::test]
async fn delivery_is_signed_retried_after_a_500_recorded_and_redeliverable() {
    let (_dir, db) = temp_db().await;
    let server = HookServer::start(&db, ManualClock::new(START_MS), true).await;
    let receiver = Receiver::start(&[500]).await;
    let key = server.key("Acme").await;
    let account = server.account_id(&key).await;
    let (hook, secret) = server
        .create_hook(&key, &receiver.url, &["conversation.created"])
        .await;
    let data = json!({"conversationId": "conv_1", "agentId": "agent_1", "agentName": "Support"});
    server
        .fire(&account, "conversation.created", data.clone())
        .await;

    // The first attempt: signed, with the documented headers and body, answered 500.
    let first = receiver.wait_for(1).await[0].clone();
    assert_eq!(header(&first, "content-type"), "application/json");
    assert_eq!(header(&first, "x-converra-event"), "conversation.created");
    let delivery_id = header(&first, "x-converra-delivery").to_owned();
    assert!(delivery_id.starts_with("dlv_"), "{delivery_id}");
    assert_eq!(verify_signature(&first, &secret), START_MS / 1000);
    let event: Value = serde_json::from_slice(&first.body).unwrap();
    assert!(event["id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(event["type"], "conversation.created");
    assert_eq!(event["createdAt"], "2026-11-28T00:00:00.000Z");
    assert_eq!(event["data"], data);

    let deliveries = server
        .deliveries_until(&key, &hook, "the first attempt", |d| {
            d.first().is_some_and(|d| d["attemptCount"] == 1)
        })
        .await;
    let d = &deliveries[0];
    assert_eq!(d["id"], delivery_id.as_str());
    assert_eq!(d["event"], "conversation.created");
    assert_eq!(d["eventId"], event["id"]);
    assert_eq!(d["payload"], event, "the payload shown is the body sent");
    assert_eq!(d["status"], "pending");
    assert_eq!(d["statusCode"], 500);
    assert!(d["error"].as_str().unwrap().contains("500"), "{d}");
    assert_eq!(d["attempts"][0]["attempt"], 1);
    assert_eq!(d["attempts"][0]["statusCode"], 500);
    assert_eq!(d["attempts"][0]["attemptedAt"], "2026-11-28T00:00:00.000Z");
    assert!(d["attempts"][0]["durationMs"].is_u64());
    // The retry waits for the backoff on the server's clock, which has not moved.
    assert_eq!(d["nextAttemptAt"], "2026-11-28T00:00:00.020Z");
    assert_eq!(receiver.count(), 1);

    // Still pending: a redelivery would only race the retry.
    let (status, body) = server
        .post(
            &format!("/webhooks/{hook}/deliveries/{delivery_id}/redeliver"),
            &key,
            json!({}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("CONFLICT"))
    );

    server.clock.advance_ms(RETRY_BASE_MS as i64);
    let second = receiver.wait_for(2).await[1].clone();
    assert_eq!(header(&second, "x-converra-delivery"), delivery_id);
    assert_eq!(second.body, first.body, "a retry sends the same event");
    verify_signature(&second, &secret);
    let deliveries = server
        .deliveries_until(&key, &hook, "the delivery to succeed", |d| {
            d.first().is_some_and(|d| d["status"] == "succeeded")
        })
        .await;
    let d = &deliveries[0];
    assert_eq!(d["attemptCount"], 2);
    assert_eq!(d["statusCode"], 200);
    assert_eq!(d["error"], Value::Null);
    assert_eq!(d["nextAttemptAt"], Value::Null);
    assert_eq!(d["attempts"][1]["statusCode"], 200);
    assert_eq!(d["attempts"][1]["attemptedAt"], "2026-11-28T00:00:00.020Z");

    // A redelivery: a new delivery of the same event.
    let (status, body) = server
        .post(
            &format!("/webhooks/{hook}/deliveries/{delivery_id}/redeliver"),
            &key,
            json!({}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let redelivery = &body["data"];
    assert_ne!(redelivery["id"], delivery_id.as_str());
    assert_eq!(redelivery["redeliveryOf"], delivery_id.as_str());
    assert_eq!(redelivery["eventId"], event["id"]);
    assert_eq!(redelivery["status"], "pending");
    let third = receiver.wait_for(3).await[2].clone();
    assert_eq!(
        header(&third, "x-converra-delivery"),
        redelivery["id"].as_str().unwrap()
    );
    let resent: Value = serde_json::from_slice(&third.body).unwrap();
    assert_eq!(resent["id"], event["id"]);
    verify_signature(&third, &secret);
    let deliveries = server
        .deliveries_until(&key, &hook, "the redelivery to succeed", |d| {
            d.len() == 2 && d.iter().all(|d| d["status"] == "succeeded")
        })
        .await;
    assert_eq!(deliveries[0]["id"], redelivery["id"], "newest first");

    let (status, _) = server
        .post(
            &format!("/webhooks/{hook}/deliveries/dlv_nope/redeliver"),
            &key,
            json!({}),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn only_subscribers_get_an_event_and_older_names_get_it_under_their_name() {
    let (_dir, db) = temp_db().await;
    let server = HookServer::start(&db, ManualClock::new(START_MS), true).await;
    let receiver = Receiver::start(&[]).await;
    let key = server.key("Acme").await;
    let account = server.account_id(&key).await;
    let (legacy, _) = server
        .create_hook(&key, &receiver.url, &["prompt.updated"])
        .await;
    let (unrelated, _) = server
        .create_hook(&key, &receiver.url, &["conversation.created"])
        .await;
    server
        .fire(
            &account,
            "agent.updated",
            json!({"agentId": "agent_1", "name": "Support"}),
        )
        .await;
    let got = receiver.wait_for(1).await[0].clone();
    assert_eq!(header(&got, "x-converra-event"), "prompt.updated");
    let event: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(event["type"], "prompt.updated");
    assert_eq!(event["data"]["agentId"], "agent_1");
    server
        .deliveries_until(&key, &legacy, "the delivery to succeed", |d| {
            d.first()
                .is_some_and(|d| d["status"] == "succeeded" && d["event"] == "prompt.updated")
        })
        .await;
    assert!(server.deliveries(&key, &unrelated).await.is_empty());
    assert_eq!(receiver.count(), 1);

    // Another account's events never reach this account's webhooks.
    let other = server.key("Globex").await;
    let other_account = server.account_id(&other).await;
    server
        .fire(
            &other_account,
            "conversation.created",
            json!({"conversationId": "conv_9"}),
        )
        .await;
    assert!(server.deliveries(&key, &unrelated).await.is_empty());
}

/// The request that causes an event writes one outbox row however many webhooks take it;
/// the worker writes the deliveries, to the webhooks that existed when it happened.
#[tokio::test]
async fn an_event_is_one_row_in_its_request_and_the_worker_fans_it_out() {
    let (_dir, db) = temp_db().await;
    let server = HookServer::start(&db, ManualClock::new(START_MS), true).await;
    let subscribers = Receiver::start(&[]).await;
    let latecomer = Receiver::start(&[]).await;
    let key = server.key("Acme").await;
    let account = server.account_id(&key).await;
    let mut hooks = Vec::new();
    for _ in 0..3 {
        let (id, _) = server
            .create_hook(&key, &subscribers.url, &["conversation.created"])
            .await;
        hooks.push(id);
    }
    server
        .create_hook(&key, &subscribers.url, &["agent.deleted"])
        .await;

    let mut tx = server.state.store.begin_write().await.unwrap();
    let taken = enqueue_event(
        &mut tx,
        &account,
        "conversation.created",
        json!({"conversationId": "conv_1"}),
        server.clock.now_ms(),
    )
    .await
    .unwrap();
    assert!(taken, "three webhooks take the event");
    let rows = |table: &'static str| {
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM {table} WHERE account_id = $1"
        )))
        .bind(account.clone())
    };
    assert_eq!(rows("webhook_events").fetch_one(&mut *tx).await.unwrap(), 1);
    assert_eq!(
        rows("webhook_deliveries")
            .fetch_one(&mut *tx)
            .await
            .unwrap(),
        0,
        "the request writes no delivery"
    );
    tx.commit().await.unwrap();

    server.clock.advance_ms(1);
    let (late, _) = server
        .create_hook(&key, &latecomer.url, &["conversation.created"])
        .await;
    server.state.wake(Channel::Webhooks);
    let received = subscribers.wait_for(3).await;
    for got in &received {
        assert_eq!(header(got, "x-converra-event"), "conversation.created");
    }
    for hook in &hooks {
        server
            .deliveries_until(&key, hook, "its delivery to succeed", |d| {
                d.len() == 1 && d[0]["status"] == "succeeded"
            })
            .await;
    }
    assert!(
        server.deliveries(&key, &late).await.is_empty(),
        "a webhook created after the event does not get it"
    );
    assert_eq!(subscribers.count(), 3);
    assert_eq!(latecomer.count(), 0);

    // An event no webhook takes writes nothing at all.
    let mut tx = server.state.store.begin_write().await.unwrap();
    let taken = enqueue_event(
        &mut tx,
        &account,
        "optimization.completed",
        json!({"optimizationId": "opt_1"}),
        server.clock.now_ms(),
    )
    .await
    .unwrap();
    assert!(!taken);
    assert_eq!(rows("webhook_events").fetch_one(&mut *tx).await.unwrap(), 1);
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn repeated_failed_deliveries_disable_the_webhook() {
    let (_dir, db) = temp_db().await;
    let server = HookServer::start(&db, ManualClock::new(START_MS), true).await;
    let receiver = Receiver::start(&[]).await;
    receiver.always(503);
    let key = server.key("Acme").await;
    let account = server.account_id(&key).await;
    let (hook, _) = server
        .create_hook(&key, &receiver.url, &["benchmark.completed"])
        .await;
    for i in 0..5 {
        server
            .fire(
                &account,
                "benchmark.completed",
                json!({"benchmarkId": format!("bench_{i}")}),
            )
            .await;
    }
    // Six attempts each, the clock stepped over every backoff (1, 2, 4, 8, 16 x base).
    for attempt in 1..=6u64 {
        server
            .deliveries_until(
                &key,
                &hook,
                &format!("attempt {attempt} of every delivery"),
                |d| d.len() == 5 && d.iter().all(|d| d["attemptCount"] == attempt),
            )
            .await;
        if attempt < 6 {
            server
                .clock
                .advance_ms((RETRY_BASE_MS << (attempt - 1)) as i64);
        }
    }
    let deliveries = server
        .deliveries_until(&key, &hook, "every delivery to fail", |d| {
            d.iter().all(|d| d["status"] == "failed")
        })
        .await;
    assert!(deliveries
        .iter()
        .all(|d| d["attempts"].as_array().unwrap().len() == 6));
    assert_eq!(receiver.count(), 30);
    let (_, list) = server.get("/webhooks", &key).await;
    assert_eq!(list["data"][0]["status"], "disabled");

    // A disabled webhook gets nothing more, and cannot be redelivered to.
    server
        .fire(
            &account,
            "benchmark.completed",
            json!({"benchmarkId": "bench_late"}),
        )
        .await;
    assert_eq!(server.deliveries(&key, &hook).await.len(), 5);
    let id = deliveries[0]["id"].as_str().unwrap();
    let (status, _) = server
        .post(
            &format!("/webhooks/{hook}/deliveries/{id}/redeliver"),
            &key,
            json!({}),
        )
        .await;
    assert_eq!(status, 409);
    let (status, body) = server
        .post(&format!("/webhooks/{hook}/test"), &key, json!({}))
        .await;
    assert_eq!(status, 409, "no test event to a disabled webhook: {body}");
    assert_eq!(server.deliveries(&key, &hook).await.len(), 5);
}

#[tokio::test]
async fn a_test_event_goes_to_that_webhook_alone_signed_and_shown_as_sent() {
    let (_dir, db) = temp_db().await;
    let server = HookServer::start(&db, ManualClock::new(START_MS), true).await;
    let receiver = Receiver::start(&[]).await;
    let other_receiver = Receiver::start(&[]).await;
    let key = server.key("Acme").await;
    let (hook, secret) = server
        .create_hook(&key, &receiver.url, &["benchmark.completed"])
        .await;
    server
        .create_hook(&key, &other_receiver.url, &["benchmark.completed"])
        .await;

    let (status, body) = server
        .post(&format!("/webhooks/{hook}/test"), &key, json!({}))
        .await;
    assert_eq!(status, 202, "{body}");
    let queued = &body["data"];
    assert_eq!(queued["event"], "webhook.test");
    assert_eq!(queued["status"], "pending");
    assert_eq!(queued["payload"]["type"], "webhook.test");
    assert_eq!(queued["payload"]["data"]["webhookId"], hook.as_str());

    let received = receiver.wait_for(1).await[0].clone();
    assert_eq!(header(&received, "x-converra-event"), "webhook.test");
    assert_eq!(
        header(&received, "x-converra-delivery"),
        queued["id"].as_str().unwrap()
    );
    verify_signature(&received, &secret);
    let sent: Value = serde_json::from_slice(&received.body).unwrap();
    assert_eq!(
        sent, queued["payload"],
        "the payload shown before sending is what is sent"
    );
    let deliveries = server
        .deliveries_until(&key, &hook, "the test to succeed", |d| {
            d.first().is_some_and(|d| d["status"] == "succeeded")
        })
        .await;
    assert_eq!(deliveries[0]["payload"], sent);
    assert_eq!(other_receiver.count(), 0, "only the webhook tested gets it");

    // Another account's webhook, or none, is not found.
    let other_key = server.key("Other").await;
    let (status, _) = server
        .post(&format!("/webhooks/{hook}/test"), &other_key, json!({}))
        .await;
    assert_eq!(status, 404);
    let (status, body) = server.post("/webhooks/wh_nope/test", &key, json!({})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("NOT_FOUND"))
    );
}

#[tokio::test]
async fn a_pending_retry_survives_a_restart() {
    let (_dir, db) = temp_db().await;
    let clock = ManualClock::new(START_MS);
    let receiver = Receiver::start(&[500]).await;
    let server = HookServer::start(&db, clock.clone(), true).await;
    let key = server.key("Acme").await;
    let account = server.account_id(&key).await;
    let (hook, _) = server
        .create_hook(&key, &receiver.url, &["optimization.completed"])
        .await;
    server
        .fire(
            &account,
            "optimization.completed",
            json!({"optimizationId": "opt_1"}),
        )
        .await;
    server
        .deliveries_until(&key, &hook, "the failed first attempt", |d| {
            d.first().is_some_and(|d| d["attemptCount"] == 1)
        })
        .await;
    server.stop().await;

    clock.advance_ms(RETRY_BASE_MS as i64);
    let server = HookServer::start(&db, clock.clone(), true).await;
    let deliveries = server
        .deliveries_until(&key, &hook, "the retry after the restart", |d| {
            d.first().is_some_and(|d| d["status"] == "succeeded")
        })
        .await;
    assert_eq!(deliveries[0]["attemptCount"], 2);
    assert_eq!(receiver.count(), 2);
}

#[tokio::test]
async fn each_attempt_checks_the_address_again() {
    let (_dir, db) = temp_db().await;
    let clock = ManualClock::new(START_MS);
    let receiver = Receiver::start(&[]).await;
    let port = receiver
        .url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    // Registered while private addresses were allowed...
    let server = HookServer::start(&db, clock.clone(), true).await;
    let key = server.key("Acme").await;
    let account = server.account_id(&key).await;
    let (by_ip, _) = server
        .create_hook(&key, &receiver.url, &["agent.deleted"])
        .await;
    let by_name_url = format!("https://localhost:{port}/hook");
    let (by_name, _) = server
        .create_hook(&key, &by_name_url, &["agent.deleted"])
        .await;
    server.stop().await;

    // ...then sent by a server that forbids them: refused before any connection.
    let server = HookServer::start(&db, clock.clone(), false).await;
    server
        .fire(&account, "agent.deleted", json!({"agentId": "agent_1"}))
        .await;
    let refused = |hook: String| {
        let server = &server;
        let key = &key;
        async move {
            server
                .deliveries_until(key, &hook, "a refused attempt", |d| {
                    d.first().is_some_and(|d| d["attemptCount"] == 1)
                })
                .await[0]
                .clone()
        }
    };
    let d = refused(by_ip).await;
    assert_eq!(d["statusCode"], Value::Null);
    assert!(d["error"].as_str().unwrap().contains("https"), "{d}");
    let d = refused(by_name).await;
    assert_eq!(d["statusCode"], Value::Null);
    assert!(
        d["error"].as_str().unwrap().contains("internal address"),
        "{d}"
    );
    assert_eq!(receiver.count(), 0);
}

#[tokio::test]
async fn openapi_lists_the_webhook_and_settings_paths() {
    let (_dir, db) = temp_db().await;
    let server = HookServer::start(&db, ManualClock::new(START_MS), false).await;
    let (status, body) = status_and_json(
        server
            .http
            .get(format!("{}/openapi.json", server.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let paths = &body["paths"];
    assert!(paths["/webhooks"]["post"].is_object());
    assert!(paths["/webhooks/{id}"]["delete"].is_object());
    assert!(paths["/webhooks/{id}/deliveries"]["get"].is_object());
    assert!(paths["/webhooks/{id}/deliveries/{deliveryId}/redeliver"]["post"].is_object());
    assert!(paths["/webhooks/{id}/test"]["post"].is_object());
    assert!(paths["/settings"]["patch"].is_object());
}

#[tokio::test]
async fn logging_a_conversation_delivers_conversation_created_and_counts_usage() {
    let (_dir, db) = temp_db().await;
    let server = HookServer::start(&db, ManualClock::new(START_MS), true).await;
    let receiver = Receiver::start(&[]).await;
    let key = server.key("Acme").await;
    let (_, secret) = server
        .create_hook(&key, &receiver.url, &["conversation.created"])
        .await;
    let (status, body) = server
        .post(
            "/conversations",
            &key,
            json!({"agentName": "Support", "messages": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": "hello", "usage": {"promptTokens": 40, "completionTokens": 2}}
            ]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let got = receiver.wait_for(1).await[0].clone();
    verify_signature(&got, &secret);
    let event: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(event["type"], "conversation.created");
    assert_eq!(event["data"]["conversationId"], body["data"]["id"]);
    assert_eq!(event["data"]["agentName"], "Support");

    let (_, usage) = server.get("/usage", &key).await;
    assert_eq!(usage["data"]["conversations"]["used"], 1);
    assert_eq!(usage["data"]["tokens"]["used"], 42);
    assert_eq!(usage["data"]["agents"], 1);
}
