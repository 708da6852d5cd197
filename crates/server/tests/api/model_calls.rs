//! What the model engine asks of the endpoint: seeds and temperatures, strict JSON schemas
//! with their fallback, the agent's logged tools in simulation, and the blind judge.

use converra_api::conversations::{Message, Role};
use converra_api::insights::Metric;
use converra_api::settings::StructuredOutputs;
use converra_server::engine::logged_tools::{LoggedTool, ToolOutcome};
use converra_server::engine::model::{ModelEngine, ModelOptions};
use converra_server::engine::{
    Behaviour, Engine, EngineError, JudgeRequest, Persona, Scenario, SimulationRequest,
};
use serde_json::json;

use crate::common::fake_model::{CallKind, FakeModel};

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

fn engine(fake: &FakeModel, options: ModelOptions) -> ModelEngine {
    ModelEngine::with_options(
        converra_server::engine::model::ChatClient::new(fake.config()),
        options,
    )
}

fn simulation<'a>(prompt: &'a str, tools: &'a [LoggedTool], seed: u64) -> SimulationRequest<'a> {
    SimulationRequest {
        prompt,
        persona: &PERSONA,
        scenario: &SCENARIO,
        max_turns: 4,
        tools,
        seed,
    }
}

#[tokio::test]
async fn the_user_samples_at_its_temperature_the_agent_at_zero_and_every_call_sends_a_seed() {
    let fake = FakeModel::start().await;
    fake.respond_with(|request| match request.kind() {
        CallKind::Agent => FakeModel::chat_reply("What is your order number?"),
        _ => FakeModel::chat_reply("It is 1234."),
    });
    let engine = engine(
        &fake,
        ModelOptions {
            user_temperature: 1.3,
            judge_model: None,
        },
    );
    for (prompt, seed) in [("Prompt A.", 5), ("Prompt B.", 5), ("Prompt A.", 6)] {
        engine
            .simulate(simulation(prompt, &[], seed))
            .await
            .expect("simulates");
    }
    let requests = fake.requests();
    assert_eq!(requests.len(), 9);
    for request in &requests {
        let temperature = request.body["temperature"].as_f64();
        match request.kind() {
            CallKind::Agent => assert_eq!(temperature, Some(0.0)),
            _ => assert_eq!(temperature, Some(1.3)),
        }
        assert!(request.body["seed"].is_u64(), "{}", request.body);
    }
    let seeds: Vec<u64> = requests
        .iter()
        .map(|r| r.body["seed"].as_u64().unwrap_or_default())
        .collect();
    // The two arms of one cell meet the same seeds; the next replicate does not.
    assert_eq!(seeds[0..3], seeds[3..6]);
    assert_ne!(seeds[0..3], seeds[6..9]);
    // Each turn has its own.
    assert_ne!(seeds[0], seeds[2]);
}

