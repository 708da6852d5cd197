//! The model engine and its chat-completions client over real HTTP, against the scripted
//! fake in `common/fake_model.rs`.

use std::time::{Duration, Instant};

use crate::common::fake_model::{
    CallKind, FakeModel, FakeReply, FAKE_COMPLETION_TOKENS, FAKE_MODEL_NAME, FAKE_PROMPT_TOKENS,
};
use converra_api::conversations::{Message, Role, ToolCall};
use converra_api::insights::{Metric, Sentiment, Severity};
use converra_server::engine::model::{CallOptions, ChatClient, ChatMessage, ModelEngine, Schema};
use converra_server::engine::{
    AnalysisInput, Behaviour, Engine, EngineError, IssueFrequency, IssueKind, OptimizationIntent,
    Persona, Scenario, SimulationRequest, VariantRequest,
};
use serde_json::{json, Value};

const FAKE_TOKENS: u64 = FAKE_PROMPT_TOKENS + FAKE_COMPLETION_TOKENS;

const PERSONA: Persona = Persona {
    id: "persona_busy",
    name: "Dana",
    description: "a busy customer who wants quick, concrete answers",
    needs: &[Behaviour::AskForMissingDetails],
    impatience: 0.8,
};

const SCENARIO: Scenario = Scenario {
    id: "scenario_late_order",
    title: "an order that has not arrived",
    opening: "Where is my order?",
    tool: Some("lookup_order"),
    missing_detail: Some("the order number"),
};

fn message(role: Role, content: &str) -> Message {
    Message {
        role,
        content: content.to_owned(),
        timestamp: None,
        model: None,
        tool_calls: None,
        usage: None,
        latency_ms: None,
        metadata: None,
    }
}

fn conversation() -> Vec<Message> {
    let mut lookup = message(Role::Assistant, "Let me check.");
    lookup.tool_calls = Some(vec![ToolCall {
        id: None,
        name: "lookup_order".to_owned(),
        arguments: json!({"order": "1234"}),
        result: None,
        error: Some("timeout".to_owned()),
        nested_trace: None,
    }]);
    vec![
        message(Role::User, "Where is my order 1234?"),
        lookup,
        message(Role::Assistant, "Sorry, I cannot see it right now."),
        message(Role::User, "That is useless."),
    ]
}

fn metrics(score: f64) -> serde_json::Map<String, Value> {
    Metric::ALL
        .iter()
        .map(|m| (m.as_str().to_owned(), json!(score)))
        .collect()
}

fn hello_schema() -> Schema {
    Schema {
        name: "hello",
        schema: json!({
            "type": "object",
            "properties": {"hello": {"type": "string"}},
            "required": ["hello"],
            "additionalProperties": false
        }),
    }
}

fn ask() -> Vec<ChatMessage> {
    vec![
        ChatMessage::system("Answer in JSON."),
        ChatMessage::user("Say hello."),
    ]
}

