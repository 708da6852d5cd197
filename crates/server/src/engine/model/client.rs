//! A small client for OpenAI-compatible chat-completions endpoints (OpenAI, vLLM, Ollama,
//! llama.cpp server): one call, retried on the failures that pass, bounded in concurrency.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use converra_api::settings::StructuredOutputs;
use serde::{Serialize, Serializer};
use serde_json::{json, Value};
use tokio::sync::Semaphore;

use crate::egress::{check_url_literal, guarded_client, Destination};
use crate::engine::EngineError;

/// The longest a `Retry-After` header may make us wait before the next attempt: a provider
/// asking for minutes is better answered by failing and letting the caller retry later.
const RETRY_AFTER_CAP: Duration = Duration::from_secs(30);

/// The longest exponential backoff between two attempts.
const BACKOFF_CAP: Duration = Duration::from_secs(30);

/// The largest reply read: a chat completion is far smaller, and an endpoint sending more
/// must not fill the server's memory.
pub const MAX_REPLY_BYTES: usize = 4 * 1024 * 1024;

/// The most of a 400's body read to tell whether the endpoint refused the schema.
const MAX_REFUSAL_BYTES: usize = 64 * 1024;

/// Whose endpoint a client talks to, which decides what it may connect to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndpointOwner {
    /// The operator's, named by the server's flags: trusted and reached as configured.
    Operator,
    /// An account's (`llm.baseUrl`), which any caller with a key can set: held to
    /// `crate::egress`'s policy, with private networks reachable only when allowed.
    Account { allow_private: bool },
}

/// Where the model is and how to talk to it.
#[derive(Clone, PartialEq, Eq)]
pub struct ModelConfig {
    /// The API root, ending before `/chat/completions`: `https://api.openai.com/v1`,
    /// `http://localhost:11434/v1` (Ollama), `http://localhost:8000/v1` (vLLM).
    pub base_url: String,
    /// The model name the endpoint knows (`gpt-4o-mini`, `llama3.1:8b`, …).
    pub model: String,
    /// Sent as `Authorization: Bearer …` when set; local servers usually need none.
    pub api_key: Option<String>,
    /// How long one attempt may take, from sending the request to the last byte of the reply.
    pub timeout: Duration,
    /// Attempts after the first on 429, 5xx, timeouts and connection errors.
    pub max_retries: u32,
    /// Requests in flight at once through one client (and its clones).
    pub max_concurrency: usize,
    /// The first backoff; each further retry waits twice as long.
    pub retry_base: Duration,
    /// Who named the endpoint.
    pub owner: EndpointOwner,
    /// How structured replies are asked for (`llm.structuredOutputs`).
    pub structured_outputs: StructuredOutputs,
}

impl ModelConfig {
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
    pub const DEFAULT_MAX_RETRIES: u32 = 3;
    pub const DEFAULT_MAX_CONCURRENCY: usize = 4;
    pub const DEFAULT_RETRY_BASE: Duration = Duration::from_millis(500);

    /// A configuration with the defaults: no key, 60 s per attempt, 3 retries, 4 requests
    /// at once, 500 ms first backoff.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        ModelConfig {
            base_url: base_url.into(),
            model: model.into(),
            api_key: None,
            timeout: Self::DEFAULT_TIMEOUT,
            max_retries: Self::DEFAULT_MAX_RETRIES,
            max_concurrency: Self::DEFAULT_MAX_CONCURRENCY,
            retry_base: Self::DEFAULT_RETRY_BASE,
            owner: EndpointOwner::Operator,
            structured_outputs: StructuredOutputs::Auto,
        }
    }

    /// The full URL of the chat-completions call.
    pub fn completions_url(&self) -> String {
        format!("{}/chat/completions", self.base_url.trim_end_matches('/'))
    }
}

// Written by hand so that the key never reaches a log line through `{:?}`.
impl std::fmt::Debug for ModelConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelConfig")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("max_concurrency", &self.max_concurrency)
            .field("retry_base", &self.retry_base)
            .field("owner", &self.owner)
            .field("structured_outputs", &self.structured_outputs)
            .finish()
    }
}

