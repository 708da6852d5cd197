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
