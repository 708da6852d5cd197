//! Agents over real HTTP.

use crate::common::TestServer;
use converra_api::PlanId;
use serde_json::json;

const PROMPT: &str = "You are Acme's support agent.\n\nBe brief.";

#[tokio::test]
async fn create_get_and_list_an_agent() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let (status, body) = server
        .post(
            "/agents",
            &key,
            json!({"name": "Support Bot", "content": PROMPT, "tags": ["support"]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let agent = &body["data"];
    let id = agent["id"].as_str().unwrap();
    assert!(id.starts_with("agent_"));
    assert_eq!(agent["version"], 1);
    assert_eq!(agent["status"], "active");
    assert_eq!(agent["isActive"], true);
    assert_eq!(agent["llmModel"], "gpt-4o-mini");
    assert_eq!(agent["conversationCount"], 0);
    // printf "You are Acme's support agent. Be brief." | sha256sum
    assert_eq!(
        agent["contentHash"],
        "22bc1499d3f6bd45a7544a72dea45fc4e3ffef7f1a0b6e50c8c3000aca70546f"
    );

    let (status, body) = server.get(&format!("/agents/{id}"), &key).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["name"], "Support Bot");

    let (status, body) = server.get("/agents?tag=support", &key).await;
    assert_eq!(status, 200);
    assert_eq!(body["pagination"]["total"], 1);
    assert_eq!(body["data"][0]["id"], id);
    let (_, body) = server.get("/agents?tag=sales", &key).await;
    assert_eq!(body["pagination"]["total"], 0);
    let (_, body) = server.get("/agents?search=ACME", &key).await;
    assert_eq!(body["pagination"]["total"], 1);
    let (_, body) = server.get("/agents?status=draft", &key).await;
    assert_eq!(body["pagination"]["total"], 0);
}

#[tokio::test]
async fn a_temperature_set_after_agents_without_one_is_stored_exactly() {
    // On PostgreSQL each pooled connection caches a statement with the types of its first
    // arguments: writes without a temperature, then with one, over the same connections.
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    for i in 0..16 {
        let (status, body) = server
            .post(
                "/agents",
                &key,
                json!({"name": format!("Plain {i}"), "content": PROMPT}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let id = body["data"]["id"].as_str().unwrap().to_owned();
        let (status, body) = server
            .patch(
                &format!("/agents/{id}"),
                &key,
                json!({"description": "Plain"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = server
            .patch(
                &format!("/agents/{id}"),
                &key,
                json!({"temperature": 0.7, "topP": 0.95}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["temperature"], 0.7, "{body}");
        assert_eq!(body["data"]["topP"], 0.95, "{body}");
        let (status, body) = server
            .post(
                "/agents",
                &key,
                json!({"name": format!("Tuned {i}"), "content": PROMPT, "temperature": 0.4}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["data"]["temperature"], 0.4, "{body}");
    }
}

#[tokio::test]
async fn last_activity_is_the_newest_conversation_not_an_edit() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let (_, body) = server
        .post(
            "/agents",
            &key,
            json!({"name": "Support", "content": PROMPT}),
        )
        .await;
    let id = body["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(body["data"]["lastActivityAt"], serde_json::Value::Null);

    let (status, body) = server
        .patch(
            &format!("/agents/{id}"),
            &key,
            json!({"content": "You are terse."}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["lastActivityAt"], serde_json::Value::Null);

    let (status, body) = server
        .post(
            "/conversations",
            &key,
            json!({"agentId": id, "messages": [{"role": "user", "content": "Hi"}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let logged_at = body["data"]["createdAt"].as_str().unwrap().to_owned();
    let (_, body) = server.get(&format!("/agents/{id}"), &key).await;
    assert_eq!(body["data"]["lastActivityAt"], logged_at.as_str());
    let (_, body) = server.get("/agents", &key).await;
    assert_eq!(body["data"][0]["lastActivityAt"], logged_at.as_str());
}

#[tokio::test]
async fn content_hash_is_the_sdks_normalized_sha256() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let (_, body) = server
        .post(
            "/agents",
            &key,
            json!({"name": "A", "content": "  Hello \n\n world  "}),
        )
        .await;
    // printf 'Hello world' | sha256sum
    assert_eq!(
        body["data"]["contentHash"],
        "64ec88ca00b268e5ba1a35678a1b5316d212f4f366b2477232534a8aeca37f3c"
    );
}

#[tokio::test]
async fn a_new_prompt_or_model_makes_a_version_other_fields_do_not() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let (_, body) = server
        .post("/agents", &key, json!({"name": "A", "content": "v1"}))
        .await;
    let id = body["data"]["id"].as_str().unwrap().to_owned();
    let path = format!("/agents/{id}");

    let (status, body) = server
        .patch(&path, &key, json!({"description": "now described"}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["version"], 1);
    assert_eq!(body["data"]["description"], "now described");

    let (_, body) = server.patch(&path, &key, json!({"content": "v2"})).await;
    assert_eq!(body["data"]["version"], 2);
    let (_, body) = server
        .patch(&path, &key, json!({"llmModel": "gpt-4.1"}))
        .await;
    assert_eq!(body["data"]["version"], 3);
    assert_eq!(body["data"]["content"], "v2");
    assert_eq!(body["data"]["description"], "now described");

    let (status, body) = server.get(&format!("{path}/versions"), &key).await;
    assert_eq!(status, 200);
    let versions = body["data"].as_array().unwrap();
    let numbers: Vec<_> = versions
        .iter()
        .map(|v| v["version"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [3, 2, 1]);
    assert_eq!(versions[0]["source"], "manual");
    assert_eq!(versions[2]["content"], "v1");
    assert_eq!(body["pagination"]["total"], 3);
    assert_eq!(body["pagination"]["limit"], 100);

    // A page at a time: the cursor continues where the page ended.
    let (status, first) = server.get(&format!("{path}/versions?limit=2"), &key).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["data"].as_array().unwrap().len(), 2);
    assert_eq!(first["pagination"]["hasMore"], true);
    let cursor = first["pagination"]["nextCursor"].as_str().unwrap();
    let (_, rest) = server
        .get(&format!("{path}/versions?limit=2&cursor={cursor}"), &key)
        .await;
    assert_eq!(rest["data"][0]["version"], 1, "{rest}");
    assert_eq!(rest["pagination"]["hasMore"], false);
    let (status, body) = server.get(&format!("{path}/versions?limit=0"), &key).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "VALIDATION_ERROR");
}

#[tokio::test]
async fn invalid_fields_are_all_named() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let (status, body) = server
        .post(
            "/agents",
            &key,
            json!({"name": "  ", "content": "x", "temperature": 3.5, "reasoningEffort": "max"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "VALIDATION_ERROR");
    let fields: Vec<_> = body["error"]["details"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["name", "temperature", "reasoningEffort"]);

    let (status, body) = server.post("/agents", &key, json!({"name": "A"})).await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("content"),
        "{body}"
    );
    let (status, body) = server
        .post(
            "/agents",
            &key,
            json!({"name": "A", "content": "x", "colour": 1}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("VALIDATION_ERROR"))
    );
    let (status, body) = server
        .post(
            "/agents",
            &key,
            json!({"name": "A", "content": "x", "status": "sleeping"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("VALIDATION_ERROR"))
    );
}

#[tokio::test]
async fn duplicate_names_conflict() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    server
        .post("/agents", &key, json!({"name": "A", "content": "x"}))
        .await;
    let (status, body) = server
        .post("/agents", &key, json!({"name": "A", "content": "y"}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("CONFLICT"))
    );
}

#[tokio::test]
async fn another_accounts_agent_answers_404_like_a_missing_one() {
    let server = TestServer::start().await;
    let ours = server.key("Acme", PlanId::Pro).await;
    let theirs = server.key("Globex", PlanId::Pro).await;
    let (_, body) = server
        .post(
            "/agents",
            &theirs,
            json!({"name": "Secret", "content": "x"}),
        )
        .await;
    let their_id = body["data"]["id"].as_str().unwrap();

    let (status, foreign) = server.get(&format!("/agents/{their_id}"), &ours).await;
    let (status_missing, missing) = server.get("/agents/agent_doesnotexist", &ours).await;
    assert_eq!((status, status_missing), (404, 404));
    assert_eq!(foreign["error"]["code"], missing["error"]["code"]);
    let (status, _) = server
        .patch(
            &format!("/agents/{their_id}"),
            &ours,
            json!({"name": "Mine"}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = server
        .get(&format!("/agents/{their_id}/versions"), &ours)
        .await;
    assert_eq!(status, 404);
    let (_, list) = server.get("/agents", &ours).await;
    assert_eq!(list["pagination"]["total"], 0);
}

#[tokio::test]
async fn the_free_plan_stops_at_five_agents() {
    let server = TestServer::start().await;
    let key = server.key("Tiny", PlanId::Free).await;
    for i in 0..5 {
        let (status, _) = server
            .post(
                "/agents",
                &key,
                json!({"name": format!("A{i}"), "content": "x"}),
            )
            .await;
        assert_eq!(status, 201);
    }
    let (status, body) = server
        .post("/agents", &key, json!({"name": "A5", "content": "x"}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("LIMIT_EXCEEDED"))
    );
}

#[tokio::test]
async fn unarchiving_an_agent_checks_the_quota_like_a_create() {
    let server = TestServer::start().await;
    let key = server.key("Tiny", PlanId::Free).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let (status, body) = server
            .post(
                "/agents",
                &key,
                json!({"name": format!("A{i}"), "content": "x"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["data"]["id"].as_str().unwrap().to_owned());
    }
    let archived = format!("/agents/{}", ids[0]);
    let (status, _) = server
        .patch(&archived, &key, json!({"status": "archived"}))
        .await;
    assert_eq!(status, 200);
    let (status, _) = server
        .post("/agents", &key, json!({"name": "A5", "content": "x"}))
        .await;
    assert_eq!(status, 201);

    let (status, body) = server
        .patch(&archived, &key, json!({"status": "active"}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("LIMIT_EXCEEDED"))
    );
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("allows 5 agents"), "{message}");
    let (_, body) = server.get(&archived, &key).await;
    assert_eq!(body["data"]["status"], "archived");

    // Other changes to an archived agent, and archiving again, need no place.
    let (status, _) = server
        .patch(&archived, &key, json!({"description": "old"}))
        .await;
    assert_eq!(status, 200);
    let (status, _) = server
        .patch(
            &format!("/agents/{}", ids[1]),
            &key,
            json!({"status": "archived"}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = server
        .patch(&archived, &key, json!({"status": "draft"}))
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn agents_page_by_cursor_without_repeats() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    for i in 0..7 {
        server.clock.advance_ms(1);
        server
            .post(
                "/agents",
                &key,
                json!({"name": format!("A{i}"), "content": "x"}),
            )
            .await;
    }
    let mut seen = Vec::new();
    let mut path = "/agents?limit=3".to_owned();
    loop {
        let (status, body) = server.get(&path, &key).await;
        assert_eq!(status, 200);
        seen.extend(
            body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["name"].as_str().unwrap().to_owned()),
        );
        match body["pagination"]["nextCursor"].as_str() {
            Some(cursor) => path = format!("/agents?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ["A6", "A5", "A4", "A3", "A2", "A1", "A0"]);
    let (status, _) = server.get("/agents?limit=0", &key).await;
    assert_eq!(status, 400);
}

/// PostgreSQL cannot store U+0000 in text, and no field means anything by it: it is a 400
/// on both backends, in a body, a path or a query, never a 500.
#[tokio::test]
async fn a_nul_character_is_refused_wherever_it_is_sent() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let (status, body) = server
        .post(
            "/agents",
            &key,
            json!({"name": "Support", "content": "Be kind.", "constraints": "a\u{0}b"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "VALIDATION_ERROR");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("U+0000"),
        "{body}"
    );
    for path in ["/agents/agent%00", "/agents?tag=a%00"] {
        let (status, body) = server.get(path, &key).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["error"]["code"], "VALIDATION_ERROR", "{path}");
    }
    let (status, body) = server.get("/agents", &key).await;
    assert_eq!(
        (status, body["data"].as_array().map(Vec::len)),
        (200, Some(0))
    );
}
