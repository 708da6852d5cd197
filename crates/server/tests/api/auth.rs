//! Bearer keys over real HTTP: the exact status and body of each case.

use crate::common::{send, TestServer};
use converra_api::PlanId;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn no_key_is_unauthorized_with_the_spec_body() {
    let server = TestServer::start().await;
    let response = server
        .request(Method::GET, "/account", None)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers().get("x-request-id").is_some());
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"error": {"code": "UNAUTHORIZED", "message": "Authorization header required"}})
    );
}

#[tokio::test]
async fn unknown_key_is_an_invalid_api_key() {
    let server = TestServer::start().await;
    let (status, body) = send(server.request(Method::GET, "/account", Some("sk_live_wrong"))).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"error": {"code": "INVALID_API_KEY", "message": "The provided API key is invalid"}})
    );
}

#[tokio::test]
async fn a_scheme_other_than_bearer_is_unauthorized() {
    let server = TestServer::start().await;
    let request = server
        .request(Method::GET, "/account", None)
        .header("Authorization", "Basic dXNlcjpwYXNz");
    let (status, body) = send(request).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "UNAUTHORIZED");
}

#[tokio::test]
async fn good_key_gets_its_account_and_plan() {
    let server = TestServer::start().await;
    let key = server.key("Globex", PlanId::Pro).await;
    let (status, body) = server.get("/account", &key).await;
    assert_eq!(status, 200);
    let account = &body["data"];
    assert_eq!(account["name"], "Globex");
    assert!(account["id"].as_str().unwrap().starts_with("acct_"));
    assert_eq!(account["createdAt"], "2026-11-28T00:00:00.000Z");
    assert_eq!(
        account["plan"],
        json!({"id": "pro", "name": "Pro", "limits": {
            "agents": 100, "prompts": 100, "optimizationsPerMonth": 50,
            "conversationsPerMonth": 10000, "requestsPerMinute": 300, "concurrentOptimizations": 10,
            "tokensPerMonth": null
        }})
    );
}

#[tokio::test]
async fn a_revoked_key_is_unauthorized() {
    let server = TestServer::start().await;
    let key = server.key("Initech", PlanId::Free).await;
    assert!(server
        .store
        .revoke_key(&key, crate::common::START_MS)
        .await
        .unwrap());
    let (status, body) = server.get("/account", &key).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "UNAUTHORIZED");
}

#[tokio::test]
async fn a_key_past_its_expiry_is_unauthorized_and_says_when_it_expired() {
    let server = TestServer::start().await;
    let hour = 3_600_000;
    let issued = server
        .store
        .issue_key_until(
            "Initech",
            PlanId::Free,
            crate::common::START_MS,
            Some(crate::common::START_MS + hour),
        )
        .await
        .unwrap();
    let (status, body) = server.get("/account", &issued.key).await;
    assert_eq!(status, 200, "{body}");
    server.clock.advance_ms(hour);
    let (status, body) = server.get("/account", &issued.key).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "UNAUTHORIZED");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired at"),
        "{body}"
    );
}

#[tokio::test]
async fn keys_are_stored_only_as_a_hash() {
    let server = TestServer::start().await;
    let key = server.key("Hooli", PlanId::Free).await;
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT key_hash, key_prefix FROM api_keys")
        .fetch_all(server.store.pool())
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_ne!(rows[0].0, key);
    assert!(!rows[0].0.contains(&key[8..]));
    assert!(key.starts_with(&rows[0].1));
}

#[tokio::test]
async fn unknown_endpoints_and_methods_answer_in_the_error_body() {
    let server = TestServer::start().await;
    let key = server.key("Umbrella", PlanId::Free).await;
    let (status, body) = server.get("/nothing-here", &key).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("NOT_FOUND"))
    );
    let (status, body) = server.delete("/account", &key).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (405, Some("METHOD_NOT_ALLOWED"))
    );
}

#[tokio::test]
async fn openapi_is_served_without_a_key() {
    let server = TestServer::start().await;
    let (status, body) = send(server.request(Method::GET, "/openapi.json", None)).await;
    assert_eq!(status, 200);
    assert_eq!(body["openapi"], "3.1.0");
    assert!(body["paths"]["/account"]["get"].is_object());
}

#[tokio::test]
async fn cors_preflight_allows_any_origin() {
    let server = TestServer::start().await;
    let response = server
        .request(Method::OPTIONS, "/account", None)
        .header("Origin", "https://example.test")
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "authorization")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
}

#[tokio::test]
async fn an_address_that_keeps_sending_bad_keys_is_slowed_but_good_keys_still_work() {
    use converra_server::limits::bad_keys::BAD_KEYS_PER_MINUTE;
    let server = TestServer::start().await;
    let good = server.key("Initech", PlanId::Free).await;
    for _ in 0..BAD_KEYS_PER_MINUTE {
        let (status, body) = server.get("/account", "ck_live_not_a_key").await;
        assert_eq!(status, 401, "{body}");
    }
    let response = server
        .request(Method::GET, "/account", Some("ck_live_not_a_key"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "RATE_LIMITED", "{body}");
    let (status, body) = server.get("/account", &good).await;
    assert_eq!(status, 200, "{body}");
    // The next minute, a bad key is a plain 401 again.
    server.clock.advance_ms(60_000);
    let (status, _) = server.get("/account", "ck_live_not_a_key").await;
    assert_eq!(status, 401);
}
