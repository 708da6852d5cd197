//! A fake OpenAI-compatible chat-completions endpoint on a loopback port: it answers from a
//! per-test script of replies (or a responder function once the script runs out), records
//! every request it gets and counts how many it serves at once.
//!
//! ```ignore
//! let fake = FakeModel::start().await;
//! fake.push_reply(FakeModel::json_chat_reply(json!({"variants": []})));
//! let engine = ModelEngine::new(fake.config());
//! ```

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use converra_api::insights::Metric;
use converra_server::engine::model::ModelConfig;
use serde_json::{json, Value};

/// The model name [`FakeModel::config`] asks for.
pub const FAKE_MODEL_NAME: &str = "fake-model";

/// The `usage` the reply helpers report unless told otherwise.
pub const FAKE_PROMPT_TOKENS: u64 = 30;
pub const FAKE_COMPLETION_TOKENS: u64 = 12;

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct FakeReply {
    pub status: u16,
    pub body: String,
    /// How long the fake waits before answering.
    pub delay: Duration,
    pub headers: Vec<(String, String)>,
}

impl FakeReply {
    /// Any status with a raw body.
    pub fn raw(status: u16, body: impl Into<String>) -> Self {
        FakeReply {
            status,
            body: body.into(),
            delay: Duration::ZERO,
            headers: Vec::new(),
        }
    }

    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// What the fake received.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub path: String,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    /// The JSON body (`null` when it was not JSON).
    pub body: Value,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the request asked for a structured reply (`response_format` `json_object`
    /// or `json_schema`).
    pub fn json_mode(&self) -> bool {
        let kind = &self.body["response_format"]["type"];
        kind == "json_object" || kind == "json_schema"
    }

    /// The name of the JSON schema sent, if one was.
    pub fn schema_name(&self) -> Option<&str> {
        self.body["response_format"]["json_schema"]["name"].as_str()
    }

    pub fn messages(&self) -> Vec<(String, String)> {
        self.body["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| {
                (
                    m["role"].as_str().unwrap_or_default().to_owned(),
                    m["content"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    /// The first system message's text.
    pub fn system(&self) -> String {
        self.messages()
            .into_iter()
            .find(|(role, _)| role == "system")
            .map(|(_, content)| content)
            .unwrap_or_default()
    }

    /// How many conversations a blind judge call shows.
    pub fn conversations_judged(&self) -> usize {
        let text = self.last_message();
        (1..)
            .take_while(|n| text.contains(&format!("Conversation {n} (")))
            .count()
    }

    /// The last message's text.
    pub fn last_message(&self) -> String {
        self.messages()
            .pop()
            .map(|(_, content)| content)
            .unwrap_or_default()
    }

    /// Which of the model engine's calls this is, told by its instructions.
    pub fn kind(&self) -> CallKind {
        let system = self.system();
        if self.json_mode() && self.last_message().contains("Variants wanted:") {
            CallKind::Variants
        } else if self.json_mode() && system.contains("\"verdicts\"") {
            CallKind::Verdicts
        } else if self.json_mode() && system.contains("reflecting on where they failed") {
            CallKind::Reflection
        } else if self.json_mode() {
            CallKind::Judge
        } else if system.contains("[DONE]") {
            CallKind::SimulatedUser
        } else {
            CallKind::Agent
        }
    }
}

/// The kinds of call the model engine makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CallKind {
    /// `analyze`: one conversation read in full.
    Judge,
    /// `judge`: the blind verdicts on a cell's transcripts.
    Verdicts,
    /// The reflective optimizer's mutation.
    Reflection,
    Variants,
    Agent,
    SimulatedUser,
}

/// Timings that keep tests fast: a 5 s timeout, 2 retries, a 5 ms first backoff. A
/// `fn(&mut ModelConfig)`, so it fits `ServerConfig::tune_model` when a test server talks
/// to this fake.
pub fn tune_for_tests(config: &mut ModelConfig) {
    config.timeout = Duration::from_secs(5);
    config.max_retries = 2;
    config.retry_base = Duration::from_millis(5);
}

type Responder = Arc<dyn Fn(&RecordedRequest) -> FakeReply + Send + Sync>;

#[derive(Default)]
struct FakeState {
    /// Whether requests are kept for [`FakeModel::requests`] (not for long runs).
    unrecorded: bool,
    script: Mutex<VecDeque<FakeReply>>,
    responder: Mutex<Option<Responder>>,
    requests: Mutex<Vec<RecordedRequest>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// Requests served, by kind, recorded or not.
    calls: Mutex<std::collections::BTreeMap<CallKind, usize>>,
}

/// Lowers the in-flight count however the request ends (also when the client gives up
/// and the handler is dropped mid-delay).
struct InFlight(Arc<FakeState>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

pub struct FakeModel {
    /// `http://127.0.0.1:PORT/v1`: what a [`ModelConfig`]'s `base_url` takes.
    pub base_url: String,
    state: Arc<FakeState>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl FakeModel {
    pub async fn start() -> FakeModel {
        Self::start_with(FakeState::default()).await
    }

    /// A fake that keeps no requests: for runs of thousands of calls.
    pub async fn start_unrecorded() -> FakeModel {
        Self::start_with(FakeState {
            unrecorded: true,
            ..FakeState::default()
        })
        .await
    }

    async fn start_with(state: FakeState) -> FakeModel {
        let state = Arc::new(state);
        let app = Router::new()
            .route("/v1/chat/completions", post(answer))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake model");
        let base_url = format!("http://{}/v1", listener.local_addr().expect("addr"));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        FakeModel {
            base_url,
            state,
            shutdown: Some(tx),
        }
    }

    /// A configuration pointing at this fake, with a key and [`tune_for_tests`]'s timings.
    pub fn config(&self) -> ModelConfig {
        let mut config = ModelConfig::new(self.base_url.clone(), FAKE_MODEL_NAME);
        config.api_key = Some("sk-test-key".to_owned());
        tune_for_tests(&mut config);
        config
    }

    /// Queues a reply; queued replies are served first, in order.
    pub fn push_reply(&self, reply: FakeReply) {
        self.state.script.lock().expect("lock").push_back(reply);
    }

    pub fn push_replies(&self, replies: impl IntoIterator<Item = FakeReply>) {
        self.state.script.lock().expect("lock").extend(replies);
    }

    /// Answers every request the script does not cover. Without one, an unscripted request
    /// gets a 500 saying so.
    pub fn respond_with(
        &self,
        responder: impl Fn(&RecordedRequest) -> FakeReply + Send + Sync + 'static,
    ) {
        *self.state.responder.lock().expect("lock") = Some(Arc::new(responder));
    }

    /// Answers every call the way a cooperative model would: a good analysis, `count`
    /// distinct variants, a helpful agent and a user who is satisfied after one answer.
    pub fn behave_well(&self) {
        self.respond_with(|request| match request.kind() {
            CallKind::Judge => FakeModel::json_chat_reply(FakeModel::analysis_json(85.0)),
            CallKind::Verdicts => FakeModel::json_chat_reply(FakeModel::verdicts_json(
                &vec![85.0; request.conversations_judged()],
            )),
            CallKind::Reflection => FakeModel::json_chat_reply(json!({
                "prompt": "You are a helpful support agent. Ask for the order number before acting.",
                "changeSummary": "Asks for the order number first."
            })),
            CallKind::Variants => {
                let wanted = request
                    .last_message()
                    .rsplit("Variants wanted:")
                    .next()
                    .and_then(|n| n.trim().parse::<usize>().ok())
                    .unwrap_or(1);
                FakeModel::json_chat_reply(FakeModel::variants_json(wanted))
            }
            CallKind::Agent => {
                FakeModel::chat_reply("I can help with that. What is your order number?")
            }
            CallKind::SimulatedUser => FakeModel::chat_reply("It is 1234, thanks! [DONE]"),
        });
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.requests.lock().expect("lock").clone()
    }

    /// How many requests of each kind the fake has served (also when unrecorded).
    pub fn calls(&self) -> std::collections::BTreeMap<CallKind, usize> {
        self.state.calls.lock().expect("lock").clone()
    }

    /// The most requests the fake was serving at the same moment.
    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }

    /// A 200 chat completion whose message is `text`, with the default usage.
    pub fn chat_reply(text: &str) -> FakeReply {
        Self::chat_reply_with_usage(text, Some((FAKE_PROMPT_TOKENS, FAKE_COMPLETION_TOKENS)))
    }

    /// A 200 chat completion with the given `usage`, or none.
    pub fn chat_reply_with_usage(text: &str, usage: Option<(u64, u64)>) -> FakeReply {
        let mut body = json!({
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "model": FAKE_MODEL_NAME,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop"
            }],
        });
        if let Some((prompt, completion)) = usage {
            body["usage"] = json!({
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion
            });
        }
        FakeReply::raw(200, body.to_string())
    }

    /// A 200 chat completion in which the model calls `name` with `arguments` (JSON text)
    /// and writes nothing.
    pub fn raw_tool_call(name: &str, arguments: &str) -> FakeReply {
        let body = json!({
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "model": FAKE_MODEL_NAME,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": null, "tool_calls": [{
                    "id": "call_fake_1",
                    "type": "function",
                    "function": {"name": name, "arguments": arguments}
                }]},
                "finish_reason": "tool_calls"
            }],
            "usage": {"prompt_tokens": FAKE_PROMPT_TOKENS, "completion_tokens": FAKE_COMPLETION_TOKENS}
        });
        FakeReply::raw(200, body.to_string())
    }

    /// A 200 chat completion whose message is `content` serialised: a JSON-mode answer.
    pub fn json_chat_reply(content: Value) -> FakeReply {
        Self::chat_reply(&content.to_string())
    }

    /// An error status with an OpenAI-style `{"error":{"message"}}` body.
    pub fn error_reply(status: u16, message: &str) -> FakeReply {
        FakeReply::raw(
            status,
            json!({"error": {"message": message, "type": "fake_error"}}).to_string(),
        )
    }

    /// A well-formed judge answer with every metric at `score`, the task completed and no
    /// issues.
    pub fn analysis_json(score: f64) -> Value {
        let metrics: serde_json::Map<String, Value> = Metric::ALL
            .iter()
            .map(|m| (m.as_str().to_owned(), json!(score)))
            .collect();
        json!({
            "title": "Order status question",
            "executiveSummary": "The user asked about an order and got an answer.",
            "summary": "The user asked where their order was; the assistant asked for the order number and answered.",
            "userFacingSummary": "We looked up your order.",
            "metrics": metrics,
            "issues": [],
            "additionalConcerns": [],
            "nextSteps": ["Keep the prompt as it is."],
            "keywords": ["order", "status"],
            "topics": ["orders"],
            "sentiment": "positive",
            "sentimentScore": 0.8,
            "taskCompleted": true,
            "businessImpact": "A resolved request keeps the customer."
        })
    }

    /// A well-formed blind-judge answer: conversation `k + 1` scored `scores[k]` on every
    /// metric, completed when at least 50, with one reason when below 70.
    pub fn verdicts_json(scores: &[f64]) -> Value {
        let verdicts: Vec<Value> = scores
            .iter()
            .enumerate()
            .map(|(k, score)| {
                let metrics: serde_json::Map<String, Value> = Metric::ALL
                    .iter()
                    .map(|m| (m.as_str().to_owned(), json!(score)))
                    .collect();
                let reasons: Vec<&str> = if *score < 70.0 {
                    vec!["The assistant did not resolve the request."]
                } else {
                    Vec::new()
                };
                json!({"conversation": k + 1, "metrics": metrics,
                       "taskCompleted": *score >= 50.0, "reasons": reasons})
            })
            .collect();
        json!({ "verdicts": verdicts })
    }

    /// A well-formed rewriter answer with `count` distinct variants.
    pub fn variants_json(count: usize) -> Value {
        let variants: Vec<Value> = (1..=count)
            .map(|i| {
                json!({
                    "content": format!("You are a helpful support agent (variant {i}). Ask for the order number before acting."),
                    "changeSummary": format!("Variant {i}: asks for missing details first."),
                    "addresses": ["missing_details"]
                })
            })
            .collect();
        json!({ "variants": variants })
    }
}

impl Drop for FakeModel {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

async fn answer(State(state): State<Arc<FakeState>>, headers: HeaderMap, body: Bytes) -> Response {
    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let _in_flight = InFlight(state.clone());

    let request = RecordedRequest {
        path: "/v1/chat/completions".to_owned(),
        headers: headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_ascii_lowercase(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    *state
        .calls
        .lock()
        .expect("lock")
        .entry(request.kind())
        .or_default() += 1;
    if !state.unrecorded {
        state.requests.lock().expect("lock").push(request.clone());
    }

    let scripted = state.script.lock().expect("lock").pop_front();
    let reply = match scripted {
        Some(reply) => reply,
        None => {
            let responder = state.responder.lock().expect("lock").clone();
            match responder {
                Some(responder) => responder(&request),
                None => FakeModel::error_reply(500, "fake model: no scripted reply left"),
            }
        }
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response = (
        StatusCode::from_u16(reply.status).expect("a valid status"),
        reply.body,
    )
        .into_response();
    let response_headers = response.headers_mut();
    response_headers.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    for (name, value) in reply.headers {
        response_headers.insert(
            HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            HeaderValue::from_str(&value).expect("header value"),
        );
    }
    response
}
