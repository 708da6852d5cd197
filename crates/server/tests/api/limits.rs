//! Plan rate limits over real HTTP (fixed one-minute windows on the injected clock), and the
//! plan quota checks other modules call in their write transactions.

use crate::common::{send, TestServer, START_MS};
use axum::response::IntoResponse;
use converra_api::{PlanId, PlanLimits};
use converra_server::clock::DAY_MS;
use converra_server::limits::{
    ensure_agent_quota, ensure_conversation_quota, ensure_optimization_quota,
};
use converra_server::store::accounts::AccountRecord;
use converra_server::store::usage::{add_usage, UsageDelta};
use reqwest::{Method, Response};
use serde_json::{json, Value};

/// The three rate-limit headers of a response: limit, remaining, reset (Unix seconds).
fn rate_headers(response: &Response) -> (u64, u64, i64) {
    let header = |name: &str| -> String {
        response
            .headers()
            .get(name)
            .unwrap_or_else(|| panic!("{name} missing on a {}", response.status()))
            .to_str()
            .unwrap()
            .to_owned()
    };
    (
        header("x-ratelimit-limit").parse().unwrap(),
        header("x-ratelimit-remaining").parse().unwrap(),
        header("x-ratelimit-reset").parse().unwrap(),
    )
}

async fn get_account(server: &TestServer, key: &str) -> Response {
    server
        .request(Method::GET, "/account", Some(key))
        .send()
        .await
        .unwrap()
}

const WINDOW_END_SECS: i64 = START_MS / 1000 + 60;

#[tokio::test]
async fn free_plan_admits_exactly_sixty_requests_a_minute() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Free).await;
    for i in 1..=60u64 {
        let response = get_account(&server, &key).await;
        assert_eq!(response.status(), 200, "request {i}");
        assert_eq!(rate_headers(&response), (60, 60 - i, WINDOW_END_SECS));
    }

    server.clock.advance_ms(15_000);
    let refused = get_account(&server, &key).await;
    assert_eq!(refused.status(), 429);
    assert_eq!(rate_headers(&refused), (60, 0, WINDOW_END_SECS));
    assert_eq!(refused.headers()["retry-after"], "45");
    let (_, body) = crate::common::status_and_json(refused).await;
    assert_eq!(body["error"]["code"], "RATE_LIMITED");
    assert_eq!(
        body["error"]["message"],
        "Rate limit exceeded: the Free plan allows 60 requests per minute; retry in 45 seconds or upgrade your plan"
    );
    assert_eq!(body.as_object().unwrap().len(), 1);

    // Still refused just before the window ends; admitted again the moment it does.
    server.clock.advance_ms(44_999);
    let last_moment = get_account(&server, &key).await;
    assert_eq!(last_moment.status(), 429);
    assert_eq!(last_moment.headers()["retry-after"], "1");
    server.clock.advance_ms(1);
    let next_window = get_account(&server, &key).await;
    assert_eq!(next_window.status(), 200);
    assert_eq!(rate_headers(&next_window), (60, 59, WINDOW_END_SECS + 60));
}

#[tokio::test]
async fn every_authenticated_response_carries_the_rate_limit_headers() {
    let server = TestServer::start().await;
    let key = server.key("Globex", PlanId::Pro).await;
    let ok = get_account(&server, &key).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(rate_headers(&ok), (300, 299, WINDOW_END_SECS));

    let usage = server
        .request(Method::GET, "/usage", Some(&key))
        .send()
        .await
        .unwrap();
    assert_eq!(usage.status(), 200);
    assert_eq!(rate_headers(&usage), (300, 298, WINDOW_END_SECS));

    // Without an account there is no plan to count against.
    let anonymous = server
        .request(Method::GET, "/account", None)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers().get("x-ratelimit-limit").is_none());
}

