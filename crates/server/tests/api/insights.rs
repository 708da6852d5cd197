//! Insights over real HTTP: the queue's lifecycle, conversation and agent insights, step
//! failures and the `hasIssues` filter, read by the offline engine.

use crate::common::TestServer;
use converra_api::PlanId;
use serde_json::{json, Value};

fn clean_conversation(agent: &str) -> Value {
    json!({
        "agentName": agent,
        "messages": [
            {"role": "user", "content": "Hi, what are your opening hours on Saturday?"},
            {"role": "assistant", "content": "We are open from 9am to 5pm on Saturdays."},
            {"role": "user", "content": "Great, thanks for the help!"},
            {"role": "assistant", "content": "You're welcome, have a nice weekend."}
        ]
    })
}

fn failing_conversation(agent: &str) -> Value {
    json!({
        "agentName": agent,
        "title": "Where is order 55123?",
        "messages": [
            {"role": "user", "content": "Where is my order 55123? It is late."},
            {"role": "assistant", "content": "Let me check that order for you.",
             "toolCalls": [{"name": "lookup_order", "arguments": {"orderId": "55123"},
                            "error": "upstream timeout after 30s"}]},
            {"role": "user", "content": "This is ridiculous!!! I have asked three times. Useless."},
            {"role": "assistant", "content": "I'm sorry, I'm sorry for the trouble. I'm sorry."},
            {"role": "user", "content": "Let me speak to a human right now."}
        ]
    })
}

/// An issue's or step's example conversations are its example ids, in order, each with
/// the title the conversation itself has.
async fn assert_examples_titled(server: &TestServer, key: &str, item: &Value) {
    let ids = item["exampleConversationIds"].as_array().unwrap();
    let examples = item["exampleConversations"].as_array().unwrap();
    assert_eq!(examples.len(), ids.len(), "{item}");
    for (example, id) in examples.iter().zip(ids) {
        assert_eq!(&example["id"], id);
        let (_, conversation) = server
            .get(&format!("/conversations/{}", id.as_str().unwrap()), key)
            .await;
        assert_eq!(example["title"], conversation["data"]["title"], "{item}");
        assert!(example["title"].is_string(), "{item}");
    }
}

async fn log(server: &TestServer, key: &str, body: Value) -> String {
    let (status, body) = server.post("/conversations", key, body).await;
    assert_eq!(status, 200, "{body}");
    body["data"]["id"].as_str().unwrap().to_owned()
}

async fn ready_insights(server: &TestServer, key: &str, id: &str) -> Value {
    server
        .wait_for(&format!("/conversations/{id}/insights"), key, |b| {
            b["data"]["metrics"].is_object()
        })
        .await["data"]
        .clone()
}

