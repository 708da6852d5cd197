//! Simulated worlds behind an OpenAI-compatible fixture (the fake model of `common`), for
//! testing what optimizations conclude with a model engine:
//!
//! - the **null world**: every reply is a pure function of the request (a hash of it), and
//!   the judge scores a transcript from a hash of that transcript alone, with hash-drawn
//!   noise. No prompt is better than another, so any winner named is a false positive. A
//!   variant ignores the request's `seed`, as some servers do: the replicates of a cell are
//!   then the same conversation.
//! - the **known-fix world**: the simulated user asks how long they have to ask for a
//!   refund, and the agent answers well only when its prompt states [`FACT`]. The judge
//!   scores the right answer high and, otherwise, says in its reasons what the agent should
//!   have known, so the failing transcripts reveal the fact; the reflector adds the fact to
//!   the prompt only when the feedback it is shown contains it.

use converra_api::insights::Metric;
use converra_api::PlanId;
use converra_server::engine::rng::fnv1a;
use converra_server::state::ServerConfig;
use serde_json::{json, Map, Value};

use crate::common::fake_model::{tune_for_tests, CallKind, FakeModel, FakeReply, RecordedRequest};
use crate::common::TestServer;

/// The fact the known-fix world's agent must be told.
pub const FACT: &str = "Refunds are accepted within 45 days of delivery.";
/// What shows that a text states the fact.
pub const FACT_MARK: &str = "45 days";
/// What the known-fix world's user asks after the opening.
pub const QUESTION: &str = "How many days do I have to ask for a refund?";
/// The agent's prompt the known-fix tests start from: everything but the fact.
pub const PROMPT_WITHOUT_FACT: &str =
    "You are the support agent of Acme Shop. Answer customers' questions about their orders politely and precisely.";

/// Whether a world's server honours the request's `seed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seeds {
    Honoured,
    /// Replies depend on the request without its seed: replicates are identical.
    Ignored,
}

/// A server configuration that lets accounts reach a world on loopback, with short
/// timeouts.
pub fn server_config() -> ServerConfig {
    ServerConfig {
        allow_private_network: true,
        tune_model: tune_for_tests,
        ..Default::default()
    }
}

