//! `GET /metrics` on `--metrics-addr`: Prometheus's text format, apart from the API.

use std::process::{Command, Stdio};

use converra_api::PlanId;
use converra_server::store::{Durability, Store};

use crate::common::{db_arg, send, test_database, START_MS};
use crate::process::{free_port, wait_until_up, BIN};

/// The value of the sample named exactly `series` (name and labels), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|value| value.parse().expect("a number"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_by_route_and_report_the_queues_on_their_own_address() {
    let dir = tempfile::tempdir().unwrap();
    let db = test_database(dir.path()).await;
    let admin = Store::connect(&db, Durability::Normal).await.unwrap();
    let key = admin
        .issue_key("Acme", PlanId::Pro, START_MS)
        .await
        .unwrap()
        .key;
    admin.close().await;
    let (port, metrics_port) = (free_port(), free_port());
    let _server = KillOnDrop(
        Command::new(BIN)
            .args(["serve", "--db"])
            .arg(db_arg(&db))
            .args(["--addr", &format!("127.0.0.1:{port}")])
            .args(["--metrics-addr", &format!("127.0.0.1:{metrics_port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the server"),
    );
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let http = reqwest::Client::new();
    wait_until_up(&http, &base).await;

    let (status, _) = send(http.get(format!("{base}/account")).bearer_auth(&key)).await;
    assert_eq!(status, 200);
    for _ in 0..2 {
        let (status, _) = send(
            http.get(format!("{base}/agents/agt_nope"))
                .bearer_auth(&key),
        )
        .await;
        assert_eq!(status, 404);
    }
    let (status, _) = send(http.get(format!("{base}/no/such/thing")).bearer_auth(&key)).await;
    assert_eq!(status, 404);
    let scrape = http
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(scrape.status(), 200);
    assert!(scrape.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = scrape.text().await.unwrap();
    let requests =
        |labels: &str| sample(&text, &format!("converra_http_requests_total{{{labels}}}"));
    assert_eq!(
        requests(r#"method="GET",route="/api/v1/account",status="200""#),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        requests(r#"method="GET",route="/api/v1/agents/{id}",status="404""#),
        Some(2.0),
        "the route's template, not each id: {text}"
    );
    assert_eq!(
        requests(r#"method="GET",route="/api/{*rest}",status="404""#),
        Some(1.0),
        "an unknown endpoint is counted under one route, whatever its path: {text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"converra_http_request_duration_seconds_count{method="GET",route="/api/v1/agents/{id}"}"#
        ),
        Some(2.0),
        "{text}"
    );
    assert!(text.contains(r#"converra_http_request_duration_seconds_bucket{method="GET",route="/api/v1/account",le="+Inf"} 1"#), "{text}");
    for queue in [
        "insights",
        "optimizations",
        "benchmarks",
        "webhook_events",
        "webhook_deliveries",
    ] {
        let depth = sample(&text, &format!("converra_queue_depth{{queue=\"{queue}\"}}"));
        assert!(depth.is_some_and(|d| d >= 0.0), "{queue}: {text}");
        let age = sample(
            &text,
            &format!("converra_queue_oldest_job_age_seconds{{queue=\"{queue}\"}}"),
        );
        assert!(age.is_some_and(|a| a >= 0.0), "{queue}: {text}");
    }
    assert_eq!(
        sample(
            &text,
            r#"converra_webhook_attempts_total{result="succeeded"}"#
        ),
        Some(0.0)
    );
    // Every line is a comment or `name{labels} number`.
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (_, value) = line.rsplit_once(' ').expect(line);
        assert!(value.parse::<f64>().is_ok(), "{line}");
    }

    // The API's own address does not serve them.
    let root = format!("http://127.0.0.1:{port}");
    let on_api = http.get(format!("{root}/metrics")).send().await.unwrap();
    assert_ne!(on_api.status(), 200);
}

/// The server process, killed when the test ends, passed or failed.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn a_queues_depth_counts_the_jobs_no_process_holds_and_its_age_the_oldest() {
    use converra_server::store::insights::queue_insights;

    let server = crate::common::TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let (status, _) = server
        .patch(
            "/settings",
            &key,
            serde_json::json!({"insights": {"autoGenerate": false}}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = server
        .post(
            "/conversations",
            &key,
            serde_json::json!({"agentName": "Support", "messages": [
                {"role": "user", "content": "Hello"}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let conversation = body["data"]["id"].as_str().unwrap().to_owned();
    let (_, account) = server.get("/account", &key).await;
    let account = account["data"]["id"].as_str().unwrap().to_owned();
    // Queued for tomorrow, so the server's own worker (at the test clock) leaves it alone.
    let queued_at = START_MS + 86_400_000;
    let mut tx = server.store.begin_write().await.unwrap();
    queue_insights(&mut tx, &account, &conversation, queued_at)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let insights = |stats: Vec<converra_server::store::QueueStats>| {
        stats.into_iter().find(|q| q.queue == "insights").unwrap()
    };
    let waiting = insights(server.store.queue_stats(queued_at + 5_000).await.unwrap());
    assert_eq!((waiting.depth, waiting.oldest_age_ms), (1, 5_000));
    if server.store.backend() != converra_server::store::Backend::Postgres {
        return; // the only process takes no lease
    }
    // Once a process holds it, it no longer waits.
    assert_eq!(
        server
            .store
            .claim_due_insights(queued_at, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    let held = insights(server.store.queue_stats(queued_at + 5_000).await.unwrap());
    assert_eq!((held.depth, held.oldest_age_ms), (0, 0));
}
