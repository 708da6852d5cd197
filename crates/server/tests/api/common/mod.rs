//! A real server on a loopback port over a real SQLite file in a temp dir, for HTTP tests.
pub mod fake_model;

use std::sync::Arc;

use converra_api::PlanId;
use converra_server::clock::{Clock, ManualClock};
use converra_server::state::{AppState, ServerConfig};
use converra_server::store::{Durability, Store};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;

/// 2026-11-28T00:00:00Z: tests start on a fixed day so dates in assertions are stable.
pub const START_MS: i64 = 1_795_824_000_000;

pub struct TestServer {
    pub base: String,
    pub store: Store,
    pub clock: ManualClock,
    pub http: reqwest::Client,
    dir: Option<tempfile::TempDir>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(ServerConfig::default()).await
    }

    pub async fn start_with(config: ServerConfig) -> TestServer {
        Self::start_in(tempfile::tempdir().expect("temp dir"), config).await
    }

    /// A server over the database already in `dir` (from [`TestServer::stop`]): a restart.
    pub async fn start_in(dir: tempfile::TempDir, config: ServerConfig) -> TestServer {
        let store = Store::open(&dir.path().join("converra.db"), Durability::Normal)
            .await
            .expect("open store");
        let clock = ManualClock::new(START_MS);
        let state = AppState::new(store.clone(), Arc::new(clock.clone()), config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}/api/v1", listener.local_addr().expect("addr"));
        let (tx, rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(converra_server::app::serve(listener, state, async {
            let _ = rx.await;
        }));
        TestServer {
            base,
            store,
            clock,
            http: reqwest::Client::new(),
            dir: Some(dir),
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    /// Stops the server gracefully and hands back its directory, database included.
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await
                .expect("server task")
                .expect("server stopped cleanly");
        }
        self.dir.take().expect("the directory is held until stop")
    }

    /// Polls `GET path` until `done` holds for the body, for up to 30 s.
    pub async fn wait_for(&self, path: &str, key: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let (status, body) = self.get(path, key).await;
            assert_eq!(status, 200, "{path}: {body}");
            if done(&body) {
                return body;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{path} never reached the expected state: {body}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// A new account on `plan` and a key for it.
    pub async fn key(&self, account: &str, plan: PlanId) -> String {
        self.store
            .issue_key(account, plan, self.clock.now_ms())
            .await
            .expect("issue key")
            .key
    }

    pub fn request(&self, method: Method, path: &str, key: Option<&str>) -> RequestBuilder {
        let builder = self.http.request(method, format!("{}{}", self.base, path));
        match key {
            Some(key) => builder.bearer_auth(key),
            None => builder,
        }
    }

    pub async fn get(&self, path: &str, key: &str) -> (u16, Value) {
        send(self.request(Method::GET, path, Some(key))).await
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> (u16, Value) {
        send(self.request(Method::POST, path, Some(key)).json(&body)).await
    }

    pub async fn patch(&self, path: &str, key: &str, body: Value) -> (u16, Value) {
        send(self.request(Method::PATCH, path, Some(key)).json(&body)).await
    }

    pub async fn delete(&self, path: &str, key: &str) -> (u16, Value) {
        send(self.request(Method::DELETE, path, Some(key))).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Sends and returns the status and the JSON body (`null` for an empty one).
pub async fn send(builder: RequestBuilder) -> (u16, Value) {
    let response = builder.send().await.expect("request reaches the server");
    status_and_json(response).await
}

pub async fn status_and_json(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let bytes = response.bytes().await.expect("body");
    let json = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)))
    };
    (status, json)
}