#[tokio::test]
async fn a_logged_conversation_gets_insights_that_tell_good_from_bad() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let good = log(&server, &key, clean_conversation("Support")).await;
    let bad = log(&server, &key, failing_conversation("Support")).await;

    ready_insights(&server, &key, &good).await;
    let bad = ready_insights(&server, &key, &bad).await;
    // Read again once both are ready, so the fleet average covers both.
    let good = ready_insights(&server, &key, &good).await;
    for metric in [
        "successScore",
        "aiRelevancy",
        "sentiment",
        "hallucinationScore",
        "repetitionScore",
        "consistencyScore",
        "naturalLanguageScore",
        "contextRetentionScore",
        "verbosityScore",
        "taskCompletion",
        "clarity",
    ] {
        let value = &good["metrics"][metric];
        assert!(value["value"].as_f64().is_some(), "{metric}: {good}");
        // The benchmark is the fleet's average over both conversations.
        let mean = (good["metrics"][metric]["value"].as_f64().unwrap()
            + bad["metrics"][metric]["value"].as_f64().unwrap())
            / 2.0;
        let benchmark = value["benchmark"].as_f64().unwrap();
        assert!(
            (benchmark - mean).abs() < 0.11,
            "{metric}: {benchmark} vs {mean}"
        );
    }
    let quality = |i: &Value| i["metrics"]["qualityScore"].as_f64().unwrap();
    assert!(
        quality(&bad) < quality(&good),
        "{} !< {}",
        quality(&bad),
        quality(&good)
    );
    assert!(bad["metrics"]["gatedScore"].as_f64().unwrap() <= quality(&bad));
    assert_eq!(bad["engine"], "offline");
    assert!(!bad["title"].as_str().unwrap().is_empty());

    let issues = bad["topIssues"].as_array().unwrap();
    let failed_tool = issues
        .iter()
        .find(|i| i["messageIndexes"].as_array().unwrap().contains(&json!(1)))
        .unwrap_or_else(|| panic!("no issue points at the failed tool call: {issues:?}"));
    assert!(["high", "critical", "medium"].contains(&failed_tool["severity"].as_str().unwrap()));
    let steps = bad["stepDiagnosis"]["steps"].as_array().unwrap();
    let tool = steps.iter().find(|s| s["name"] == "lookup_order").unwrap();
    assert_eq!(tool["status"], "failed");
    assert_eq!(tool["messageIndex"], 1);
    assert_eq!(tool["rootCause"], "tool_issue");
    assert!(!bad["nextSteps"].as_array().unwrap().is_empty());

    // The list knows which conversations have issues, and their quality.
    let (_, with_issues) = server.get("/conversations?hasIssues=true", &key).await;
    let ids: Vec<&str> = with_issues["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&bad["conversationId"].as_str().unwrap()));
    let (_, conversation) = server
        .get(
            &format!("/conversations/{}", bad["conversationId"].as_str().unwrap()),
            &key,
        )
        .await;
    assert_eq!(conversation["data"]["insightsStatus"], "ready");
    assert_eq!(conversation["data"]["hasInsights"], true);

    // The SDK's path answers the same.
    let (status, runs) = server
        .get(
            &format!("/runs/{}/insights", bad["conversationId"].as_str().unwrap()),
            &key,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(runs["data"]["id"], bad["id"]);
}

#[tokio::test]
async fn without_auto_generation_insights_are_skipped_until_regenerated() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let (status, _) = server
        .patch(
            "/settings",
            &key,
            json!({"insights": {"autoGenerate": false}}),
        )
        .await;
    assert_eq!(status, 200);
    let id = log(&server, &key, clean_conversation("Support")).await;
    let (status, body) = server
        .get(&format!("/conversations/{id}/insights"), &key)
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["status"], "skipped", "{body}");
    assert_eq!(body["data"]["conversationId"], id.as_str());

    let (status, body) = server
        .post(
            &format!("/conversations/{id}/insights/regenerate"),
            &key,
            json!({}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["data"]["status"], "queued");
    ready_insights(&server, &key, &id).await;

    let (status, _) = server
        .post(
            "/conversations/conv_missing/insights/regenerate",
            &key,
            json!({}),
        )
        .await;
    assert_eq!(status, 404);
    let other = server.key("Other", PlanId::Pro).await;
    let (status, _) = server
        .get(&format!("/conversations/{id}/insights"), &other)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn agent_insights_aggregate_issues_trend_impact_and_the_fleet() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    server
        .patch(
            "/settings",
            &key,
            json!({"businessImpact": {"valuePerConversation": 20.0, "currency": "EUR"}}),
        )
        .await;
    let mut last = String::new();
    for i in 0..6 {
        let body = if i % 2 == 0 {
            failing_conversation("Support")
        } else {
            clean_conversation("Support")
        };
        last = log(&server, &key, body).await;
        log(&server, &key, clean_conversation("Sales")).await;
    }
    ready_insights(&server, &key, &last).await;
    let (_, agents) = server.get("/agents?search=Support", &key).await;
    let agent_id = agents["data"][0]["id"].as_str().unwrap().to_owned();
    // Every conversation analysed before reading aggregates.
    server
        .wait_for("/conversations?hasInsights=false", &key, |b| {
            b["data"].as_array().unwrap().is_empty()
        })
        .await;

    let (status, body) = server
        .get(&format!("/agents/{agent_id}/insights"), &key)
        .await;
    assert_eq!(status, 200, "{body}");
    let insights = &body["data"];
    assert_eq!(insights["period"]["days"], 30);
    assert_eq!(insights["metrics"]["conversationCount"], 6);
    assert_eq!(insights["metrics"]["analyzedCount"], 6);
    assert_eq!(insights["trend"].as_array().unwrap().len(), 31);
    let issue = insights["issues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "issue_failed_tool_call")
        .unwrap_or_else(|| panic!("{insights}"));
    assert_eq!(issue["affectedConversations"], 3);
    assert_eq!(issue["frequency"], 0.5);
    assert_eq!(issue["exampleConversationIds"].as_array().unwrap().len(), 3);
    assert_examples_titled(&server, &key, issue).await;
    assert!(!insights["recommendations"].as_array().unwrap().is_empty());
    let impact = &insights["businessImpact"];
    assert_eq!(impact["currency"], "EUR");
    let failed = impact["conversationsAffected"].as_u64().unwrap();
    assert!(failed >= 3, "{impact}");
    assert_eq!(
        impact["estimatedRevenueAtRisk"].as_f64().unwrap(),
        failed as f64 * 20.0
    );
    let fleet = &insights["fleetIntelligence"];
    assert_eq!(fleet["totalAgents"], 2);
    assert_eq!(
        fleet["rank"], 2,
        "the failing agent trails the clean one: {fleet}"
    );
    assert!(fleet["percentiles"]["clarity"].as_f64().is_some());
    assert!(!fleet["bestPracticesFrom"].as_array().unwrap().is_empty());

    let (status, body) = server
        .get(&format!("/agents/{agent_id}/insights?days=14"), &key)
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "VALIDATION_ERROR");

    let (status, body) = server
        .get(&format!("/agents/{agent_id}/step-failures"), &key)
        .await;
    assert_eq!(status, 200, "{body}");
    let failures = &body["data"];
    assert_eq!(failures["failedConversations"], 3);
    let step = failures["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "lookup_order")
        .unwrap();
    assert_eq!(step["failures"], 3);
    assert_examples_titled(&server, &key, step).await;
    assert_eq!(step["failureRate"], 1.0);
    assert_eq!(step["topRootCause"], "tool_issue");
    assert_eq!(
        step["topErrors"][0]["message"],
        "upstream timeout after 30s"
    );
    assert_eq!(failures["byRootCause"][0]["type"], "tool_issue");
    assert!(!failures["topFailures"][0]["fix"]
        .as_str()
        .unwrap()
        .is_empty());

    let (status, body) = server
        .post(
            &format!("/agents/{agent_id}/insights/regenerate"),
            &key,
            json!({"limit": 4}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["data"]["total"], 4);
    assert_eq!(
        body["data"]["skipped"], 4,
        "ready insights are skipped without force"
    );
    let (status, body) = server
        .post(
            &format!("/agents/{agent_id}/insights/regenerate"),
            &key,
            json!({"force": true, "limit": 500}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = server
        .post(
            &format!("/agents/{agent_id}/insights/regenerate"),
            &key,
            json!({"force": true}),
        )
        .await;
    assert_eq!(status, 202);
    assert_eq!(body["data"]["queued"], 6);
}

#[tokio::test]
async fn deployments_impact_judges_each_applied_change() {
    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let id = log(&server, &key, failing_conversation("Support")).await;
    ready_insights(&server, &key, &id).await;
    let (_, agents) = server.get("/agents", &key).await;
    let agent_id = agents["data"][0]["id"].as_str().unwrap().to_owned();
    server.clock.advance_ms(60_000);
    let (status, _) = server
        .patch(
            &format!("/agents/{agent_id}"),
            &key,
            json!({"content": "You are helpful. Hand over to a human when asked."}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = server.get("/deployments/impact", &key).await;
    assert_eq!(status, 200, "{body}");
    let summary = &body["data"]["summary"];
    assert_eq!(summary["totalDeployments"], 1);
    let deployment = &body["data"]["agents"][0];
    assert_eq!(deployment["agentId"], agent_id.as_str());
    assert_eq!(deployment["version"], 2);
    // Nothing logged since the change: too early to tell.
    assert_eq!(deployment["verificationStatus"], "monitoring");
    assert_eq!(deployment["postFixConversationCount"], 0);
    let (status, body) = server
        .get("/deployments/impact?status=verified", &key)
        .await;
    assert_eq!(status, 200);
    assert!(body["data"]["agents"].as_array().unwrap().is_empty());
    let (status, _) = server.get("/deployments/impact?status=sure", &key).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn model_failures_are_retried_with_backoff_then_marked_failed_and_a_good_model_succeeds() {
    use crate::common::fake_model::{tune_for_tests, FakeModel};
    let model = FakeModel::start().await;
    model.respond_with(|_| FakeModel::error_reply(503, "overloaded"));
    let server = TestServer::start_with(converra_server::state::ServerConfig {
        insights_retry_base_ms: 1_000,
        tune_model: tune_for_tests,
        allow_private_network: true,
        ..Default::default()
    })
    .await;
    let key = server.key("Acme", PlanId::Pro).await;
    server
        .patch(
            "/settings",
            &key,
            json!({"llm": {"baseUrl": model.base_url, "model": "judge"}}),
        )
        .await;
    let id = log(&server, &key, clean_conversation("Support")).await;
    let path = format!("/conversations/{id}/insights");
    let first = server
        .wait_for(&path, &key, |b| b["data"]["retryCount"] == 1)
        .await;
    assert_eq!(first["data"]["status"], "pending", "{first}");
    assert_eq!(first["data"]["code"], "MODEL_ERROR");
    // The endpoint's own words are never shown: only the status, in ours.
    assert_eq!(
        first["data"]["reason"],
        "the language model endpoint answered 503"
    );
    assert!(first["data"]["nextRetryAt"].is_string());
    // Each retry waits twice as long as the one before; move the clock past each.
    for attempt in 2..=5 {
        server.clock.advance_ms(1_000 << (attempt - 1));
        server
            .wait_for(&path, &key, |b| b["data"]["retryCount"] == attempt)
            .await;
    }
    let failed = server
        .wait_for(&path, &key, |b| b["data"]["status"] == "failed")
        .await;
    assert_eq!(failed["data"]["retryCount"], 5, "{failed}");

    model.behave_well();
    let (status, _) = server
        .post(&format!("{path}/regenerate"), &key, json!({}))
        .await;
    assert_eq!(status, 202);
    let ready = ready_insights(&server, &key, &id).await;
    assert_eq!(ready["engine"], "model:judge");
}

#[tokio::test]
async fn a_reading_of_an_older_transcript_never_overwrites_the_newer_queueing() {
    use converra_server::engine::offline::analysis::analyze;
    use converra_server::store::insights::{queue_insights, save_insights};

    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let (status, _) = server
        .patch(
            "/settings",
            &key,
            json!({"insights": {"autoGenerate": false}}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = server
        .post("/conversations", &key, clean_conversation("Support"))
        .await;
    assert_eq!(status, 200, "{body}");
    let conversation = body["data"]["id"].as_str().unwrap().to_owned();
    let (_, account) = server.get("/account", &key).await;
    let account = account["data"]["id"].as_str().unwrap().to_owned();
    // Due a day from now, so the server's own worker (at the test clock) leaves it alone.
    let due = crate::common::START_MS + 86_400_000;
    let queue = || async {
        let mut tx = server.store.begin_write().await.unwrap();
        queue_insights(&mut tx, &account, &conversation, due)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    };
    queue().await;
    let older = server
        .store
        .claim_due_insights(due, 10)
        .await
        .unwrap()
        .remove(0);
    // Only PostgreSQL's processes lease what they read (SQLite has one process).
    if server.store.backend() == converra_server::store::Backend::Postgres {
        assert!(
            server
                .store
                .claim_due_insights(due, 10)
                .await
                .unwrap()
                .is_empty(),
            "a job being read was claimed twice"
        );
    }
    // The transcript grows while the older job runs: it is queued again.
    queue().await;
    let mut tx = server.store.begin_write().await.unwrap();
    let stale = save_insights(
        &mut tx,
        &older,
        "offline",
        &analyze(&older.messages, None),
        due,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(stale, None, "the older reading was written");
    let newer = server.store.claim_due_insights(due, 10).await.unwrap();
    assert_eq!(newer.len(), 1, "the newer queueing was lost");
    assert_eq!(newer[0].generation, older.generation + 1);
    let mut tx = server.store.begin_write().await.unwrap();
    let saved = save_insights(
        &mut tx,
        &newer[0],
        "offline",
        &analyze(&newer[0].messages, None),
        due,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert!(saved.is_some());
    assert!(server
        .store
        .claim_due_insights(due, 10)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn each_conversations_insights_are_recorded_as_they_finish() {
    use crate::common::fake_model::FakeModel;
    use std::time::Duration;

    let model = FakeModel::start_unrecorded().await;
    model.respond_with(|request| {
        let reply = FakeModel::json_chat_reply(FakeModel::analysis_json(80.0));
        if request.last_message().contains("SLOW") {
            reply.with_delay(Duration::from_secs(4))
        } else {
            reply
        }
    });
    let server = TestServer::start_with(crate::model_world::server_config()).await;
    let key = crate::model_world::account_in_world(&server, "Acme", &model.base_url).await;
    let (status, _) = server
        .patch(
            "/settings",
            &key,
            json!({"insights": {"autoGenerate": false}}),
        )
        .await;
    assert_eq!(status, 200);
    let mut ids = Vec::new();
    for text in ["SLOW question about my order", "A quick question"] {
        let (status, body) = server
            .post(
                "/conversations",
                &key,
                json!({"agentName": "Support", "messages": [
                    {"role": "user", "content": text},
                    {"role": "assistant", "content": "Happy to help."}
                ]}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        ids.push(body["data"]["id"].as_str().unwrap().to_owned());
    }
    // Both queued in one write, due a minute on: the worker reads them in one batch.
    let (_, account) = server.get("/account", &key).await;
    let account = account["data"]["id"].as_str().unwrap().to_owned();
    let due = crate::common::START_MS + 60_000;
    let mut tx = server.store.begin_write().await.unwrap();
    for id in &ids {
        converra_server::store::insights::queue_insights(&mut tx, &account, id, due)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    server.clock.advance_ms(60_000);
    let quick = server
        .wait_for(&format!("/conversations/{}", ids[1]), &key, |b| {
            b["data"]["insightsStatus"] == "ready"
        })
        .await;
    assert_eq!(quick["data"]["insightsStatus"], "ready");
    // Written while the slow reading of the same batch is still under way.
    let (_, slow) = server
        .get(&format!("/conversations/{}", ids[0]), &key)
        .await;
    assert_eq!(slow["data"]["insightsStatus"], "pending", "{slow}");
}