/// Who says a [`ChatMessage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    System,
    User,
    Assistant,
    /// The answer to one of the assistant's tool calls.
    Tool,
}

/// A tool call the model asked for, or one of its earlier calls repeated back to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatToolCall {
    pub id: String,
    pub name: String,
    /// The arguments as the model wrote them: JSON text, which it may have got wrong.
    pub arguments: String,
}

impl Serialize for ChatToolCall {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        json!({
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        })
        .serialize(serializer)
    }
}

/// One message of a chat-completions request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatMessage {
    pub role: ChatRole,
    pub content: String,
    /// An assistant turn's tool calls.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ChatToolCall>,
    /// A tool message's call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl ChatMessage {
    fn of(role: ChatRole, content: String) -> Self {
        ChatMessage {
            role,
            content,
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }

    pub fn system(content: impl Into<String>) -> Self {
        Self::of(ChatRole::System, content.into())
    }

    pub fn user(content: impl Into<String>) -> Self {
        Self::of(ChatRole::User, content.into())
    }

    pub fn assistant(content: impl Into<String>) -> Self {
        Self::of(ChatRole::Assistant, content.into())
    }

    /// An assistant turn that called tools (its text may be empty).
    pub fn assistant_calls(content: impl Into<String>, calls: Vec<ChatToolCall>) -> Self {
        ChatMessage {
            tool_calls: calls,
            ..Self::of(ChatRole::Assistant, content.into())
        }
    }

    /// The answer to the call `call_id`.
    pub fn tool(call_id: impl Into<String>, content: impl Into<String>) -> Self {
        ChatMessage {
            tool_call_id: Some(call_id.into()),
            ..Self::of(ChatRole::Tool, content.into())
        }
    }
}

/// The JSON schema a structured reply must follow.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// `^[a-zA-Z0-9_-]{1,64}$`, as OpenAI requires.
    pub name: &'static str,
    /// A strict schema: every object lists all its properties as required and allows no
    /// others.
    pub schema: Value,
}

/// What one call asks for beyond its messages.
#[derive(Debug, Clone, Copy)]
pub struct CallOptions<'a> {
    /// A structured reply following this schema; the instructions must say "JSON" too, as
    /// OpenAI requires for the `json_object` fallback.
    pub json: Option<&'a Schema>,
    /// Sent as `seed`, so that an endpoint that honours it samples the same way again.
    pub seed: u64,
    pub temperature: f64,
    /// Another model than the configured one, on the same endpoint.
    pub model: Option<&'a str>,
    /// Functions the model may call: the `tools` list of the request, as sent.
    pub tools: Option<&'a Value>,
}

impl CallOptions<'_> {
    /// A deterministic call (temperature 0) with `seed`, plain text, the configured model.
    pub fn new(seed: u64) -> Self {
        CallOptions {
            json: None,
            seed,
            temperature: 0.0,
            model: None,
            tools: None,
        }
    }
}

/// The `seed` sent: 31 bits of the derived seed, since servers read it into types as small
/// as llama.cpp's `uint32` and as signed as vLLM's `int64`.
fn wire_seed(seed: u64) -> u32 {
    (seed >> 33) as u32
}

/// The model's answer to one call.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// The reply's text; empty when the model only called tools.
    pub content: String,
    pub tool_calls: Vec<ChatToolCall>,
    /// From the reply's `usage`, or estimated from the text when the endpoint sends none.
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// How long the attempt that succeeded took (retries and backoff left out).
    pub latency_ms: f64,
}

impl Completion {
    pub fn total_tokens(&self) -> u64 {
        // The counts come from the endpoint's reply, which may say anything.
        self.prompt_tokens.saturating_add(self.completion_tokens)
    }
}

