//! Conversations and runs over real HTTP.

use crate::common::{send, TestServer};
use converra_api::PlanId;
use reqwest::Method;
use serde_json::{json, Value};

fn turns() -> Value {
    json!([
        {"role": "system", "content": "You are a support bot."},
        {"role": "user", "content": "My parcel never arrived"},
        {"role": "assistant", "content": "Let me check the tracking.",
         "toolCalls": [{"name": "lookup_order", "arguments": {"orderId": "A1"}, "error": "timeout"}],
         "usage": {"promptTokens": 120, "completionTokens": 30}, "latencyMs": 840.5}
    ])
}

/// Sends `request` as written and reads the whole answer.
async fn raw_http(server: &TestServer, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = server
        .base
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    String::from_utf8_lossy(&response).into_owned()
}

async fn agent(server: &TestServer, key: &str, name: &str) -> String {
    let (status, body) = server
        .post(
            "/agents",
            key,
            json!({"name": name, "content": "Be helpful."}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["data"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn log_a_conversation_by_agent_id_and_read_it_back() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let agent_id = agent(&server, &key, "Support").await;
    let (status, body) = server
        .post(
            "/conversations",
            &key,
            json!({"agentId": agent_id, "messages": turns(), "title": "Lost parcel",
            "sessionId": "s-1", "metadata": {"channel": "web"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let conv = &body["data"];
    let id = conv["id"].as_str().unwrap();
    assert!(id.starts_with("conv_"));
    assert_eq!(conv["agentId"], agent_id.as_str());
    assert_eq!(conv["agentName"], "Support");
    assert_eq!(conv["status"], "completed");
    assert_eq!(conv["messageCount"], 3);
    assert_eq!(conv["totalTokens"], 150);
    assert_eq!(conv["hasFailedSteps"], true);
    assert_eq!(conv["insightsStatus"], "pending");
    assert_eq!(conv["hasInsights"], false);
    assert_eq!(
        conv["content"],
        "User: My parcel never arrived\nAssistant: Let me check the tracking."
    );
    assert_eq!(
        conv["_links"]["appendMessages"],
        format!("/api/v1/conversations/{id}/messages")
    );
    assert_eq!(conv["messages"][2]["toolCalls"][0]["error"], "timeout");

    let (status, body) = server.get(&format!("/conversations/{id}"), &key).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["metadata"]["channel"], "web");
    assert_eq!(body["data"]["messages"][2]["latencyMs"], 840.5);
    let (status, body) = server.get(&format!("/runs/{id}"), &key).await;
    assert_eq!((status, body["data"]["id"].as_str()), (200, Some(id)));

    let (_, agent) = server.get(&format!("/agents/{agent_id}"), &key).await;
    assert_eq!(agent["data"]["conversationCount"], 1);
}

#[tokio::test]
async fn content_is_parsed_into_messages_and_an_unknown_agent_name_creates_the_agent() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let (status, body) = server
        .post(
            "/conversations",
            &key,
            json!({"agentName": "Sales Bot", "content": "Customer: price?\nAgent: $10"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["messages"][0]["role"], "user");
    assert_eq!(body["data"]["messages"][1]["content"], "$10");
    let (_, agents) = server.get("/agents", &key).await;
    assert_eq!(agents["pagination"]["total"], 1);
    assert_eq!(agents["data"][0]["name"], "Sales Bot");
    let (_, versions) = server
        .get(
            &format!(
                "/agents/{}/versions",
                agents["data"][0]["id"].as_str().unwrap()
            ),
            &key,
        )
        .await;
    assert_eq!(versions["data"][0]["source"], "sdk");

    // The same name again reuses the agent.
    server
        .post(
            "/conversations",
            &key,
            json!({"agentName": "Sales Bot", "content": "User: hi\nAI: hello"}),
        )
        .await;
    let (_, agents) = server.get("/agents", &key).await;
    assert_eq!(agents["pagination"]["total"], 1);
    assert_eq!(agents["data"][0]["conversationCount"], 2);
}

#[tokio::test]
async fn bad_conversations_are_refused_with_named_fields() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let (status, body) = server
        .post("/conversations", &key, json!({"content": "User: hi"}))
        .await;
    assert_eq!(
        (
            status,
            body["error"]["details"]["fields"][0]["field"].as_str()
        ),
        (400, Some("agentId"))
    );
    let (status, body) = server
        .post("/conversations", &key, json!({"agentName": "A"}))
        .await;
    assert_eq!(
        (
            status,
            body["error"]["details"]["fields"][0]["field"].as_str()
        ),
        (400, Some("messages"))
    );
    let (status, body) = server
        .post(
            "/conversations",
            &key,
            json!({"agentName": "A", "content": "no labels here"}),
        )
        .await;
    assert_eq!(
        (
            status,
            body["error"]["details"]["fields"][0]["field"].as_str()
        ),
        (400, Some("content"))
    );
    let (status, body) = server
        .post(
            "/conversations",
            &key,
            json!({"agentName": "A", "messages": [{"role": "wizard", "content": "x"}]}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("messages[0].role"),
        "{body}"
    );
    let (status, _) = server
        .post(
            "/conversations",
            &key,
            json!({"agentId": "agent_nope", "content": "User: hi"}),
        )
        .await;
    assert_eq!(status, 404);

    // Not JSON, the wrong content type, and a body over the limit.
    let raw = |body: &'static str, ctype: &'static str| {
        server
            .request(Method::POST, "/conversations", Some(&key))
            .header("content-type", ctype)
            .body(body)
    };
    let (status, body) = send(raw("{nope", "application/json")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("INVALID_JSON"))
    );
    let (status, body) = send(raw("agentName=A", "application/x-www-form-urlencoded")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (415, Some("UNSUPPORTED_MEDIA_TYPE"))
    );
    // Over the 1 MiB limit: the server answers from the headers, without reading the body.
    let response = raw_http(
        &server,
        &format!(
            "POST /api/v1/conversations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: 2000000\r\nConnection: close\r\n\r\n{{"
        ),
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(response.contains("PAYLOAD_TOO_LARGE"), "{response}");
}

#[tokio::test]
async fn append_until_completed_then_conflict() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let (_, body) = server
        .post("/runs", &key, json!({"agentName": "Chat", "messages": [{"role": "user", "content": "Hi"}], "status": "active"}))
        .await;
    let id = body["data"]["id"].as_str().unwrap().to_owned();
    let append = format!("/runs/{id}/messages");
    let (status, body) = server
        .post(
            &append,
            &key,
            json!({"messages": [{"role": "assistant", "content": "Hello! How can I help?",
            "usage": {"promptTokens": 10, "completionTokens": 5}}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["messageCount"], 2);
    assert_eq!(body["data"]["status"], "active");
    let (_, body) = server
        .post(
            &append,
            &key,
            json!({"messages": [{"role": "user", "content": "Thanks"}], "status": "completed",
            "metadata": {"resolved": true}}),
        )
        .await;
    assert_eq!(body["data"]["status"], "completed");
    assert_eq!(body["data"]["metadata"]["resolved"], true);
    assert_eq!(body["data"]["totalTokens"], 15);
    let (status, body) = server
        .post(
            &append,
            &key,
            json!({"messages": [{"role": "user", "content": "One more"}]}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("CONFLICT"))
    );
    let (status, _) = server.post(&append, &key, json!({"messages": []})).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_conversation_past_5000_messages_or_5_mib_is_payload_too_large() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    // The worker would read every large transcript; these tests are about the write alone.
    let (status, _) = server
        .patch(
            "/settings",
            &key,
            json!({"insights": {"autoGenerate": false}}),
        )
        .await;
    assert_eq!(status, 200);
    let short = |n: usize| json!(vec![json!({"role": "user", "content": "Hi"}); n]);

    let (status, body) = server
        .post(
            "/runs",
            &key,
            json!({"agentName": "Chat", "messages": short(5_001)}),
        )
        .await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "PAYLOAD_TOO_LARGE");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("at most 5000 messages"), "{message}");

    let (status, body) = server
        .post(
            "/runs",
            &key,
            json!({"agentName": "Chat", "messages": short(4_999), "status": "active"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let append = format!("/runs/{}/messages", body["data"]["id"].as_str().unwrap());
    let (status, body) = server
        .post(&append, &key, json!({"messages": short(2)}))
        .await;
    assert_eq!(status, 413, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("5000"));
    let (status, body) = server
        .post(&append, &key, json!({"messages": short(1)}))
        .await;
    assert_eq!(
        (status, &body["data"]["messageCount"]),
        (200, &json!(5_000))
    );

    // 800,000 bytes an append (four messages at the per-message limit, under the body
    // limit): the seventh would pass 5 MiB.
    let (_, body) = server
        .post(
            "/runs",
            &key,
            json!({"agentName": "Chat", "messages": short(1), "status": "active"}),
        )
        .await;
    let append = format!("/runs/{}/messages", body["data"]["id"].as_str().unwrap());
    let big = json!(vec![
        json!({"role": "user", "content": "x".repeat(200_000)});
        4
    ]);
    for _ in 0..6 {
        let (status, body) = server.post(&append, &key, json!({"messages": big})).await;
        assert_eq!(status, 200, "{}", body["error"]);
    }
    let (status, body) = server.post(&append, &key, json!({"messages": big})).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "PAYLOAD_TOO_LARGE");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("5 MiB"), "{message}");
    let (_, body) = server.get(&append.replace("/messages", ""), &key).await;
    assert_eq!(body["data"]["messageCount"], 25);
}

#[tokio::test]
async fn an_idempotency_key_returns_the_first_conversation_for_a_day() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let body = json!({"agentName": "A", "content": "User: hi", "idempotencyKey": "order-42"});
    let (_, first) = server.post("/conversations", &key, body.clone()).await;
    let (status, again) = server.post("/conversations", &key, body.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(first["data"]["id"], again["data"]["id"]);
    let (_, list) = server.get("/conversations", &key).await;
    assert_eq!(list["pagination"]["total"], 1);

    server.clock.advance_ms(24 * 60 * 60 * 1000 + 1);
    let (_, later) = server.post("/conversations", &key, body).await;
    assert_ne!(first["data"]["id"], later["data"]["id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retries_racing_with_one_idempotency_key_all_get_the_one_conversation() {
    // A client that timed out and retried while its first request still runs: on
    // PostgreSQL the requests run at once, not one after another.
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let (status, _) = server
        .post(
            "/conversations",
            &key,
            json!({"agentName": "A", "content": "User: first"}),
        )
        .await;
    assert_eq!(status, 200);
    let body = json!({"agentName": "A", "content": "User: hi", "idempotencyKey": "retry-7"});
    let racing: Vec<_> = (0..8)
        .map(|_| {
            let request = server
                .http
                .post(format!("{}/conversations", server.base))
                .bearer_auth(&key)
                .json(&body);
            tokio::spawn(send(request))
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    for answer in racing {
        let (status, body) = answer.await.unwrap();
        assert_eq!(status, 200, "{body}");
        ids.insert(body["data"]["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
    let (_, list) = server.get("/conversations", &key).await;
    assert_eq!(list["pagination"]["total"], 2);
}

#[tokio::test]
async fn list_filters_and_full_text_search() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let a = agent(&server, &key, "A").await;
    let b = agent(&server, &key, "B").await;
    let (server, key) = (&server, key.as_str());
    let log = |agent: String, text: &'static str, status: &'static str, session: &'static str| {
        let body =
            json!({"agentId": agent, "content": text, "status": status, "sessionId": session});
        async move { server.post("/conversations", key, body).await }
    };
    log(
        a.clone(),
        "User: where is my refund?\nAssistant: It is on its way.",
        "completed",
        "s1",
    )
    .await;
    server.clock.advance_ms(60_000);
    log(
        a.clone(),
        "User: cancel my subscription\nAssistant: Done.",
        "active",
        "s2",
    )
    .await;
    server.clock.advance_ms(60_000);
    log(
        b.clone(),
        "User: refunds take how long?\nAssistant: Five days.",
        "completed",
        "s1",
    )
    .await;

    let total = |path: String| async move {
        let (status, body) = server.get(&path, key).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert!(
            body["data"][0].get("messages").is_none(),
            "lists leave transcripts out"
        );
        body["pagination"]["total"].as_u64().unwrap()
    };
    assert_eq!(total("/conversations".into()).await, 3);
    assert_eq!(total(format!("/conversations?agentId={a}")).await, 2);
    assert_eq!(total(format!("/conversations?promptId={b}")).await, 1);
    assert_eq!(total("/conversations?status=active".into()).await, 1);
    assert_eq!(total("/conversations?sessionId=s1".into()).await, 2);
    assert_eq!(
        total("/conversations?q=refund".into()).await,
        2,
        "prefix match finds refund and refunds"
    );
    assert_eq!(
        total("/conversations?q=subscription%20cancel".into()).await,
        1
    );
    assert_eq!(total("/conversations?q=%22%3B%20DROP".into()).await, 0);
    assert_eq!(
        total("/conversations?q=ref".into()).await,
        2,
        "a 3-letter prefix"
    );
    // A search marks where each result matched; a plain list has no snippets.
    let (_, found) = server
        .get("/conversations?q=refund&sort=createdAt", key)
        .await;
    let snippet = &found["data"][0]["snippet"];
    assert_eq!(
        snippet["text"], "where is my refund? It is on its way.",
        "{found}"
    );
    assert_eq!(snippet["highlights"], json!([{"start": 12, "end": 18}]));
    assert_eq!(
        found["data"][1]["snippet"]["highlights"],
        json!([{"start": 0, "end": 7}]),
        "the prefix marks the whole word: refunds"
    );
    let (_, plain) = server.get("/conversations", key).await;
    assert!(plain["data"][0].get("snippet").is_none(), "{plain}");
    // A lone word under 3 letters would match much of the index: refused, naming `q`.
    let (status, body) = server.get("/conversations?q=re", key).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"]["details"]["fields"][0]["field"], "q",
        "{body}"
    );
    // Insights arrive in the background: every conversation is on one side of the filter.
    assert_eq!(
        total("/conversations?hasInsights=true".into()).await
            + total("/conversations?hasInsights=false".into()).await,
        3
    );
    assert_eq!(
        total("/conversations?from=2026-11-28T00:01:00Z".into()).await,
        2
    );
    assert_eq!(
        total("/conversations?to=2026-11-28T00:01:00Z".into()).await,
        1
    );
    let (status, body) = server.get("/conversations?from=yesterday", key).await;
    assert_eq!(
        (
            status,
            body["error"]["details"]["fields"][0]["field"].as_str()
        ),
        (400, Some("from"))
    );
    let (status, _) = server.get("/conversations?status=sleeping", key).await;
    assert_eq!(status, 400);

    let (_, oldest) = server
        .get("/conversations?sort=createdAt&limit=1", key)
        .await;
    assert!(oldest["data"][0]["agentId"] == a.as_str());
    let (_, newest) = server.get("/conversations?limit=1", key).await;
    assert!(newest["data"][0]["agentId"] == b.as_str());
}

#[tokio::test]
async fn paging_by_cursor_while_rows_arrive_never_repeats_or_skips() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let mut logged = Vec::new();
    for i in 0..25 {
        server.clock.advance_ms(1_000);
        let (_, body) = server
            .post(
                "/conversations",
                &key,
                json!({"agentName": "A", "content": format!("User: q{i}")}),
            )
            .await;
        logged.push(body["data"]["id"].as_str().unwrap().to_owned());
    }
    let mut seen = Vec::new();
    let mut path = "/conversations?limit=10".to_owned();
    loop {
        let (_, body) = server.get(&path, &key).await;
        seen.extend(
            body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_owned()),
        );
        // New conversations arrive between pages.
        for _ in 0..3 {
            server.clock.advance_ms(1_000);
            server
                .post(
                    "/conversations",
                    &key,
                    json!({"agentName": "A", "content": "User: late"}),
                )
                .await;
        }
        match body["pagination"]["nextCursor"].as_str() {
            Some(cursor) => path = format!("/conversations?limit=10&cursor={cursor}"),
            None => break,
        }
    }
    logged.reverse();
    assert_eq!(seen, logged);
}

#[tokio::test]
async fn two_accounts_never_see_each_others_conversations() {
    let server = TestServer::start().await;
    let ours = server.key("Acme", PlanId::Pro).await;
    let theirs = server.key("Globex", PlanId::Pro).await;
    let (_, body) = server
        .post(
            "/conversations",
            &theirs,
            json!({"agentName": "Secret", "content": "User: secret plans"}),
        )
        .await;
    let their_id = body["data"]["id"].as_str().unwrap().to_owned();
    let their_agent = body["data"]["agentId"].as_str().unwrap().to_owned();

    let (status, _) = server
        .get(&format!("/conversations/{their_id}"), &ours)
        .await;
    assert_eq!(status, 404);
    let (status, _) = server
        .post(
            &format!("/conversations/{their_id}/messages"),
            &ours,
            json!({"messages": [{"role": "user", "content": "x"}]}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = server
        .post(
            "/conversations",
            &ours,
            json!({"agentId": their_agent, "content": "User: x"}),
        )
        .await;
    assert_eq!(status, 404);
    let (_, list) = server.get("/conversations?q=secret", &ours).await;
    assert_eq!(list["pagination"]["total"], 0);
    // The same agent name in our account is our own agent.
    let (_, body) = server
        .post(
            "/conversations",
            &ours,
            json!({"agentName": "Secret", "content": "User: ours"}),
        )
        .await;
    assert_ne!(body["data"]["agentId"], their_agent.as_str());
}

#[tokio::test]
async fn the_sdk_config_and_match_know_every_prompt_version() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let (_, body) = server
        .post(
            "/agents",
            &key,
            json!({"name": "Bot", "content": "Old prompt"}),
        )
        .await;
    let id = body["data"]["id"].as_str().unwrap().to_owned();
    let old_hash = body["data"]["contentHash"].as_str().unwrap().to_owned();
    let (_, body) = server
        .patch(
            &format!("/agents/{id}"),
            &key,
            json!({"content": "New prompt"}),
        )
        .await;
    let new_hash = body["data"]["contentHash"].as_str().unwrap().to_owned();

    let (status, config) = server.get("/sdk/config", &key).await;
    assert_eq!(status, 200);
    assert_eq!(config["data"]["agentHashes"][&old_hash], id.as_str());
    assert_eq!(config["data"]["agentHashes"][&new_hash], id.as_str());
    assert_eq!(config["data"]["testingMode"], "simulation");

    let (_, matched) = server
        .post(
            "/sdk/agents/match",
            &key,
            json!({"content": "  Old   prompt\n"}),
        )
        .await;
    assert_eq!(matched["data"]["agentId"], id.as_str());
    assert_eq!(matched["data"]["matched"], true);
    let (_, unknown) = server
        .post(
            "/sdk/agents/match",
            &key,
            json!({"content": "A prompt never seen"}),
        )
        .await;
    assert_eq!(unknown["data"]["matched"], false);
    assert_ne!(unknown["data"]["agentId"], id.as_str());
    let (status, _) = server
        .post("/sdk/agents/match", &key, json!({"content": ""}))
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_search_with_many_matches_pages_and_counts_like_one_with_few() {
    use converra_api::conversations::{ConversationStatus, InsightsStatus};
    use converra_server::store::conversations::{insert_conversation, NewConversation};
    use converra_server::transcript::parse_transcript;

    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Enterprise).await;
    let agent_id = agent(&server, &key, "Bulk").await;
    let (_, account) = server.get("/account", &key).await;
    let account_id = account["data"]["id"].as_str().unwrap().to_owned();
    // More matches than a search starts from, so it walks the list instead.
    let mut tx = server.store.begin_write().await.unwrap();
    for i in 0..2_100_i64 {
        let word = if i % 3 == 0 { "warranty" } else { "delivery" };
        let new = NewConversation {
            agent_id: agent_id.clone(),
            messages: parse_transcript(&format!("User: my {word} claim {i}\nAssistant: ok"))
                .unwrap(),
            status: ConversationStatus::Completed,
            source: converra_api::conversations::ConversationSource::Api,
            llm_model: None,
            company_name: None,
            title: None,
            session_id: None,
            user_id: None,
            trace_id: None,
            parent_trace_id: None,
            metadata: serde_json::Map::new(),
            tool_definitions: None,
            idempotency_key: None,
            insights_status: InsightsStatus::Pending,
        };
        insert_conversation(
            &mut tx,
            &account_id,
            &new,
            crate::common::START_MS + i * 1_000,
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();

    let (_, many) = server.get("/conversations?q=claim&limit=5", &key).await;
    assert_eq!(many["pagination"]["total"], 2_100);
    assert_eq!(many["data"][0]["messageCount"], 2);
    let (_, newest) = server.get("/conversations?limit=5", &key).await;
    let ids = |list: &Value| -> Vec<Value> {
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].clone())
            .collect()
    };
    assert_eq!(
        ids(&many),
        ids(&newest),
        "newest first, as without a search"
    );
    let (_, some) = server
        .get("/conversations?q=warranty&limit=100", &key)
        .await;
    assert_eq!(some["pagination"]["total"], 700);
    let (_, few) = server
        .get("/conversations?q=warranty%20claim%202098", &key)
        .await;
    assert_eq!(few["pagination"]["total"], 0, "2098 is a delivery claim");
    let (_, one) = server
        .get("/conversations?q=delivery%20claim%202099", &key)
        .await;
    assert_eq!(one["pagination"]["total"], 1);
}

#[tokio::test]
async fn token_counts_over_a_billion_are_refused_naming_the_field() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let (status, body) = server
        .post(
            "/conversations",
            &key,
            json!({"agentName": "Chat", "messages": [
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello",
                 "usage": {"promptTokens": 1_000_000_001u64, "completionTokens": 1}}]}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "VALIDATION_ERROR");
    assert_eq!(
        body["error"]["details"]["fields"][0]["field"], "messages[1].usage.promptTokens",
        "{body}"
    );

    let (_, body) = server
        .post(
            "/runs",
            &key,
            json!({"agentName": "Chat", "status": "active",
                   "messages": [{"role": "user", "content": "Hi"}]}),
        )
        .await;
    let id = body["data"]["id"].as_str().unwrap();
    let (status, body) = server
        .post(
            &format!("/runs/{id}/messages"),
            &key,
            json!({"messages": [{"role": "assistant", "content": "Hello",
                   "usage": {"promptTokens": 1, "completionTokens": u64::MAX}}]}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"]["details"]["fields"][0]["field"], "messages[0].usage.completionTokens",
        "{body}"
    );
    // Nothing of the refused append was kept.
    let (_, body) = server.get(&format!("/runs/{id}"), &key).await;
    assert_eq!(body["data"]["totalTokens"], 0, "{body}");
}

#[tokio::test]
async fn a_billion_tokens_per_count_add_up_in_lists_and_usage() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let most = json!({"promptTokens": 1_000_000_000u64, "completionTokens": 1_000_000_000u64});
    let (status, body) = server
        .post(
            "/conversations",
            &key,
            json!({"agentName": "Chat", "status": "active", "messages": [
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello", "usage": most},
                {"role": "assistant", "content": "Still here", "usage": most}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["totalTokens"], 4_000_000_000u64);
    let id = body["data"]["id"].as_str().unwrap();
    let (status, body) = server
        .post(
            &format!("/conversations/{id}/messages"),
            &key,
            json!({"messages": [{"role": "assistant", "content": "Bye", "usage": most}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["totalTokens"], 6_000_000_000u64);

    let (status, body) = server.get("/conversations", &key).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"][0]["totalTokens"], 6_000_000_000u64, "{body}");
    let (status, body) = server.get("/usage", &key).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["tokens"]["used"], 6_000_000_000u64, "{body}");
}

#[tokio::test]
async fn a_snippet_comes_from_what_was_said_and_from_the_title_only_when_nothing_said_matches() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let a = agent(&server, &key, "A").await;
    for (title, content) in [
        (
            "Parcel lost",
            "User: my parcel never came\nAssistant: Sorry, I will check.",
        ),
        (
            "Parcel question",
            "User: where is it?\nAssistant: On its way.",
        ),
    ] {
        let (status, body) = server
            .post(
                "/conversations",
                &key,
                json!({"agentId": a, "title": title, "content": content}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        server.clock.advance_ms(60_000);
    }
    let (_, found) = server
        .get("/conversations?q=parcel&sort=createdAt", &key)
        .await;
    assert_eq!(
        found["data"][0]["snippet"]["text"],
        "my parcel never came Sorry, I will check."
    );
    assert_eq!(found["data"][1]["snippet"]["text"], "Parcel question");
    assert_eq!(
        found["data"][1]["snippet"]["highlights"],
        json!([{"start": 0, "end": 6}])
    );
}
