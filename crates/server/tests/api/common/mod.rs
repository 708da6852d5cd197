//! A real server on a loopback port over a real database, for HTTP tests: a SQLite file in
//! a temp dir, or, when `CONVERRA_TEST_POSTGRES` names a PostgreSQL server, a database of
//! its own there.
pub mod fake_model;

use std::sync::Arc;

use converra_api::PlanId;
use converra_server::clock::{Clock, ManualClock};
use converra_server::state::{AppState, ServerConfig};
use converra_server::store::{Database, Durability, Store};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;

/// The PostgreSQL server the tests run against instead of SQLite, when set: a URL whose
/// user may create databases (`scripts/test.sh` starts a throwaway server and sets it).
const POSTGRES_ENV: &str = "CONVERRA_TEST_POSTGRES";

/// The database a test keeps in `dir`: a SQLite file there, or a PostgreSQL database
/// created for this folder and named in it, so a restart over the same folder finds it.
pub async fn test_database(dir: &std::path::Path) -> Database {
    let Ok(server) = std::env::var(POSTGRES_ENV) else {
        return Database::Sqlite(dir.join("converra.db"));
    };
    let marker = dir.join("postgres-url");
    if let Ok(url) = std::fs::read_to_string(&marker) {
        return Database::Postgres(url);
    }
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let name = format!(
        "converra_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let mut admin = sqlx::AnyConnection::connect(&server)
        .await
        .expect("connect to the test PostgreSQL server");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create a test database");
    let _ = admin.close().await;
    let mut url = url::Url::parse(&server).expect("CONVERRA_TEST_POSTGRES is a URL");
    url.set_path(&name);
    std::fs::write(&marker, url.as_str()).expect("name the test database");
    Database::Postgres(url.into())
}

/// `db` as the server's `--db` argument.
pub fn db_arg(db: &Database) -> std::ffi::OsString {
    match db {
        Database::Sqlite(path) => path.clone().into_os_string(),
        Database::Postgres(url) => url.into(),
    }
}

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
        // `CONVERRA_TEST_LOG=error` shows what the server logged, such as an internal error's cause.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_env("CONVERRA_TEST_LOG"))
            .with_test_writer()
            .try_init();
        let store = Store::connect(&test_database(dir.path()).await, Durability::Normal)
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