/// A chat-completions client. Cheap to clone; clones share the connection pool and the
/// concurrency limit.
#[derive(Clone)]
pub struct ChatClient {
    /// Why no client could be built, when none could: every call then fails with it.
    http: Result<reqwest::Client, String>,
    permits: Arc<Semaphore>,
    /// The calling account's share of `permits`, when several accounts share this client
    /// (see [`ChatClient::for_account`]).
    account_permits: Option<Arc<Semaphore>>,
    config: Arc<ModelConfig>,
    /// Set once the endpoint refused a JSON schema under `auto`: later calls ask for a JSON
    /// object straight away.
    schemas_refused: Arc<AtomicBool>,
}

impl std::fmt::Debug for ChatClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// What one request brought back, before it is judged.
enum Received {
    /// A status other than 2xx, with `Retry-After` if sent. The body is never shown to
    /// anyone; a 400's start is read only to tell whether it is about `response_format`.
    Refusal {
        status: u16,
        retry_after: Option<Duration>,
        about_response_format: bool,
    },
    /// A 2xx reply's body.
    Body(Vec<u8>),
    /// A 2xx reply longer than [`MAX_REPLY_BYTES`], left unread past that.
    TooLarge,
}

/// What one attempt ended with.
enum Attempt {
    Done(Completion),
    /// Worth another attempt; `retry_after` is the provider's own wish, if it said one.
    Retry {
        error: EngineError,
        retry_after: Option<Duration>,
    },
    Fail(EngineError),
    /// A 400 about `response_format` to a request that sent a JSON schema.
    SchemaRefused,
}

/// The `response_format` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Schema,
    Object,
}