#[tokio::test]
async fn a_completion_counts_tokens_sends_the_key_and_asks_for_json() {
    let fake = FakeModel::start().await;
    fake.push_reply(FakeModel::json_chat_reply(json!({"hello": "world"})));
    fake.push_reply(FakeModel::chat_reply("plain text"));
    let client = ChatClient::new(fake.config());

    let schema = hello_schema();
    let json = CallOptions {
        json: Some(&schema),
        ..CallOptions::new(1)
    };
    let completion = client.complete(&ask(), &json).await.expect("completes");
    assert_eq!(completion.content, r#"{"hello":"world"}"#);
    assert_eq!(completion.prompt_tokens, FAKE_PROMPT_TOKENS);
    assert_eq!(completion.completion_tokens, FAKE_COMPLETION_TOKENS);
    assert!(completion.latency_ms > 0.0);
    let plain = client
        .complete(&ask(), &CallOptions::new(1))
        .await
        .expect("completes");
    assert_eq!(plain.content, "plain text");

    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    let first = &requests[0];
    assert_eq!(first.path, "/v1/chat/completions");
    assert_eq!(first.header("authorization"), Some("Bearer sk-test-key"));
    assert_eq!(first.body["model"], FAKE_MODEL_NAME);
    assert_eq!(first.body["temperature"].as_f64(), Some(0.0));
    assert!(first.json_mode());
    assert_eq!(
        first.messages(),
        vec![
            ("system".to_owned(), "Answer in JSON.".to_owned()),
            ("user".to_owned(), "Say hello.".to_owned())
        ]
    );
    assert!(!requests[1].json_mode());
    assert!(requests[1].body.get("response_format").is_none());
}

#[tokio::test]
async fn without_a_key_no_authorization_header_is_sent() {
    let fake = FakeModel::start().await;
    fake.push_reply(FakeModel::chat_reply("hi"));
    let mut config = fake.config();
    config.api_key = None;
    ChatClient::new(config)
        .complete(&ask(), &CallOptions::new(1))
        .await
        .expect("completes");
    assert_eq!(fake.requests()[0].header("authorization"), None);
}

#[tokio::test]
async fn a_rate_limited_call_is_retried_after_the_retry_after_delay() {
    let fake = FakeModel::start().await;
    fake.push_reply(FakeModel::error_reply(429, "slow down").with_header("retry-after", "1"));
    fake.push_reply(FakeModel::chat_reply("finally"));
    let client = ChatClient::new(fake.config());

    let started = Instant::now();
    let completion = client
        .complete(&ask(), &CallOptions::new(1))
        .await
        .expect("retried");
    assert_eq!(completion.content, "finally");
    // The backoff alone is 5 ms: only Retry-After explains a full second.
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn server_errors_until_retries_run_out_are_an_upstream_error() {
    let fake = FakeModel::start().await;
    fake.push_replies((0..3).map(|_| FakeModel::error_reply(503, "the model is overloaded")));
    let client = ChatClient::new(fake.config()); // 2 retries: 3 attempts

    let error = client
        .complete(&ask(), &CallOptions::new(1))
        .await
        .expect_err("fails");
    assert_eq!(error, EngineError::Upstream { status: 503 });
    assert_eq!(error.code(), "MODEL_ERROR");
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn persistent_rate_limiting_is_reported_with_the_attempts_made() {
    let fake = FakeModel::start().await;
    fake.push_replies((0..3).map(|_| FakeModel::error_reply(429, "rate limit reached")));
    let client = ChatClient::new(fake.config());

    let error = client
        .complete(&ask(), &CallOptions::new(1))
        .await
        .expect_err("fails");
    assert_eq!(error, EngineError::RateLimited { attempts: 3 });
    assert_eq!(error.code(), "MODEL_RATE_LIMITED");
    assert!(error.is_transient());
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn a_server_error_then_success_is_retried() {
    let fake = FakeModel::start().await;
    fake.push_reply(FakeReply::raw(502, "Bad gateway"));
    fake.push_reply(FakeModel::chat_reply("recovered"));
    let completion = ChatClient::new(fake.config())
        .complete(&ask(), &CallOptions::new(1))
        .await
        .expect("retried");
    assert_eq!(completion.content, "recovered");
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn client_errors_are_not_retried_and_say_the_status_without_the_body() {
    let fake = FakeModel::start().await;
    fake.push_reply(FakeModel::error_reply(
        404,
        "The model `gpt-9` does not exist",
    ));
    fake.push_reply(FakeModel::chat_reply("never reached"));
    let client = ChatClient::new(fake.config());

    let error = client
        .complete(&ask(), &CallOptions::new(1))
        .await
        .expect_err("fails");
    assert_eq!(error, EngineError::Upstream { status: 404 });
    assert_eq!(
        error.to_string(),
        "the language model endpoint answered 404"
    );
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn a_slow_endpoint_times_out_quickly() {
    let fake = FakeModel::start().await;
    fake.push_replies(
        (0..2).map(|_| FakeModel::chat_reply("late").with_delay(Duration::from_secs(5))),
    );
    let mut config = fake.config();
    config.timeout = Duration::from_millis(200);
    config.max_retries = 1;
    let client = ChatClient::new(config);

    let started = Instant::now();
    let error = client
        .complete(&ask(), &CallOptions::new(1))
        .await
        .expect_err("times out");
    assert_eq!(error, EngineError::Timeout { seconds: 1 });
    assert_eq!(error.code(), "MODEL_TIMEOUT");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn an_endpoint_nobody_listens_on_is_unreachable() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("addr");
    drop(listener);
    let fake = FakeModel::start().await;
    let mut config = fake.config();
    config.base_url = format!("http://{address}/v1");
    config.max_retries = 1;

    let error = ChatClient::new(config)
        .complete(&ask(), &CallOptions::new(1))
        .await
        .expect_err("unreachable");
    assert!(matches!(error, EngineError::Unreachable(_)), "{error:?}");
    assert_eq!(error.code(), "MODEL_UNREACHABLE");
}

#[tokio::test]
async fn a_body_that_is_not_a_chat_completion_is_malformed_and_not_retried() {
    let fake = FakeModel::start().await;
    fake.push_reply(FakeReply::raw(200, "<html>proxy login</html>"));
    fake.push_reply(FakeReply::raw(200, r#"{"choices": []}"#));
    let client = ChatClient::new(fake.config());

    let not_json = client
        .complete(&ask(), &CallOptions::new(1))
        .await
        .expect_err("malformed");
    assert!(
        matches!(&not_json, EngineError::MalformedReply(m) if m.contains("not JSON") && !m.contains("proxy login")),
        "{not_json:?}"
    );
    assert!(!not_json.is_transient());
    let no_choices = client
        .complete(&ask(), &CallOptions::new(1))
        .await
        .expect_err("malformed");
    assert_eq!(
        no_choices,
        EngineError::MalformedReply("the reply has no choices".to_owned())
    );
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn tokens_are_estimated_when_the_endpoint_reports_no_usage() {
    let fake = FakeModel::start().await;
    fake.push_reply(FakeModel::chat_reply_with_usage(&"x".repeat(40), None));
    let completion = ChatClient::new(fake.config())
        .complete(&ask(), &CallOptions::new(1))
        .await
        .expect("completes");
    assert_eq!(completion.completion_tokens, 10);
    assert_eq!(completion.prompt_tokens, 7); // 25 characters of prompt
}

#[tokio::test]
async fn no_more_requests_than_max_concurrency_are_in_flight() {
    let fake = FakeModel::start().await;
    fake.respond_with(|_| FakeModel::chat_reply("ok").with_delay(Duration::from_millis(150)));
    let mut config = fake.config();
    config.max_concurrency = 2;
    let client = ChatClient::new(config);

    let started = Instant::now();
    let calls: Vec<_> = (0..6)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.complete(&ask(), &CallOptions::new(1)).await })
        })
        .collect();
    for call in calls {
        call.await.expect("joins").expect("completes");
    }
    assert_eq!(fake.requests().len(), 6);
    assert_eq!(fake.max_in_flight(), 2);
    assert!(started.elapsed() >= Duration::from_millis(450));
}

#[tokio::test]
async fn analyze_reads_a_well_formed_judge_reply() {
    let fake = FakeModel::start().await;
    let mut scores = metrics(70.0);
    scores.insert("clarity".to_owned(), json!(100));
    scores.insert("sentiment".to_owned(), json!(20));
    fake.push_reply(FakeModel::json_chat_reply(json!({
        "title": "Order lookup failed",
        "executiveSummary": "The order lookup timed out and the user left unhappy.",
        "summary": "The user asked about order 1234. The lookup tool timed out and the assistant gave up.",
        "userFacingSummary": null,
        "metrics": scores,
        "issues": [
            {
                "kind": "failed_tool_call",
                "title": "Order lookup timed out",
                "description": "lookup_order failed and no alternative was offered.",
                "severity": "high",
                "messageIndexes": [1, 2, 42]
            },
            {"kind": "bad_vibes", "title": "Not a kind we know", "severity": "low", "messageIndexes": [0]}
        ],
        "additionalConcerns": ["No escalation path was offered."],
        "nextSteps": ["Tell the agent what to do when a tool fails."],
        "keywords": ["Order", "timeout"],
        "topics": ["order status"],
        "sentiment": "negative",
        "sentimentScore": 0.1,
        "taskCompleted": false,
        "businessImpact": "A lost customer is likely."
    })));
    let engine = ModelEngine::new(fake.config());
    assert_eq!(engine.name(), "model:fake-model");
    let messages = conversation();

    let analysis = engine
        .analyze(AnalysisInput {
            messages: &messages,
            agent_prompt: Some("You are the support agent of Acme."),
        })
        .await
        .expect("analyzes");

    assert_eq!(analysis.title, "Order lookup failed");
    assert_eq!(analysis.user_facing_summary, None);
    assert_eq!(analysis.metrics.get(Metric::Clarity), 100.0);
    assert_eq!(analysis.metrics.get(Metric::Sentiment), 20.0);
    assert_eq!(analysis.metrics.get(Metric::SuccessScore), 70.0);
    let overall = (70.0 * 9.0 + 100.0 + 20.0) / 11.0;
    assert!((analysis.quality_score - overall).abs() < 1e-9);
    assert!(!analysis.task_completed);
    assert_eq!(analysis.gated_score, 40.0);
    assert_eq!(analysis.issues.len(), 1);
    let issue = &analysis.issues[0];
    assert_eq!(issue.kind, IssueKind::FailedToolCall);
    assert_eq!(issue.severity, Severity::High);
    assert_eq!(issue.message_indexes, vec![1, 2]);
    assert_eq!(analysis.keywords, vec!["order", "timeout"]);
    assert_eq!(analysis.sentiment, Sentiment::Negative);
    assert!((analysis.sentiment_score - 0.1).abs() < 1e-9);
    assert_eq!(analysis.next_steps.len(), 1);
    assert_eq!(
        analysis.business_impact.as_deref(),
        Some("A lost customer is likely.")
    );
    assert_eq!(analysis.engine_tokens, FAKE_TOKENS);

    let request = &fake.requests()[0];
    assert!(request.json_mode());
    assert_eq!(request.kind(), CallKind::Judge);
    assert!(request.system().contains("\"hallucinationScore\""));
    assert!(request.system().contains("\"failed_tool_call\""));
    let transcript = request.last_message();
    assert!(transcript.contains("You are the support agent of Acme."));
    assert!(transcript.contains("[0] User: Where is my order 1234?"));
    assert!(transcript.contains("tool call lookup_order({\"order\":\"1234\"}) -> error: timeout"));
    assert!(transcript.contains("[3] User: That is useless."));
}

#[tokio::test]
async fn a_critical_issue_caps_the_gated_score() {
    let fake = FakeModel::start().await;
    let mut reply = FakeModel::analysis_json(90.0);
    reply["issues"] =
        json!([{"kind": "unsupported_claim", "severity": "critical", "messageIndexes": [2]}]);
    fake.push_reply(FakeModel::json_chat_reply(reply));
    let messages = conversation();

    let analysis = ModelEngine::new(fake.config())
        .analyze(AnalysisInput {
            messages: &messages,
            agent_prompt: None,
        })
        .await
        .expect("analyzes");
    assert!(analysis.task_completed);
    assert_eq!(analysis.quality_score, 90.0);
    assert_eq!(analysis.gated_score, 40.0);
    assert_eq!(analysis.issues[0].title, "Unsupported claim");
}

#[tokio::test]
async fn a_judge_reply_without_every_metric_is_malformed_with_a_readable_message() {
    let fake = FakeModel::start().await;
    let mut reply = FakeModel::analysis_json(80.0);
    let scores = reply["metrics"].as_object_mut().expect("metrics");
    scores.remove("clarity");
    scores.remove("verbosityScore");
    fake.push_reply(FakeModel::json_chat_reply(reply));
    let messages = conversation();

    let error = ModelEngine::new(fake.config())
        .analyze(AnalysisInput {
            messages: &messages,
            agent_prompt: None,
        })
        .await
        .expect_err("malformed");
    assert_eq!(error.code(), "MODEL_MALFORMED_REPLY");
    assert_eq!(
        error.to_string(),
        "the language model's reply could not be used: the judge's analysis lacks a 0..100 \
score for verbosityScore, clarity"
    );
    assert_eq!(fake.requests().len(), 1, "a malformed reply is not retried");
}

#[tokio::test]
async fn a_judge_reply_that_is_not_json_is_malformed() {
    let fake = FakeModel::start().await;
    fake.push_reply(FakeModel::chat_reply(
        "I'm sorry, I can't judge this conversation.",
    ));
    let messages = conversation();

    let error = ModelEngine::new(fake.config())
        .analyze(AnalysisInput {
            messages: &messages,
            agent_prompt: None,
        })
        .await
        .expect_err("malformed");
    assert_eq!(
        error,
        EngineError::MalformedReply("the judge's analysis is not JSON".to_owned())
    );
}

#[tokio::test]
async fn propose_variants_returns_exactly_the_count_asked_for() {
    let fake = FakeModel::start().await;
    fake.push_reply(FakeModel::json_chat_reply(FakeModel::variants_json(3)));
    let issues = [
        IssueFrequency {
            kind: IssueKind::MissingDetails,
            frequency: 0.4,
        },
        IssueFrequency {
            kind: IssueKind::Verbose,
            frequency: 0.1,
        },
    ];
    let intent = OptimizationIntent {
        target_improvements: vec!["taskCompletion".to_owned()],
        hypothesis: Some("Asking for the order number first helps.".to_owned()),
    };

    let variants = ModelEngine::new(fake.config())
        .propose_variants(VariantRequest {
            prompt: "You are the support agent of Acme.",
            issues: &issues,
            intent: Some(&intent),
            count: 2,
            seed: 7,
        })
        .await
        .expect("proposes");

    assert_eq!(variants.len(), 2);
    assert_ne!(variants[0].content, variants[1].content);
    assert_eq!(variants[0].addresses, vec![IssueKind::MissingDetails]);
    assert!(variants[1].change_summary.starts_with("Variant 2"));
    let spent: u64 = variants.iter().map(|v| v.engine_tokens).sum();
    assert_eq!(spent, FAKE_TOKENS);

    let request = &fake.requests()[0];
    assert_eq!(request.kind(), CallKind::Variants);
    let text = request.last_message();
    assert!(text.contains("You are the support agent of Acme."));
    assert!(text.contains("- missing_details (40%)"));
    assert!(text.contains("- verbose (10%)"));
    assert!(text.contains("taskCompletion"));
    assert!(text.contains("Asking for the order number first helps."));
    assert!(text.contains("Variants wanted: 2"));
    assert!(request.system().contains("exactly 2 variants"));
}

#[tokio::test]
async fn fewer_variants_than_asked_for_is_malformed() {
    let fake = FakeModel::start().await;
    fake.push_reply(FakeModel::json_chat_reply(FakeModel::variants_json(1)));

    let error = ModelEngine::new(fake.config())
        .propose_variants(VariantRequest {
            prompt: "You are the support agent of Acme.",
            issues: &[],
            intent: None,
            count: 3,
            seed: 7,
        })
        .await
        .expect_err("too few");
    assert!(
        matches!(&error, EngineError::MalformedReply(m) if m.starts_with("asked for 3 prompt variants, the reply held 1 usable")),
        "{error:?}"
    );
}

#[tokio::test]
async fn simulate_alternates_agent_and_user_until_the_user_is_done() {
    let fake = FakeModel::start().await;
    fake.push_replies([
        FakeModel::chat_reply("Sorry to hear that. What is your order number?"),
        FakeModel::chat_reply("It's 1234."),
        FakeModel::chat_reply("Order 1234 ships tomorrow."),
        FakeModel::chat_reply("Great, thanks! [DONE]"),
    ]);
    let prompt = "You are the support agent of Acme. Ask for the order number.";

    let conversation = ModelEngine::new(fake.config())
        .simulate(SimulationRequest {
            prompt,
            persona: &PERSONA,
            scenario: &SCENARIO,
            max_turns: 10,
            tools: &[],
            seed: 1,
        })
        .await
        .expect("simulates");

    let turns: Vec<(Role, &str)> = conversation
        .messages
        .iter()
        .map(|m| (m.role, m.content.as_str()))
        .collect();
    assert_eq!(
        turns,
        vec![
            (Role::User, "Where is my order?"),
            (
                Role::Assistant,
                "Sorry to hear that. What is your order number?"
            ),
            (Role::User, "It's 1234."),
            (Role::Assistant, "Order 1234 ships tomorrow."),
            (Role::User, "Great, thanks!"),
        ]
    );
    for reply in conversation
        .messages
        .iter()
        .filter(|m| m.role == Role::Assistant)
    {
        let usage = reply.usage.expect("usage");
        assert_eq!(usage.prompt_tokens, FAKE_PROMPT_TOKENS);
        assert_eq!(usage.completion_tokens, FAKE_COMPLETION_TOKENS);
        assert!(reply.latency_ms.expect("latency") > 0.0);
        assert_eq!(reply.model.as_deref(), Some(FAKE_MODEL_NAME));
    }
    assert_eq!(conversation.agent_tokens(), 2 * FAKE_TOKENS);
    assert_eq!(conversation.engine_tokens, 4 * FAKE_TOKENS);

    let requests = fake.requests();
    assert_eq!(requests.len(), 4);
    let kinds: Vec<CallKind> = requests.iter().map(|r| r.kind()).collect();
    assert_eq!(
        kinds,
        vec![
            CallKind::Agent,
            CallKind::SimulatedUser,
            CallKind::Agent,
            CallKind::SimulatedUser
        ]
    );
    assert_eq!(
        requests[0].messages(),
        vec![
            ("system".to_owned(), prompt.to_owned()),
            ("user".to_owned(), "Where is my order?".to_owned())
        ]
    );
    let user_side = &requests[1];
    assert!(user_side.system().starts_with(
        "You are Dana: a busy customer who wants quick, concrete answers. Your situation: an \
order that has not arrived."
    ));
    assert!(user_side.system().contains("the order number"));
    let roles: Vec<String> = user_side
        .messages()
        .into_iter()
        .map(|(role, _)| role)
        .collect();
    assert_eq!(roles, vec!["system", "user", "assistant", "user"]);
    assert_eq!(
        user_side.last_message(),
        "Sorry to hear that. What is your order number?"
    );
    assert_eq!(requests[2].messages().len(), 4);
}

#[tokio::test]
async fn simulate_stops_at_max_turns() {
    let fake = FakeModel::start().await;
    fake.respond_with(|request| match request.kind() {
        CallKind::Agent => FakeModel::chat_reply("Could you say more?"),
        _ => FakeModel::chat_reply("I already told you."),
    });

    let conversation = ModelEngine::new(fake.config())
        .simulate(SimulationRequest {
            prompt: "You are an agent.",
            persona: &PERSONA,
            scenario: &SCENARIO,
            max_turns: 4,
            tools: &[],
            seed: 1,
        })
        .await
        .expect("simulates");
    assert_eq!(conversation.messages.len(), 4);
    assert_eq!(conversation.messages[3].role, Role::Assistant);
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn a_failing_call_fails_the_simulation() {
    let fake = FakeModel::start().await;
    fake.push_reply(FakeModel::chat_reply("Hello!"));
    fake.push_reply(FakeModel::error_reply(401, "Incorrect API key provided"));

    let error = ModelEngine::new(fake.config())
        .simulate(SimulationRequest {
            prompt: "You are an agent.",
            persona: &PERSONA,
            scenario: &SCENARIO,
            max_turns: 10,
            tools: &[],
            seed: 1,
        })
        .await
        .expect_err("fails");
    assert_eq!(error, EngineError::Upstream { status: 401 });
}

#[tokio::test]
async fn a_well_behaved_fake_answers_all_three_jobs() {
    let fake = FakeModel::start().await;
    fake.behave_well();
    let engine = ModelEngine::new(fake.config());
    let messages = conversation();

    let analysis = engine
        .analyze(AnalysisInput {
            messages: &messages,
            agent_prompt: None,
        })
        .await
        .expect("analyzes");
    assert_eq!(analysis.quality_score, 85.0);

    let variants = engine
        .propose_variants(VariantRequest {
            prompt: "You are an agent.",
            issues: &[],
            intent: None,
            count: 4,
            seed: 1,
        })
        .await
        .expect("proposes");
    assert_eq!(variants.len(), 4);

    let conversation = engine
        .simulate(SimulationRequest {
            prompt: &variants[0].content,
            persona: &PERSONA,
            scenario: &SCENARIO,
            max_turns: 8,
            tools: &[],
            seed: 1,
        })
        .await
        .expect("simulates");
    assert_eq!(conversation.messages.len(), 3);
    assert_eq!(conversation.messages[2].content, "It is 1234, thanks!");
}

/// A server whose accounts may name loopback endpoints (the fakes listen there), with the
/// fakes' short timings.
async fn server_allowing_private_endpoints() -> crate::common::TestServer {
    crate::common::TestServer::start_with(converra_server::state::ServerConfig {
        allow_private_network: true,
        tune_model: crate::common::fake_model::tune_for_tests,
        ..Default::default()
    })
    .await
}

/// Points the account at `base_url` and runs an optimization of a new agent to its end.
async fn optimize_against(server: &crate::common::TestServer, key: &str, base_url: &str) -> Value {
    use crate::optimizations::{finished, start};
    let (status, body) = server
        .patch(
            "/settings",
            key,
            json!({"llm": {"baseUrl": base_url, "model": "m", "apiKey": "sk-account"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = server
        .post(
            "/agents",
            key,
            json!({"name": format!("Support {}", next_agent_number()), "content": "You help."}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let agent_id = body["data"]["id"].as_str().unwrap();
    let created = start(server, key, json!({"agentId": agent_id, "variantCount": 2})).await;
    finished(server, key, created["id"].as_str().unwrap()).await
}

/// A distinct agent name per run within one account.
fn next_agent_number() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
}

#[tokio::test]
async fn an_account_endpoint_that_redirects_is_not_followed_even_on_a_private_network() {
    let target = FakeModel::start().await;
    target.behave_well();
    let redirector = FakeModel::start().await;
    let location = format!("{}/chat/completions", target.base_url);
    redirector.respond_with(move |_| FakeReply::raw(307, "").with_header("location", &location));
    let server = server_allowing_private_endpoints().await;
    let key = server.key("Acme", converra_api::PlanId::Pro).await;

    let done = optimize_against(&server, &key, &redirector.base_url).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(done["error"]["code"], "MODEL_ERROR", "{done}");
    assert_eq!(
        done["error"]["message"],
        "the language model endpoint answered 307"
    );
    assert!(!redirector.requests().is_empty());
    assert!(target.requests().is_empty(), "the redirect was followed");
}

#[tokio::test]
async fn an_account_endpoint_resolving_to_loopback_is_refused_at_call_time() {
    let fake = FakeModel::start().await;
    fake.behave_well();
    let server = crate::common::TestServer::start_with(converra_server::state::ServerConfig {
        tune_model: crate::common::fake_model::tune_for_tests,
        ..Default::default()
    })
    .await;
    let key = server.key("Acme", converra_api::PlanId::Pro).await;
    // A name, not a literal: accepted when saved, refused by the resolver on every call.
    let by_name = fake.base_url.replace("127.0.0.1", "localhost");

    let done = optimize_against(&server, &key, &by_name).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(done["error"]["code"], "MODEL_UNREACHABLE", "{done}");
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
}

#[tokio::test]
async fn an_endpoints_reply_body_never_reaches_an_error_the_api_returns() {
    const MARKER: &str = "SECRET-MARKER-7f3a";
    let fake = FakeModel::start().await;
    let server = server_allowing_private_endpoints().await;
    let key = server.key("Acme", converra_api::PlanId::Pro).await;

    fake.respond_with(|_| FakeReply::raw(500, format!("internal: {MARKER} at db://10.0.0.5")));
    let failed = optimize_against(&server, &key, &fake.base_url).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(
        failed["error"]["message"],
        "the language model endpoint answered 500"
    );

    fake.respond_with(|_| FakeModel::error_reply(400, MARKER));
    let refused = optimize_against(&server, &key, &fake.base_url).await;
    assert_eq!(
        refused["error"]["message"],
        "the language model endpoint answered 400"
    );

    fake.respond_with(|_| FakeReply::raw(200, format!("<html>{MARKER}</html>")));
    let not_json = optimize_against(&server, &key, &fake.base_url).await;
    assert_eq!(
        not_json["error"]["code"], "MODEL_MALFORMED_REPLY",
        "{not_json}"
    );

    fake.respond_with(|_| FakeModel::json_chat_reply(json!({"error": MARKER, "note": MARKER})));
    let wrong_shape = optimize_against(&server, &key, &fake.base_url).await;
    assert_eq!(
        wrong_shape["error"]["code"], "MODEL_MALFORMED_REPLY",
        "{wrong_shape}"
    );

    let response = server
        .request(reqwest::Method::GET, "/optimizations", Some(&key))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let listed = response.text().await.unwrap();
    assert_eq!(listed.matches("\"failed\"").count(), 4, "{listed}");
    assert!(!listed.contains(MARKER), "{listed}");
}

#[tokio::test]
async fn a_reply_over_four_mebibytes_is_malformed() {
    let fake = FakeModel::start().await;
    let padding = "x".repeat(4 * 1024 * 1024);
    fake.respond_with(move |_| {
        FakeReply::raw(
            200,
            format!(r#"{{"choices":[{{"message":{{"content":"{padding}"}}}}]}}"#),
        )
    });
    let client = ChatClient::new(fake.config());
    let error = client
        .complete(&ask(), &CallOptions::new(1))
        .await
        .expect_err("too large");
    assert_eq!(
        error,
        EngineError::MalformedReply("the reply is larger than 4 MiB".to_owned())
    );
    assert_eq!(fake.requests().len(), 1, "a too-large reply is not retried");
}