/// A handler error behind auth, served like `app::router` layers it: the resource routes of
/// other modules are not needed to see what the rate-limit layer does to an error.
#[tokio::test]
async fn handler_errors_carry_the_rate_limit_headers_too() {
    use axum::routing::get;
    use converra_server::error::ApiError;
    use converra_server::state::{AppState, ServerConfig};

    let server = TestServer::start().await;
    let key = server.key("Hooli", PlanId::Free).await;
    let state = AppState::new(
        server.store.clone(),
        std::sync::Arc::new(server.clock.clone()),
        ServerConfig::default(),
    );
    let app = axum::Router::new()
        .route(
            "/fails",
            get(|| async { ApiError::not_found("Agent", "agent_x") }),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            converra_server::limits::enforce_rate_limit,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            converra_server::auth::require_api_key,
        ))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/fails", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let response = server
        .http
        .get(&url)
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(rate_headers(&response), (60, 59, WINDOW_END_SECS));
    let (_, body) = crate::common::status_and_json(response).await;
    assert_eq!(body["error"]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn accounts_have_separate_windows() {
    let server = TestServer::start().await;
    let busy = server.key("Busy", PlanId::Free).await;
    let quiet = server.key("Quiet", PlanId::Free).await;
    for _ in 0..60 {
        assert_eq!(get_account(&server, &busy).await.status(), 200);
    }
    assert_eq!(get_account(&server, &busy).await.status(), 429);

    let other = get_account(&server, &quiet).await;
    assert_eq!(other.status(), 200);
    assert_eq!(rate_headers(&other), (60, 59, WINDOW_END_SECS));
    // Two keys of one account share its window.
    let second_key = server.key("Busy", PlanId::Free).await;
    assert_eq!(get_account(&server, &second_key).await.status(), 429);
}

#[tokio::test]
async fn enterprise_accounts_are_limited_by_their_own_limits() {
    let server = TestServer::start().await;
    let key = server.key("Initech", PlanId::Enterprise).await;
    let limits = PlanLimits::new(1_000, 1_000, 1_000_000, 2);
    sqlx::query("UPDATE accounts SET custom_limits = $1 WHERE name = 'Initech'")
        .bind(serde_json::to_string(&limits).unwrap())
        .execute(server.store.pool())
        .await
        .unwrap();
    for remaining in [1, 0] {
        let response = get_account(&server, &key).await;
        assert_eq!(response.status(), 200);
        assert_eq!(rate_headers(&response).1, remaining);
    }
    let (status, body) = send(server.request(Method::GET, "/usage", Some(&key))).await;
    assert_eq!(status, 429);
    assert_eq!(
        body["error"]["message"],
        "Rate limit exceeded: the Enterprise plan allows 2 requests per minute; retry in 60 seconds or ask us to raise your limit"
    );
}

async fn account(server: &TestServer, name: &str, plan: PlanId) -> AccountRecord {
    server
        .store
        .issue_key(name, plan, START_MS)
        .await
        .unwrap()
        .account
}

async fn insert_agent(server: &TestServer, account_id: &str, name: &str, status: &str) {
    sqlx::query(
        "INSERT INTO agents (id, account_id, name, content, content_hash, llm_model, status, version, created_at, updated_at) \
         VALUES ($1, $2, $3, 'You help.', 'hash', 'gpt-4o', $4, 1, $5, $5)",
    )
    .bind(format!("agent_{account_id}_{name}"))
    .bind(account_id)
    .bind(name)
    .bind(status)
    .bind(START_MS)
    .execute(server.store.pool())
    .await
    .unwrap();
}

/// The status and body the error would answer with.
async fn rendered(error: converra_server::error::ApiError) -> (u16, Value) {
    let response = error.into_response();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn the_sixth_agent_of_a_free_account_exceeds_its_limit() {
    let server = TestServer::start().await;
    let acme = account(&server, "Acme", PlanId::Free).await;
    for i in 0..4 {
        insert_agent(&server, &acme.id, &format!("a{i}"), "active").await;
    }
    // Archived agents free their place.
    insert_agent(&server, &acme.id, "old", "archived").await;
    let mut tx = server.store.begin_write().await.unwrap();
    assert!(ensure_agent_quota(&mut tx, &acme).await.is_ok());
    drop(tx);

    insert_agent(&server, &acme.id, "a4", "draft").await;
    let mut tx = server.store.begin_write().await.unwrap();
    let error = ensure_agent_quota(&mut tx, &acme).await.unwrap_err();
    drop(tx);
    assert_eq!(
        rendered(error).await,
        (
            403,
            json!({"error": {"code": "LIMIT_EXCEEDED",
                "message": "The Free plan allows 5 agents; archive one or upgrade"}})
        )
    );

    // Another account's agents are not counted.
    let other = account(&server, "Other", PlanId::Free).await;
    let mut tx = server.store.begin_write().await.unwrap();
    assert!(ensure_agent_quota(&mut tx, &other).await.is_ok());
}

#[tokio::test]
async fn conversations_past_the_monthly_limit_are_refused_until_the_next_month() {
    let server = TestServer::start().await;
    let acme = account(&server, "Acme", PlanId::Free).await;
    let mut tx = server.store.begin_write().await.unwrap();
    // Last month's conversations do not count against this month.
    let october = START_MS - 40 * DAY_MS;
    let last_month = UsageDelta {
        conversations: 800,
        ..Default::default()
    };
    add_usage(&mut tx, &acme.id, october, last_month)
        .await
        .unwrap();
    let this_month = UsageDelta {
        conversations: 499,
        tokens: 10_000,
        ..Default::default()
    };
    add_usage(&mut tx, &acme.id, START_MS - DAY_MS, this_month)
        .await
        .unwrap();
    assert!(ensure_conversation_quota(&mut tx, &acme, START_MS)
        .await
        .is_ok());
    let one = UsageDelta {
        conversations: 1,
        ..Default::default()
    };
    add_usage(&mut tx, &acme.id, START_MS, one).await.unwrap();
    let error = ensure_conversation_quota(&mut tx, &acme, START_MS)
        .await
        .unwrap_err();
    assert_eq!(
        rendered(error).await,
        (
            403,
            json!({"error": {"code": "LIMIT_EXCEEDED",
                "message": "The Free plan allows 500 conversations a month and this month's are used up; upgrade your plan or wait for the next period, which starts 2026-12-01T00:00:00.000Z"}})
        )
    );
    // December starts three days later with nothing used.
    assert!(
        ensure_conversation_quota(&mut tx, &acme, START_MS + 3 * DAY_MS)
            .await
            .is_ok()
    );
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn optimizations_past_the_monthly_limit_are_refused() {
    let server = TestServer::start().await;
    let pro = account(&server, "Globex", PlanId::Pro).await;
    let mut tx = server.store.begin_write().await.unwrap();
    let started = UsageDelta {
        optimizations: 49,
        ..Default::default()
    };
    add_usage(&mut tx, &pro.id, START_MS, started)
        .await
        .unwrap();
    assert!(ensure_optimization_quota(&mut tx, &pro, START_MS)
        .await
        .is_ok());
    let one = UsageDelta {
        optimizations: 1,
        ..Default::default()
    };
    add_usage(&mut tx, &pro.id, START_MS, one).await.unwrap();
    let error = ensure_optimization_quota(&mut tx, &pro, START_MS)
        .await
        .unwrap_err();
    let (status, body) = rendered(error).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "LIMIT_EXCEEDED");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("The Pro plan allows 50 optimizations a month"));
}

#[tokio::test]
async fn a_request_past_the_server_deadline_is_abandoned_with_503_and_retry_after() {
    // A zero deadline: any request that waits on the database at all runs past it.
    let server = TestServer::start_with(converra_server::state::ServerConfig {
        request_timeout: std::time::Duration::ZERO,
        ..Default::default()
    })
    .await;
    let key = server.key("Acme", PlanId::Pro).await;
    let response = server
        .request(Method::GET, "/agents", Some(&key))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "5");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "REQUEST_TIMEOUT", "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("did not finish"));
}
