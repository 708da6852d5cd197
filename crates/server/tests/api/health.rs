//! `/healthz` and `/readyz`: answered without a key, outside the API's base path.

use serde_json::{json, Value};

use crate::common::TestServer;

#[tokio::test]
async fn health_and_readiness_answer_without_a_key() {
    let server = TestServer::start().await;
    let root = server.base.trim_end_matches(converra_api::BASE_PATH);
    for (path, status) in [("/healthz", "ok"), ("/readyz", "ready")] {
        let response = server
            .http
            .get(format!("{root}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body, json!({ "status": status }), "{path}");
    }
    // The API itself still asks for a key.
    let account = server
        .http
        .get(format!("{}/account", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(account.status(), 401);
}

/// A TCP relay to the database that can be cut (every relayed connection dropped, every new
/// one closed at once, as a database that went away) and restored.
struct CuttableRelay {
    port: u16,
    up: tokio::sync::watch::Sender<bool>,
}

impl CuttableRelay {
    async fn start(upstream: String) -> CuttableRelay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (up, _) = tokio::sync::watch::channel(true);
        let watch = up.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut up = watch.subscribe();
                if !*up.borrow_and_update() {
                    continue; // dropped: closed at once
                }
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = up.wait_for(|up| !up) => {}
                    }
                });
            }
        });
        CuttableRelay { port, up }
    }

    fn set_up(&self, up: bool) {
        self.up.send_replace(up);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_gone_away_answers_503_and_the_instance_serves_again_once_it_is_back() {
    use converra_api::PlanId;
    use converra_server::store::{Database, Durability, Store};

    let dir = tempfile::tempdir().unwrap();
    let db = crate::common::test_database(dir.path()).await;
    let Database::Postgres(url) = &db else {
        eprintln!("needs CONVERRA_TEST_POSTGRES: the database is a server that can go away");
        return;
    };
    let admin = Store::connect(&db, Durability::Normal).await.unwrap();
    let key = admin
        .issue_key("Acme", PlanId::Pro, crate::common::START_MS)
        .await
        .unwrap()
        .key;
    let mut url = url::Url::parse(url).unwrap();
    let relay = CuttableRelay::start(format!(
        "{}:{}",
        url.host_str().unwrap(),
        url.port().unwrap_or(5432)
    ))
    .await;
    url.set_port(Some(relay.port)).unwrap();
    let (base, _stop) = crate::instances::instance(&Database::Postgres(url.into())).await;
    let root = base.trim_end_matches(converra_api::BASE_PATH).to_owned();
    let http = reqwest::Client::new();
    let account = || http.get(format!("{base}/account")).bearer_auth(&key).send();

    assert_eq!(account().await.unwrap().status(), 200);
    relay.set_up(false);
    let away = account().await.unwrap();
    assert_eq!(away.status(), 503);
    assert_eq!(away.headers()["retry-after"], "5");
    let body: Value = away.json().await.unwrap();
    assert_eq!(body["error"]["code"], "SERVICE_UNAVAILABLE", "{body}");
    let ready = http.get(format!("{root}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let alive = http.get(format!("{root}/healthz")).send().await.unwrap();
    assert_eq!(alive.status(), 200, "the process itself is up");

    relay.set_up(true);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let status = account().await.unwrap().status();
        if status == 200 {
            break;
        }
        assert_eq!(status, 503);
        assert!(
            std::time::Instant::now() < deadline,
            "still 503 after the database came back"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    admin.close().await;
}