#[tokio::test]
async fn under_auto_a_refused_schema_falls_back_to_a_json_object_once_and_for_good() {
    let fake = FakeModel::start().await;
    fake.push_reply(FakeModel::error_reply(
        400,
        "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model",
    ));
    fake.respond_with(|_| FakeModel::json_chat_reply(FakeModel::verdicts_json(&[70.0])));
    let engine = engine(&fake, ModelOptions::default());
    let transcript = [Message::new(Role::User, "Hi")];
    let transcripts: [&[Message]; 1] = [&transcript];
    for seed in [1, 2] {
        let verdicts = engine
            .judge(JudgeRequest {
                transcripts: &transcripts,
                seed,
            })
            .await
            .expect("judged after the fallback");
        assert_eq!(verdicts.len(), 1);
    }
    let formats: Vec<String> = fake
        .requests()
        .iter()
        .map(|r| {
            r.body["response_format"]["type"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(formats, ["json_schema", "json_object", "json_object"]);
    let first = &fake.requests()[0];
    assert_eq!(first.schema_name(), Some("blind_verdicts"));
    assert_eq!(
        first.body["response_format"]["json_schema"]["strict"],
        json!(true)
    );
}

#[tokio::test]
async fn the_setting_pins_the_format() {
    for (mode, expected) in [
        (StructuredOutputs::JsonSchema, Err(400)),
        (StructuredOutputs::JsonObject, Ok("json_object")),
    ] {
        let fake = FakeModel::start().await;
        fake.respond_with(|request| {
            if request.body["response_format"]["type"] == "json_schema" {
                FakeModel::error_reply(400, "response_format json_schema is unsupported")
            } else {
                FakeModel::json_chat_reply(FakeModel::verdicts_json(&[70.0]))
            }
        });
        let mut config = fake.config();
        config.structured_outputs = mode;
        let engine = ModelEngine::new(config);
        let transcript = [Message::new(Role::User, "Hi")];
        let transcripts: [&[Message]; 1] = [&transcript];
        let judged = engine
            .judge(JudgeRequest {
                transcripts: &transcripts,
                seed: 1,
            })
            .await;
        match expected {
            Err(status) => {
                assert_eq!(judged, Err(EngineError::Upstream { status }));
                assert_eq!(fake.requests().len(), 1, "{mode:?}: no fallback");
            }
            Ok(format) => {
                judged.expect("judged");
                assert_eq!(fake.requests()[0].body["response_format"]["type"], format);
            }
        }
    }
}

#[tokio::test]
async fn the_judge_is_blind_shuffled_on_its_own_model_and_its_answers_come_back_in_order() {
    let fake = FakeModel::start().await;
    // Scores each conversation by the arm number its user wrote, in the order shown.
    fake.respond_with(|request| {
        let scores: Vec<f64> = request
            .last_message()
            .split("Conversation ")
            .skip(1)
            .map(|part| {
                let arm = part
                    .split("arm ")
                    .nth(1)
                    .and_then(|rest| rest.chars().next())
                    .and_then(|c| c.to_digit(10))
                    .unwrap_or(0);
                f64::from(arm) * 10.0 + 20.0
            })
            .collect();
        FakeModel::json_chat_reply(FakeModel::verdicts_json(&scores))
    });
    let engine = engine(
        &fake,
        ModelOptions {
            user_temperature: 0.7,
            judge_model: Some("judge-model".to_owned()),
        },
    );
    let arms: Vec<Vec<Message>> = (1..=4)
        .map(|i| vec![Message::new(Role::User, format!("arm {i}"))])
        .collect();
    let transcripts: Vec<&[Message]> = arms.iter().map(Vec::as_slice).collect();
    let mut orders = std::collections::BTreeSet::new();
    for seed in 0..8 {
        let verdicts = engine
            .judge(JudgeRequest {
                transcripts: &transcripts,
                seed,
            })
            .await
            .expect("judged");
        let scores: Vec<f64> = verdicts
            .iter()
            .map(|v| v.metrics.get(Metric::Clarity))
            .collect();
        assert_eq!(scores, [30.0, 40.0, 50.0, 60.0], "seed {seed}");
        let shown = fake.requests().last().expect("a request").last_message();
        let order: Vec<usize> = (1..=4)
            .map(|i| shown.find(&format!("arm {i}")).expect("every arm shown"))
            .collect();
        orders.insert(order);
    }
    assert!(orders.len() > 1, "the order never changed");
    for request in fake.requests() {
        assert_eq!(request.body["model"], "judge-model");
        assert_eq!(request.kind(), CallKind::Verdicts);
        assert_eq!(request.body["temperature"].as_f64(), Some(0.0));
    }
}

#[tokio::test]
async fn a_judge_answering_out_of_scale_fails_as_a_malformed_reply() {
    // Completed conversations scored 8 and 9: a judge counting to 10.
    let mut tenths = FakeModel::verdicts_json(&[8.0, 9.0]);
    for verdict in tenths["verdicts"].as_array_mut().expect("a list") {
        verdict["taskCompleted"] = json!(true);
    }
    let over = FakeModel::verdicts_json(&[80.0, 120.0]);
    for reply in [tenths, over] {
        let fake = FakeModel::start().await;
        fake.push_reply(FakeModel::json_chat_reply(reply.clone()));
        let engine = ModelEngine::new(fake.config());
        let one = [Message::new(Role::User, "Hi")];
        let two = [Message::new(Role::User, "Hello")];
        let transcripts: [&[Message]; 2] = [&one, &two];
        let error = engine
            .judge(JudgeRequest {
                transcripts: &transcripts,
                seed: 3,
            })
            .await
            .expect_err("out of scale");
        assert_eq!(error.code(), "MODEL_MALFORMED_REPLY", "{reply}");
    }
}

#[tokio::test]
async fn the_simulated_agent_calls_the_logged_tools_and_gets_logged_outcomes() {
    let fake = FakeModel::start().await;
    fake.respond_with(|request| match request.kind() {
        CallKind::Agent
            if request.body["messages"]
                .as_array()
                .is_some_and(|m| m.iter().any(|m| m["role"] == "tool")) =>
        {
            FakeModel::chat_reply("The lookup failed; I will escalate.")
        }
        CallKind::Agent => FakeModel::raw_tool_call("lookup_order", r#"{"order":"1234"}"#),
        _ => FakeModel::chat_reply("Thanks. [DONE]"),
    });
    let tools = [LoggedTool {
        name: "lookup_order".to_owned(),
        description: Some("Finds an order.".to_owned()),
        parameters: json!({"type": "object", "properties": {"order": {"type": "string"}}}),
        samples: vec![ToolOutcome::Error("upstream timeout".to_owned())],
        calls: 1,
    }];
    let conversation = ModelEngine::new(fake.config())
        .simulate(simulation("You help with orders.", &tools, 9))
        .await
        .expect("simulates");
    let roles: Vec<Role> = conversation.messages.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [Role::User, Role::Assistant, Role::Assistant, Role::User]
    );
    let call = &conversation.messages[1]
        .tool_calls
        .as_ref()
        .expect("a call")[0];
    assert_eq!(call.name, "lookup_order");
    assert_eq!(call.arguments, json!({"order": "1234"}));
    assert_eq!(call.error.as_deref(), Some("upstream timeout"));
    assert_eq!(
        conversation.messages[2].content,
        "The lookup failed; I will escalate."
    );

    let requests = fake.requests();
    assert_eq!(
        requests[0].body["tools"][0]["function"]["name"],
        "lookup_order"
    );
    let answered = &requests[1].body["messages"];
    let tool_message = answered
        .as_array()
        .and_then(|m| m.iter().find(|m| m["role"] == "tool"))
        .expect("the tool's answer is sent back");
    assert_eq!(
        tool_message["content"],
        json!({"error": "upstream timeout"}).to_string()
    );
    assert_eq!(
        tool_message["tool_call_id"],
        answered[2]["tool_calls"][0]["id"]
    );
    // The user never sees the call, only what the agent said.
    let user_side = requests[2].messages();
    assert!(user_side
        .iter()
        .all(|(_, text)| !text.contains("lookup_order")));
}

#[tokio::test]
async fn the_agents_logged_tools_are_read_with_their_outcomes() {
    use crate::common::TestServer;
    use converra_api::PlanId;

    let server = TestServer::start().await;
    let key = server.key("Acme", PlanId::Pro).await;
    let (status, body) = server
        .post(
            "/agents",
            &key,
            json!({"name": "Support", "content": "You help with orders."}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let agent_id = body["data"]["id"].as_str().expect("an id").to_owned();
    for messages in [
        json!([
            {"role": "user", "content": "Where is A1?"},
            {"role": "assistant", "content": "Checking.",
             "toolCalls": [{"name": "lookup_order", "arguments": {"orderId": "A1"}, "error": "timeout"}]},
        ]),
        json!([
            {"role": "user", "content": "Where is A2?"},
            {"role": "assistant", "content": "Checking.",
             "toolCalls": [{"name": "lookup_order", "arguments": {"orderId": "A2"}}]},
            {"role": "tool", "content": "{\"status\": \"shipped\"}"},
        ]),
        json!([{"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hi!"}]),
    ] {
        let (status, body) = server
            .post(
                "/conversations",
                &key,
                json!({"agentId": agent_id, "messages": messages}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let (_, account) = server.get("/account", &key).await;
    let account_id = account["data"]["id"].as_str().expect("an id");
    let tools = server
        .store
        .logged_tools(account_id, &agent_id)
        .await
        .expect("read");
    assert_eq!(tools.len(), 1, "{tools:?}");
    assert_eq!(tools[0].name, "lookup_order");
    assert_eq!(tools[0].calls, 2);
    // Both conversations were logged at the same instant: their order is not fixed.
    assert_eq!(tools[0].samples.len(), 2);
    for outcome in [
        ToolOutcome::Error("timeout".to_owned()),
        ToolOutcome::Result(json!({"status": "shipped"})),
    ] {
        assert!(tools[0].samples.contains(&outcome), "{outcome:?}");
    }
    assert_eq!(
        tools[0].parameters,
        json!({"type": "object", "properties": {"orderId": {"type": "string"}}})
    );
}