/// An enterprise account on `server` whose model is the world at `base_url`; returns its key.
pub async fn account_in_world(server: &TestServer, name: &str, base_url: &str) -> String {
    let key = server.key(name, PlanId::Enterprise).await;
    let (status, body) = server
        .patch(
            "/settings",
            &key,
            json!({"llm": {"baseUrl": base_url, "model": "world"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    key
}

/// The null world.
pub async fn null_world(seeds: Seeds) -> FakeModel {
    let world = FakeModel::start_unrecorded().await;
    world.respond_with(move |request| null_reply(request, seeds));
    world
}

/// The known-fix world (it honours seeds).
pub async fn known_fix_world() -> FakeModel {
    let world = FakeModel::start_unrecorded().await;
    world.respond_with(known_fix_reply);
    world
}

/// Whether a prompt states the known fix.
pub fn states_the_fact(prompt: &str) -> bool {
    prompt.contains(FACT_MARK)
}

fn null_reply(request: &RecordedRequest, seeds: Seeds) -> FakeReply {
    let hash = request_hash(request, seeds);
    match request.kind() {
        CallKind::Agent => FakeModel::chat_reply(&format!(
            "{} (ref {:04x})",
            pick(
                hash,
                &[
                    "I can help with that.",
                    "Let me look into it for you.",
                    "Thanks for asking; here is what I know.",
                    "Sure, one moment.",
                ]
            ),
            hash % 0x10000
        )),
        CallKind::SimulatedUser => {
            let line = pick(
                hash >> 8,
                &["Okay, and then?", "That does not help.", "Thanks."],
            );
            let done = if hash.is_multiple_of(3) {
                " [DONE]"
            } else {
                ""
            };
            // As unique as the request: users in different cells do not say the same thing
            // word for word, and a judge hashing transcripts must not see them collide.
            FakeModel::chat_reply(&format!("{line} (ref {:04x}){done}", hash % 0x10000))
        }
        CallKind::Verdicts => {
            let verdicts: Vec<Value> = shown_transcripts(&request.last_message())
                .iter()
                .enumerate()
                .map(|(k, transcript)| {
                    let hash = fnv1a(transcript.as_bytes());
                    let base = 40.0 + (hash % 41) as f64;
                    verdict(k + 1, transcript, base, base >= 60.0, &[])
                })
                .collect();
            FakeModel::json_chat_reply(json!({ "verdicts": verdicts }))
        }
        CallKind::Judge => {
            let hash = fnv1a(request.last_message().as_bytes());
            FakeModel::json_chat_reply(FakeModel::analysis_json(40.0 + (hash % 41) as f64))
        }
        CallKind::Variants => FakeModel::json_chat_reply(variants(request, hash, "")),
        CallKind::Reflection => FakeModel::json_chat_reply(json!({
            "prompt": format!("{} Answer briefly (note {:04x}).", current_prompt(request), hash % 0x10000),
            "changeSummary": "Asked for brevity."
        })),
    }
}

fn known_fix_reply(request: &RecordedRequest) -> FakeReply {
    let hash = request_hash(request, Seeds::Honoured);
    match request.kind() {
        CallKind::Agent => {
            let asked = request.last_message().contains("refund");
            let text = match (asked, states_the_fact(&request.system())) {
                (true, true) => {
                    "You have 45 days from delivery to ask for a refund; I can start it now."
                }
                (true, false) => {
                    "I am not sure how long the refund window is; it may be 30 days, or 14."
                }
                (false, _) => pick(
                    hash,
                    &[
                        "I can help with your order. What else do you need?",
                        "Happy to help. Is there anything else about this order?",
                    ],
                ),
            };
            FakeModel::chat_reply(text)
        }
        CallKind::SimulatedUser => {
            // The user's own lines are the assistant's turns on its side of the chat.
            let asked = request
                .messages()
                .iter()
                .any(|(role, text)| role == "assistant" && text.contains(QUESTION));
            if asked {
                FakeModel::chat_reply("Thanks. [DONE]")
            } else {
                FakeModel::chat_reply(QUESTION)
            }
        }
        CallKind::Verdicts => {
            let verdicts: Vec<Value> = shown_transcripts(&request.last_message())
                .iter()
                .enumerate()
                .map(|(k, transcript)| known_fix_verdict(k + 1, transcript))
                .collect();
            FakeModel::json_chat_reply(json!({ "verdicts": verdicts }))
        }
        CallKind::Judge => {
            let verdict = known_fix_verdict(1, &request.last_message());
            let mut analysis = FakeModel::analysis_json(50.0);
            analysis["metrics"] = verdict["metrics"].clone();
            analysis["taskCompleted"] = verdict["taskCompleted"].clone();
            FakeModel::json_chat_reply(analysis)
        }
        CallKind::Variants => FakeModel::json_chat_reply(variants(request, hash, " Be concise.")),
        CallKind::Reflection => {
            let text = request.last_message();
            // Only what follows the current prompt is feedback.
            let feedback = text.split_once("\n>>>").map_or("", |(_, rest)| rest);
            let prompt = current_prompt(request);
            let (new, summary) = if feedback.contains(FACT_MARK) {
                (format!("{prompt} {FACT}"), "Stated the refund window.")
            } else {
                (
                    format!("{prompt} Be warm and thank the customer."),
                    "Made the tone warmer.",
                )
            };
            FakeModel::json_chat_reply(json!({"prompt": new, "changeSummary": summary}))
        }
    }
}

/// The verdict of the known-fix world's judge on one transcript.
fn known_fix_verdict(conversation: usize, transcript: &str) -> Value {
    let answered = transcript
        .lines()
        .any(|line| line.contains("] Assistant:") && line.contains(FACT_MARK));
    let asked = transcript.contains(QUESTION);
    let hash = fnv1a(transcript.as_bytes());
    let jitter = (hash % 7) as f64;
    if answered {
        verdict(conversation, transcript, 84.0 + jitter, true, &[])
    } else if asked {
        verdict(
            conversation,
            transcript,
            30.0 + jitter,
            false,
            &[
                "The user asked how many days they have to ask for a refund and the assistant \
did not know; refunds are accepted within 45 days of delivery, and the assistant should have \
said so.",
            ],
        )
    } else {
        verdict(conversation, transcript, 60.0 + jitter, true, &[])
    }
}

/// One verdict: every metric `base` plus noise drawn from the transcript's hash.
fn verdict(
    conversation: usize,
    transcript: &str,
    base: f64,
    done: bool,
    reasons: &[&str],
) -> Value {
    let metrics: Map<String, Value> = Metric::ALL
        .iter()
        .map(|m| {
            let noise = (fnv1a(format!("{}:{transcript}", m.as_str()).as_bytes()) % 21) as f64;
            let score = (base + noise - 10.0).clamp(0.0, 100.0).round();
            (m.as_str().to_owned(), json!(score))
        })
        .collect();
    json!({"conversation": conversation, "metrics": metrics, "taskCompleted": done,
           "reasons": reasons})
}

/// The transcripts a blind judge call shows, in the order shown (headers left out).
fn shown_transcripts(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for n in 1.. {
        let header = format!("Conversation {n} (");
        let Some(start) = text.find(&header) else {
            break;
        };
        let body = &text[start..];
        let body = body.split_once('\n').map_or("", |(_, rest)| rest);
        let next = format!("Conversation {} (", n + 1);
        let end = body
            .find(&next)
            .or_else(|| body.find("Answer with the JSON object"))
            .unwrap_or(body.len());
        out.push(body[..end].trim().to_owned());
    }
    out
}

/// The hash of the request, without its seed when the server ignores seeds.
fn request_hash(request: &RecordedRequest, seeds: Seeds) -> u64 {
    let mut body = request.body.clone();
    if let (Seeds::Ignored, Some(object)) = (seeds, body.as_object_mut()) {
        object.remove("seed");
    }
    fnv1a(body.to_string().as_bytes())
}

fn pick<'a>(hash: u64, options: &[&'a str]) -> &'a str {
    options[(hash % options.len() as u64) as usize]
}

/// The prompt quoted in a rewriter's or reflector's request.
fn current_prompt(request: &RecordedRequest) -> String {
    let text = request.last_message();
    text.split_once("<<<\n")
        .and_then(|(_, rest)| rest.split_once("\n>>>"))
        .map_or_else(String::new, |(prompt, _)| prompt.to_owned())
}

/// The rewriter's answer: as many variants as asked, none stating anything new.
fn variants(request: &RecordedRequest, hash: u64, addition: &str) -> Value {
    let wanted = request
        .last_message()
        .rsplit("Variants wanted:")
        .next()
        .and_then(|n| n.trim().parse::<usize>().ok())
        .unwrap_or(1);
    let prompt = current_prompt(request);
    let variants: Vec<Value> = (1..=wanted)
        .map(|i| {
            json!({
                "content": format!("{prompt}{addition} (Rewrite {i}, {:04x}.)", hash % 0x10000),
                "changeSummary": format!("Rewrite {i}."),
                "addresses": []
            })
        })
        .collect();
    json!({ "variants": variants })
}

async fn judged(
    engine: &converra_server::engine::model::ModelEngine,
    transcripts: &[&[converra_api::conversations::Message]],
    seed: u64,
) -> Vec<converra_server::engine::Verdict> {
    use converra_server::engine::{Engine, JudgeRequest};
    engine
        .judge(JudgeRequest { transcripts, seed })
        .await
        .expect("judged")
}

#[tokio::test]
async fn the_null_world_answers_from_the_request_and_judges_from_the_transcript_alone() {
    use converra_api::conversations::{Message, Role};
    use converra_server::engine::model::ModelEngine;

    for seeds in [Seeds::Honoured, Seeds::Ignored] {
        let world = null_world(seeds).await;
        let engine = ModelEngine::new(world.config());
        let a = [
            Message::new(Role::User, "Where is my order?"),
            Message::new(Role::Assistant, "Let me look."),
        ];
        let b = [
            Message::new(Role::User, "Where is my order?"),
            Message::new(Role::Assistant, "One moment."),
        ];
        // A transcript's scores do not depend on what it is shown with, nor in what order.
        let together = judged(&engine, &[&a, &b], 1).await;
        let reversed = judged(&engine, &[&b, &a], 2).await;
        let alone = judged(&engine, &[&a], 3).await;
        assert_eq!(together[0].metrics, reversed[1].metrics);
        assert_eq!(together[0].metrics, alone[0].metrics);
        assert_ne!(together[0].metrics, together[1].metrics);
    }
}

#[tokio::test]
async fn in_the_known_fix_world_only_a_prompt_with_the_fact_answers_well_and_feedback_reveals_it() {
    use converra_api::conversations::Message;
    use converra_server::engine::model::ModelEngine;
    use converra_server::engine::personas::{personas, scenarios};
    use converra_server::engine::reflective::{ReflectionRequest, Reflector, Trial};
    use converra_server::engine::{Engine, SimulationRequest};

    let world = known_fix_world().await;
    let engine = ModelEngine::new(world.config());
    let with_fact = format!("{PROMPT_WITHOUT_FACT} {FACT}");
    let mut played: Vec<Vec<Message>> = Vec::new();
    for prompt in [PROMPT_WITHOUT_FACT, with_fact.as_str()] {
        let conversation = engine
            .simulate(SimulationRequest {
                prompt,
                persona: &personas()[0],
                scenario: &scenarios()[0],
                max_turns: 6,
                tools: &[],
                seed: 4,
            })
            .await
            .expect("simulates");
        played.push(conversation.messages);
    }
    let transcripts: Vec<&[Message]> = played.iter().map(Vec::as_slice).collect();
    let verdicts = judged(&engine, &transcripts, 4).await;
    assert!(
        verdicts[1].metrics.overall() > verdicts[0].metrics.overall() + 30.0,
        "{verdicts:?}"
    );
    assert!(verdicts[1].reasons.is_empty());
    assert!(verdicts[0].reasons[0].contains(FACT_MARK));

    for (reasons, fixed) in [
        (verdicts[0].reasons.clone(), true),
        (vec!["The answer was vague.".to_owned()], false),
    ] {
        let trial = Trial {
            metrics: verdicts[0].metrics,
            messages: played[0].clone(),
            reasons,
            engine_tokens: 0,
        };
        let reflected = engine
            .reflect(ReflectionRequest {
                prompt: PROMPT_WITHOUT_FACT,
                failures: &[&trial],
                constraints: &[],
                objectives: None,
                seed: 1,
            })
            .await
            .expect("reflected")
            .content;
        assert_eq!(states_the_fact(&reflected), fixed, "{reflected}");
    }
}
