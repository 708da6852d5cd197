//! The demo data: rich enough for every page, and the same content for the same seed.

use crate::common::TestServer;

#[tokio::test]
async fn demo_seeds_agents_versions_conversations_settings_and_webhooks() {
    let server = TestServer::start().await;
    let key = converra_server::demo::seed(&server.store, crate::common::START_MS)
        .await
        .unwrap();

    let (status, agents) = server.get("/agents?limit=100", &key).await;
    assert_eq!(status, 200);
    let agents = agents["data"].as_array().unwrap();
    assert!(agents.len() >= 5);
    assert!(
        agents
            .iter()
            .filter(|a| a["version"].as_u64().unwrap() >= 2)
            .count()
            >= 5
    );

    let (_, conversations) = server.get("/conversations?limit=1", &key).await;
    assert!(conversations["pagination"]["total"].as_u64().unwrap() >= 2_000);
    // Every conversation has insights; two optimizations and a benchmark have finished.
    let (_, pending) = server
        .get("/conversations?hasInsights=false&limit=1", &key)
        .await;
    assert_eq!(pending["pagination"]["total"], 0);
    let (_, with_issues) = server
        .get("/conversations?hasIssues=true&limit=1", &key)
        .await;
    assert!(with_issues["pagination"]["total"].as_u64().unwrap() > 100);
    let (_, optimizations) = server.get("/optimizations?status=completed", &key).await;
    assert_eq!(optimizations["data"].as_array().unwrap().len(), 2);
    let (_, benchmarks) = server.get("/benchmarks?status=completed", &key).await;
    assert_eq!(benchmarks["data"].as_array().unwrap().len(), 1);
    // Newest first lists the demo agents in a fixed order, busiest first.
    assert_eq!(agents[0]["name"], "Acme Support");
    assert_eq!(
        agents[agents.len() - 1]["name"],
        "Ledgerly Onboarding Guide"
    );
    let agent_id = agents[0]["id"].as_str().unwrap();
    let (_, insights) = server
        .get(&format!("/agents/{agent_id}/insights"), &key)
        .await;
    assert!(!insights["data"]["issues"].as_array().unwrap().is_empty());
    assert_eq!(
        insights["data"]["fleetIntelligence"]["totalAgents"],
        agents.len()
    );
    let (_, failed) = server
        .get("/conversations?hasFailedSteps=true&limit=1", &key)
        .await;
    assert!(failed["pagination"]["total"].as_u64().unwrap() > 50);
    let (_, abandoned) = server
        .get("/conversations?status=abandoned&limit=1", &key)
        .await;
    assert!(abandoned["pagination"]["total"].as_u64().unwrap() > 20);
    let fifty_five_days_ago =
        converra_server::clock::rfc3339(crate::common::START_MS - 55 * 24 * 3_600_000);
    let (_, old) = server
        .get(
            &format!("/conversations?to={fifty_five_days_ago}&limit=1"),
            &key,
        )
        .await;
    assert!(
        old["pagination"]["total"].as_u64().unwrap() > 0,
        "history reaches back most of the 60 days"
    );

    let (_, usage) = server.get("/usage", &key).await;
    assert!(usage["data"]["byDay"].as_array().unwrap().len() >= 27);
    let (_, webhooks) = server.get("/webhooks", &key).await;
    assert_eq!(webhooks["data"].as_array().unwrap().len(), 2);
    let (_, settings) = server.get("/settings", &key).await;
    assert_eq!(
        settings["data"]["businessImpact"]["valuePerConversation"],
        12.5
    );

    // Seeding again adds a key, not a second copy of the data.
    let again = converra_server::demo::seed(&server.store, crate::common::START_MS)
        .await
        .unwrap();
    let (_, conversations_again) = server.get("/conversations?limit=1", &again).await;
    assert_eq!(
        conversations_again["pagination"]["total"],
        conversations["pagination"]["total"]
    );
}

#[tokio::test]
async fn the_same_seed_gives_the_same_transcripts() {
    let first = TestServer::start().await;
    let second = TestServer::start().await;
    let a = converra_server::demo::seed(&first.store, crate::common::START_MS)
        .await
        .unwrap();
    let b = converra_server::demo::seed(&second.store, crate::common::START_MS)
        .await
        .unwrap();
    let (_, one) = first
        .get("/conversations?limit=20&sort=createdAt", &a)
        .await;
    let (_, two) = second
        .get("/conversations?limit=20&sort=createdAt", &b)
        .await;
    let shape = |list: &serde_json::Value| -> Vec<(String, String, u64)> {
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["title"].as_str().unwrap().to_owned(),
                    c["createdAt"].as_str().unwrap().to_owned(),
                    c["totalTokens"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(shape(&one), shape(&two));
}
