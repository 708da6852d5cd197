//! A small client for OpenAI-compatible chat-completions endpoints (OpenAI, vLLM, Ollama,
//! llama.cpp server): one call, retried on the failures that pass, bounded in concurrency.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
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
}

/// One message of a chat-completions request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatMessage {
    pub role: ChatRole,
    pub content: String,
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        ChatMessage {
            role: ChatRole::System,
            content: content.into(),
        }
    }

    pub fn user(content: impl Into<String>) -> Self {
        ChatMessage {
            role: ChatRole::User,
            content: content.into(),
        }
    }

    pub fn assistant(content: impl Into<String>) -> Self {
        ChatMessage {
            role: ChatRole::Assistant,
            content: content.into(),
        }
    }
}

/// The model's answer to one call.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub content: String,
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
    config: Arc<ModelConfig>,
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
    /// A status other than 2xx, with `Retry-After` if sent. The body is not read: it is
    /// never shown to anyone.
    Refusal {
        status: u16,
        retry_after: Option<Duration>,
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
}

impl ChatClient {
    pub fn new(config: ModelConfig) -> Self {
        let http = match config.owner {
            // `Client::new` only panics when no TLS backend can start; rustls is compiled in.
            EndpointOwner::Operator => Ok(reqwest::Client::new()),
            EndpointOwner::Account { allow_private } => {
                guarded_client(reqwest::Client::builder(), allow_private)
                    .map_err(|error| describe_error(&error))
            }
        };
        ChatClient {
            http,
            permits: Arc::new(Semaphore::new(config.max_concurrency.max(1))),
            config: Arc::new(config),
        }
    }

    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// Sends `messages` and returns the first choice's text. With `json_reply` the endpoint
    /// is asked for a JSON object (`response_format: json_object`); the instructions must
    /// say "JSON" too, as OpenAI requires.
    pub async fn complete(
        &self,
        messages: &[ChatMessage],
        json_reply: bool,
    ) -> Result<Completion, EngineError> {
        let mut body = json!({
            "model": self.config.model,
            "messages": messages,
            "temperature": 0,
        });
        if json_reply {
            body["response_format"] = json!({ "type": "json_object" });
        }
        let prompt_chars: usize = messages.iter().map(|m| m.content.chars().count()).sum();
        let attempts = self.config.max_retries.saturating_add(1);
        let mut attempt = 1;
        loop {
            let outcome = self.attempt(&body, prompt_chars, attempt).await;
            let (error, retry_after) = match outcome {
                Attempt::Done(completion) => return Ok(completion),
                Attempt::Fail(error) => return Err(error),
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
                return Ok(Received::Refusal {
                    status: status.as_u16(),
                    retry_after,
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
            })) => Attempt::Retry {
                error: EngineError::RateLimited { attempts: attempt },
                retry_after,
            },
            Ok(Ok(Received::Refusal {
                status,
                retry_after,
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
    let Some(content) = choice["message"]["content"].as_str() else {
        if choice["message"]["refusal"].is_string() {
            return Err(EngineError::MalformedReply("the model refused".to_owned()));
        }
        return Err(EngineError::MalformedReply(
            "the first choice has no text content".to_owned(),
        ));
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
        prompt_tokens,
        completion_tokens,
        latency_ms,
    })
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
