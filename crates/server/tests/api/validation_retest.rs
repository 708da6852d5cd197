//! Validation mode: a winner named by the test meets the control again on fresh seeds before
//! the run says so, and both results are on the wire.

use crate::common::TestServer;
use crate::optimizations::{finished, start};
use converra_api::PlanId;
use serde_json::json;

#[tokio::test]
async fn validation_mode_retests_the_winner_on_fresh_seeds_before_naming_it() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let (status, body) = server
        .post(
            "/agents",
            &key,
            json!({"name": "Support", "content": "You help customers with orders."}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let agent_id = body["data"]["id"].as_str().unwrap();
    let created = start(
        &server,
        &key,
        json!({"agentId": agent_id, "variantCount": 2, "mode": "validation", "seed": 11}),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let conversations = created["simulation"]["conversationsPerVariant"]
        .as_u64()
        .unwrap();
    let done = finished(&server, &key, id).await;
    assert_eq!(done["status"], "completed", "{done}");
    let results = &done["results"];
    // The scripted engine's variants carry the remedies it rewards: the test names one.
    let retest = &results["retest"];
    assert!(retest.is_object(), "no retest: {results}");
    // The same persona × scenario cells as the test, each under fresh seeds.
    assert_eq!(retest["cells"], results["cells"], "{retest}");
    assert_eq!(
        retest["confirmed"], results["winnerSelected"],
        "the winner stands exactly when the retest confirms it: {results}"
    );
    if results["winnerSelected"] == true {
        assert_eq!(retest["variantId"], results["winningVariantId"]);
        assert!(
            retest["pValue"].as_f64().unwrap() < 1.0 - results["confidenceLevel"].as_f64().unwrap()
        );
    } else {
        assert!(
            results["reason"].as_str().unwrap().contains("retest"),
            "{results}"
        );
    }
    // The control and the winner were played again on every conversation of the plan.
    let arms = 3;
    assert_eq!(
        done["progress"]["simulationsCompleted"],
        conversations * arms + 2 * conversations,
        "{done}"
    );
}