/// How long connecting to an endpoint may take: an endpoint that does not accept
/// connections fails fast instead of holding a permit for the whole call's timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl ChatClient {
    pub fn new(config: ModelConfig) -> Self {
        let builder = reqwest::Client::builder().connect_timeout(CONNECT_TIMEOUT);
        let http = match config.owner {
            EndpointOwner::Operator => builder.build(),
            EndpointOwner::Account { allow_private } => guarded_client(builder, allow_private),
        }
        .map_err(|error| describe_error(&error));
        ChatClient {
            http,
            permits: Arc::new(Semaphore::new(config.max_concurrency.max(1))),
            account_permits: None,
            config: Arc::new(config),
            schemas_refused: Arc::new(AtomicBool::new(false)),
        }
    }

    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// This client for one account, which may hold at most `permits` of its calls in flight
    /// at once: accounts sharing an endpoint (the operator's) share its slots, and one whose
    /// calls hang cannot take them all.
    pub fn for_account(&self, permits: Arc<Semaphore>) -> ChatClient {
        ChatClient {
            account_permits: Some(permits),
            ..self.clone()
        }
    }

    /// Sends `messages` and returns the first choice's text (and tool calls). A structured
    /// call sends its schema (`response_format: json_schema`, strict) or asks for a JSON
    /// object, as `llm.structuredOutputs` says; under `auto` an endpoint that refuses the
    /// schema (a 400 about `response_format`) is asked again for a JSON object, and is
    /// asked that way from then on.
    pub async fn complete(
        &self,
        messages: &[ChatMessage],
        options: &CallOptions<'_>,
    ) -> Result<Completion, EngineError> {
        let mut format = options.json.map(|_| match self.config.structured_outputs {
            StructuredOutputs::JsonSchema => Format::Schema,
            StructuredOutputs::JsonObject => Format::Object,
            StructuredOutputs::Auto if self.schemas_refused.load(Ordering::Relaxed) => {
                Format::Object
            }
            StructuredOutputs::Auto => Format::Schema,
        });
        let mut body = self.request_body(messages, options, format);
        let prompt_chars: usize = messages.iter().map(|m| m.content.chars().count()).sum();
        let attempts = self.config.max_retries.saturating_add(1);
        let mut attempt = 1;
        loop {
            let outcome = self.attempt(&body, prompt_chars, attempt).await;
            let (error, retry_after) = match outcome {
                Attempt::Done(completion) => return Ok(completion),
                Attempt::Fail(error) => return Err(error),
                Attempt::SchemaRefused
                    if format == Some(Format::Schema)
                        && self.config.structured_outputs == StructuredOutputs::Auto =>
                {
                    tracing::info!(
                        model = %self.config.model,
                        "the model endpoint refused a JSON schema: asking for JSON objects from now on"
                    );
                    self.schemas_refused.store(true, Ordering::Relaxed);
                    format = Some(Format::Object);
                    body = self.request_body(messages, options, format);
                    // The refusal was an answer, not a failure: it uses up no attempt.
                    continue;
                }
                Attempt::SchemaRefused => return Err(EngineError::Upstream { status: 400 }),
                Attempt::Retry { error, retry_after } => (error, retry_after),
            };
            if attempt >= attempts {
                return Err(match error {
                    // Only now is "rate limited" the verdict: earlier 429s were waited out.
                    EngineError::RateLimited { .. } => EngineError::RateLimited { attempts },
                    other => other,
                });
            }
            let wait = self.backoff(attempt, retry_after);
            tracing::debug!(
                model = %self.config.model,
                attempt,
                wait_ms = wait.as_millis() as u64,
                error = %error,
                "retrying the language model call"
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    fn request_body(
        &self,
        messages: &[ChatMessage],
        options: &CallOptions<'_>,
        format: Option<Format>,
    ) -> Value {
        let mut body = json!({
            "model": options.model.unwrap_or(&self.config.model),
            "messages": messages,
            "temperature": options.temperature,
            "seed": wire_seed(options.seed),
        });
        if let Some(tools) = options.tools {
            body["tools"] = tools.clone();
        }
        match (format, options.json) {
            (Some(Format::Schema), Some(schema)) => {
                body["response_format"] = json!({
                    "type": "json_schema",
                    "json_schema": {"name": schema.name, "strict": true, "schema": schema.schema},
                });
            }
            (Some(_), _) => body["response_format"] = json!({ "type": "json_object" }),
            (None, _) => {}
        }
        body
    }

    /// The wait before attempt `attempt + 1`: `retry_base · 2^(attempt-1)` plus up to a
    /// quarter of jitter, or the provider's `Retry-After` when that is longer, both capped.
    fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exponential = self
            .config
            .retry_base
            .saturating_mul(1u32 << (attempt - 1).min(16))
            .min(BACKOFF_CAP);
        let jitter = exponential.mul_f64(rand::random::<f64>() * 0.25);
        let backoff = exponential + jitter;
        match retry_after {
            Some(asked) => backoff.max(asked.min(RETRY_AFTER_CAP)),
            None => backoff,
        }
    }

    /// One request, holding a concurrency permit for its duration only (not during backoff).
    async fn attempt(&self, body: &Value, prompt_chars: usize, attempt: u32) -> Attempt {
        // The account's share first, so an account at its share waits without a slot.
        let _account_permit = match &self.account_permits {
            Some(permits) => match permits.acquire().await {
                Ok(permit) => Some(permit),
                Err(_) => {
                    return Attempt::Fail(EngineError::Unreachable(
                        "the model client was shut down".to_owned(),
                    ))
                }
            },
            None => None,
        };
        let _permit = match self.permits.acquire().await {
            Ok(permit) => permit,
            Err(_) => {
                return Attempt::Fail(EngineError::Unreachable(
                    "the model client was shut down".to_owned(),
                ))
            }
        };
        let http = match &self.http {
            Ok(http) => http,
            Err(why) => {
                return Attempt::Fail(EngineError::Unreachable(format!(
                    "the model client could not start: {why}"
                )))
            }
        };
        if let EndpointOwner::Account { allow_private } = self.config.owner {
            // The guarded client's resolver never sees an IP literal, and the policy may
            // have changed since the URL was saved.
            let checked = check_url_literal(
                &self.config.base_url,
                Destination::ModelEndpoint,
                allow_private,
            );
            if let Err(why) = checked {
                return Attempt::Fail(EngineError::Unreachable(format!(
                    "refused to connect: the endpoint {why}"
                )));
            }
        }
        let started = Instant::now();
        let mut request = http.post(self.config.completions_url()).json(body);
        if let Some(key) = &self.config.api_key {
            request = request.bearer_auth(key);
        }
        let exchange = async {
            let mut response = request.send().await?;
            let status = response.status();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            if !status.is_success() {
                let mut about_response_format = false;
                if status.as_u16() == 400 {
                    let mut start = Vec::new();
                    while let Some(chunk) = response.chunk().await? {
                        start.extend_from_slice(&chunk);
                        if start.len() >= MAX_REFUSAL_BYTES {
                            break;
                        }
                    }
                    let text = String::from_utf8_lossy(&start);
                    about_response_format =
                        text.contains("response_format") || text.contains("json_schema");
                }
                return Ok(Received::Refusal {
                    status: status.as_u16(),
                    retry_after,
                    about_response_format,
                });
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await? {
                if body.len() + chunk.len() > MAX_REPLY_BYTES {
                    return Ok(Received::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            Ok::<_, reqwest::Error>(Received::Body(body))
        };
        let result = tokio::time::timeout(self.config.timeout, exchange).await;
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        let outcome = match result {
            Err(_) => Attempt::Retry {
                error: EngineError::Timeout {
                    seconds: self.config.timeout.as_secs_f64().ceil().max(1.0) as u64,
                },
                retry_after: None,
            },
            Ok(Err(error)) => Attempt::Retry {
                error: EngineError::Unreachable(describe_error(&error)),
                retry_after: None,
            },
            Ok(Ok(Received::Body(body))) => match parse_completion(&body, prompt_chars, latency_ms)
            {
                Ok(completion) => Attempt::Done(completion),
                Err(error) => Attempt::Fail(error),
            },
            Ok(Ok(Received::TooLarge)) => Attempt::Fail(EngineError::MalformedReply(format!(
                "the reply is larger than {} MiB",
                MAX_REPLY_BYTES / (1024 * 1024)
            ))),
            Ok(Ok(Received::Refusal {
                status: 429,
                retry_after,
                ..
            })) => Attempt::Retry {
                error: EngineError::RateLimited { attempts: attempt },
                retry_after,
            },
            Ok(Ok(Received::Refusal {
                status: 400,
                about_response_format: true,
                ..
            })) if body["response_format"]["type"] == "json_schema" => Attempt::SchemaRefused,
            Ok(Ok(Received::Refusal {
                status,
                retry_after,
                ..
            })) => {
                let error = EngineError::Upstream { status };
                if status >= 500 {
                    Attempt::Retry { error, retry_after }
                } else {
                    Attempt::Fail(error)
                }
            }
        };
        match &outcome {
            Attempt::Done(c) => tracing::debug!(
                model = %self.config.model,
                attempt,
                latency_ms,
                prompt_tokens = c.prompt_tokens,
                completion_tokens = c.completion_tokens,
                "language model call"
            ),
            Attempt::Retry { error, .. } | Attempt::Fail(error) => tracing::debug!(
                model = %self.config.model,
                attempt,
                latency_ms,
                error = %error,
                "language model call failed"
            ),
            Attempt::SchemaRefused => tracing::debug!(
                model = %self.config.model,
                attempt,
                latency_ms,
                "the language model endpoint refused the JSON schema"
            ),
        }
        outcome
    }
}

/// `Retry-After` in seconds (`"2"`, `"1.5"`); the HTTP-date form is left to the backoff.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let seconds: f64 = value.trim().parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}

/// An error and its causes on one line (reqwest's own message leaves the cause out).
fn describe_error(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The first choice's text and the token counts of a 2xx reply.
fn parse_completion(
    body: &[u8],
    prompt_chars: usize,
    latency_ms: f64,
) -> Result<Completion, EngineError> {
    // The reply's own text never goes into the error, which callers get to read: the
    // endpoint may be anything an account names, and its body anything it sends.
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        EngineError::MalformedReply(format!(
            "the endpoint's reply is not JSON (at line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    let Some(choice) = value["choices"].as_array().and_then(|c| c.first()) else {
        let why = if value.get("error").is_some() {
            "the reply has no choices but an error"
        } else {
            "the reply has no choices"
        };
        return Err(EngineError::MalformedReply(why.to_owned()));
    };
    let tool_calls = parse_tool_calls(&choice["message"]["tool_calls"]);
    let content = match choice["message"]["content"].as_str() {
        Some(content) => content,
        // A turn that only calls tools has no text.
        None if !tool_calls.is_empty() => "",
        None => {
            if choice["message"]["refusal"].is_string() {
                return Err(EngineError::MalformedReply("the model refused".to_owned()));
            }
            return Err(EngineError::MalformedReply(
                "the first choice has no text content".to_owned(),
            ));
        }
    };
    let usage = &value["usage"];
    let prompt_tokens = usage["prompt_tokens"]
        .as_u64()
        .unwrap_or_else(|| estimate_tokens(prompt_chars));
    let completion_tokens = usage["completion_tokens"]
        .as_u64()
        .unwrap_or_else(|| estimate_tokens(content.chars().count()));
    Ok(Completion {
        content: content.to_owned(),
        tool_calls,
        prompt_tokens,
        completion_tokens,
        latency_ms,
    })
}

/// The function calls of a reply's message; calls without a name are left out, and a call
/// without an id gets one from its position.
fn parse_tool_calls(value: &Value) -> Vec<ChatToolCall> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(index, call)| {
            let function = &call["function"];
            let name = function["name"].as_str()?.trim();
            if name.is_empty() {
                return None;
            }
            let arguments = match &function["arguments"] {
                Value::String(text) => text.clone(),
                Value::Null => "{}".to_owned(),
                // Some servers send the arguments as an object rather than its text.
                other => other.to_string(),
            };
            Some(ChatToolCall {
                id: call["id"]
                    .as_str()
                    .filter(|id| !id.is_empty())
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("call_{index}")),
                name: name.to_owned(),
                arguments,
            })
        })
        .collect()
}

/// About four characters a token for English text, the usual rule of thumb.
pub fn estimate_tokens(chars: usize) -> u64 {
    (chars as u64).div_ceil(4).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_read_in_seconds() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(" 0.5 "), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }

    #[test]
    fn backoff_doubles_and_honours_a_longer_retry_after_up_to_the_cap() {
        let mut config = ModelConfig::new("http://localhost:1/v1", "m");
        config.retry_base = Duration::from_millis(100);
        let client = ChatClient::new(config);
        let first = client.backoff(1, None);
        assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(125));
        let third = client.backoff(3, None);
        assert!(third >= Duration::from_millis(400) && third <= Duration::from_millis(500));
        assert!(client.backoff(1, Some(Duration::from_secs(2))) >= Duration::from_secs(2));
        assert_eq!(
            client.backoff(1, Some(Duration::from_secs(3600))),
            RETRY_AFTER_CAP
        );
    }

    #[test]
    fn usage_is_estimated_when_absent() {
        let body = br#"{"choices":[{"message":{"role":"assistant","content":"12345678"}}]}"#;
        let completion = parse_completion(body, 40, 1.0).expect("parses");
        assert_eq!(completion.content, "12345678");
        assert_eq!(completion.prompt_tokens, 10);
        assert_eq!(completion.completion_tokens, 2);
    }

    #[test]
    fn a_reply_without_choices_is_malformed() {
        for body in [&br#"{"choices":[]}"#[..], br#"{"id":"x"}"#, b"<html>"] {
            let error = parse_completion(body, 1, 1.0).expect_err("malformed");
            assert!(matches!(error, EngineError::MalformedReply(_)), "{error:?}");
        }
    }

    #[test]
    fn the_key_stays_out_of_debug_output() {
        let mut config = ModelConfig::new("http://x/v1", "m");
        config.api_key = Some("sk-secret".to_owned());
        assert!(!format!("{config:?}").contains("sk-secret"));
        assert!(!format!("{:?}", ChatClient::new(config)).contains("sk-secret"));
    }
}
