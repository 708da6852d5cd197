//! The intelligence behind insights, optimizations and benchmarks, behind one small
//! interface, [`Engine`], with two implementations:
//!
//! - [`offline::OfflineEngine`], the default: a deterministic, rule-based engine that needs
//!   no network. It scores transcripts by measurable features, proposes prompt edits tied
//!   to detected issues and simulates conversations with scripted personas. It does not
//!   understand language; see the README for what that means in practice.
//! - [`model::ModelEngine`]: the same three jobs done by any OpenAI-compatible
//!   chat-completions endpoint.
//!
//! The engine never touches HTTP requests of our API nor the database: callers (the jobs)
//! hand it messages and prompts and store what it returns.

pub mod aggregate;
pub mod logged_tools;
pub mod model;
pub mod offline;
pub mod optimizer;
pub mod personas;
pub mod reading;
pub mod records;
pub mod reflective;
pub mod registry;
pub mod rng;
pub mod stats;

use std::future::Future;
use std::pin::Pin;

use converra_api::conversations::Message;
use converra_api::insights::{Metric, RootCause, Sentiment, Severity, StepStatus};
use converra_api::optimizations::Evidence;

pub use personas::{Behaviour, Persona, Scenario};

/// What results from the engine named `engine_name` (see [`Engine::name`]) rest on: the
/// offline engine's are scripted, a model's are played and judged by that model.
pub fn evidence_of(engine_name: &str) -> Evidence {
    if engine_name == offline::NAME {
        Evidence::Scripted
    } else {
        Evidence::Model
    }
}

/// Polls the futures together on the current task and returns their outputs in order: the
/// engine is borrowed, so its calls cannot be spawned, yet a model engine's calls should
/// overlap (up to its client's concurrency limit).
pub async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pinned: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in pinned.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

/// A boxed future, so that [`Engine`] can be used as `dyn Engine`.
pub type EngineFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, EngineError>> + Send + 'a>>;

/// The three things the product asks of a language model.
pub trait Engine: Send + Sync {
    /// A short name for logs and the README (`offline`, or `model:<model name>`).
    fn name(&self) -> String;

    /// Reads one conversation: metrics, issues, steps, summaries.
    fn analyze<'a>(&'a self, input: AnalysisInput<'a>) -> EngineFuture<'a, ConversationAnalysis>;

    /// Proposes `count` rewrites of a prompt, each answering issues found in its traffic.
    fn propose_variants<'a>(
        &'a self,
        input: VariantRequest<'a>,
    ) -> EngineFuture<'a, Vec<VariantProposal>>;

    /// Plays one conversation between a prompt (the agent) and a persona (the user).
    fn simulate<'a>(
        &'a self,
        input: SimulationRequest<'a>,
    ) -> EngineFuture<'a, SimulatedConversation>;

    /// Scores simulated transcripts blind: the judge sees the conversations only, never the
    /// prompt that played them nor which arm it was, so it cannot favour the arm it expects to
    /// win. One verdict per transcript, in the order given.
    ///
    /// The default reads each transcript with [`Engine::analyze`] without a prompt, and gives
    /// the titles of the issues it found as the reasons.
    fn judge<'a>(&'a self, request: JudgeRequest<'a>) -> EngineFuture<'a, Vec<Verdict>> {
        Box::pin(async move {
            let mut verdicts = Vec::with_capacity(request.transcripts.len());
            for messages in request.transcripts {
                let analysis = self
                    .analyze(AnalysisInput {
                        messages,
                        agent_prompt: None,
                    })
                    .await?;
                verdicts.push(Verdict::from_analysis(&analysis));
            }
            Ok(verdicts)
        })
    }

    /// The reflective optimizer's mutation step, for engines that can read failures and
    /// rewrite from them (a model). The offline engine cannot: it has none.
    fn reflector(&self) -> Option<&dyn reflective::Reflector> {
        None
    }
}

/// What a model-backed engine can fail with. The offline engine never fails.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    #[error("the language model did not answer within {seconds} s")]
    Timeout { seconds: u64 },
    #[error("the language model kept refusing with 429 (rate limited) after {attempts} attempts")]
    RateLimited { attempts: u32 },
    /// Only the status: the endpoint's body is never shown, as it may be anything.
    #[error("the language model endpoint answered {status}")]
    Upstream { status: u16 },
    #[error("the language model endpoint could not be reached: {0}")]
    Unreachable(String),
    #[error("the language model's reply could not be used: {0}")]
    MalformedReply(String),
}

impl EngineError {
    /// The `error.code` an optimization or insight that failed on this carries.
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::Timeout { .. } => "MODEL_TIMEOUT",
            EngineError::RateLimited { .. } => "MODEL_RATE_LIMITED",
            EngineError::Upstream { .. } => "MODEL_ERROR",
            EngineError::Unreachable(_) => "MODEL_UNREACHABLE",
            EngineError::MalformedReply(_) => "MODEL_MALFORMED_REPLY",
        }
    }

    /// Whether trying the same work later may succeed (the insights queue retries these).
    pub fn is_transient(&self) -> bool {
        !matches!(self, EngineError::MalformedReply(_))
    }
}

/// The 11 metrics of one conversation (or their means), indexed by [`Metric::index`].
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct MetricScores(pub [f64; 11]);

impl MetricScores {
    pub fn get(&self, metric: Metric) -> f64 {
        self.0[metric.index()]
    }

    pub fn set(&mut self, metric: Metric, value: f64) {
        self.0[metric.index()] = value;
    }

    /// The overall score (0..100): the plain mean of the 11 metrics.
    pub fn overall(&self) -> f64 {
        self.0.iter().sum::<f64>() / self.0.len() as f64
    }
}

/// One conversation to read.
#[derive(Debug, Clone, Copy)]
pub struct AnalysisInput<'a> {
    pub messages: &'a [Message],
    /// The agent's prompt, when known: lets the engine judge answers against it.
    pub agent_prompt: Option<&'a str>,
}

/// Everything the engine read in one conversation.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ConversationAnalysis {
    pub title: String,
    pub executive_summary: String,
    pub summary: String,
    pub user_facing_summary: Option<String>,
    pub metrics: MetricScores,
    /// 0..100: the overall score.
    pub quality_score: f64,
    /// 0..100: the quality score, capped low when the task failed or a critical issue showed.
    pub gated_score: f64,
    /// How strongly the account's objectives weigh this conversation (1.0 = neutral).
    pub objective_multiplier: f64,
    pub issues: Vec<DetectedIssue>,
    pub additional_concerns: Vec<String>,
    pub next_steps: Vec<String>,
    pub keywords: Vec<String>,
    pub topics: Vec<String>,
    pub sentiment: Sentiment,
    /// 0..1, 1 the most positive.
    pub sentiment_score: f64,
    pub task_completed: bool,
    pub business_impact: Option<String>,
    /// One entry per tool call, and one per assistant turn that failed without a tool.
    pub steps: Vec<StepOutcome>,
    /// Tokens the engine spent (0 offline); counted into the account's usage.
    pub engine_tokens: u64,
}

/// The kinds of trouble the engine recognises. Every variant proposal answers one or more.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum IssueKind {
    /// The assistant declined something it should have done.
    Refusal,
    /// The assistant said (nearly) the same thing twice.
    RepeatedAnswer,
    /// Apology after apology without progress.
    ApologyLoop,
    /// A user question got no answer.
    UnansweredQuestion,
    /// A tool call failed.
    FailedToolCall,
    /// The user asked for a human.
    HumanRequested,
    /// The user grew frustrated or angry.
    Frustration,
    /// Answers far longer than the questions warrant.
    Verbose,
    /// The assistant acted without details it needed.
    MissingDetails,
    /// The assistant claimed something it had no source for.
    UnsupportedClaim,
}

impl IssueKind {
    pub const ALL: [IssueKind; 10] = [
        IssueKind::Refusal,
        IssueKind::RepeatedAnswer,
        IssueKind::ApologyLoop,
        IssueKind::UnansweredQuestion,
        IssueKind::FailedToolCall,
        IssueKind::HumanRequested,
        IssueKind::Frustration,
        IssueKind::Verbose,
        IssueKind::MissingDetails,
        IssueKind::UnsupportedClaim,
    ];

    /// The title every issue of a kind carries, the same in every conversation so that the
    /// agent-level list can count them.
    pub fn title(self) -> &'static str {
        match self {
            IssueKind::Refusal => "The assistant refused a request",
            IssueKind::RepeatedAnswer => "The assistant repeated itself",
            IssueKind::ApologyLoop => "Apologies without progress",
            IssueKind::UnansweredQuestion => "A question went unanswered",
            IssueKind::FailedToolCall => "A tool call failed",
            IssueKind::HumanRequested => "The user asked for a human",
            IssueKind::Frustration => "The user grew frustrated",
            IssueKind::Verbose => "Answers longer than needed",
            IssueKind::MissingDetails => "Acted without the details it needed",
            IssueKind::UnsupportedClaim => "Claims without a source",
        }
    }

    /// A stable id (`issue_…`) for the agent-level issue list.
    pub fn id(self) -> &'static str {
        match self {
            IssueKind::Refusal => "issue_refusal",
            IssueKind::RepeatedAnswer => "issue_repeated_answer",
            IssueKind::ApologyLoop => "issue_apology_loop",
            IssueKind::UnansweredQuestion => "issue_unanswered_question",
            IssueKind::FailedToolCall => "issue_failed_tool_call",
            IssueKind::HumanRequested => "issue_human_requested",
            IssueKind::Frustration => "issue_frustration",
            IssueKind::Verbose => "issue_verbose",
            IssueKind::MissingDetails => "issue_missing_details",
            IssueKind::UnsupportedClaim => "issue_unsupported_claim",
        }
    }

    /// The behaviour a prompt can ask for that answers this issue.
    pub fn remedy(self) -> Behaviour {
        match self {
            IssueKind::Refusal | IssueKind::UnansweredQuestion => Behaviour::AnswerDirectly,
            IssueKind::RepeatedAnswer | IssueKind::ApologyLoop => Behaviour::VaryAndProgress,
            IssueKind::FailedToolCall => Behaviour::ToolErrorHandling,
            IssueKind::HumanRequested => Behaviour::EscalationPolicy,
            IssueKind::Frustration => Behaviour::EmpatheticTone,
            IssueKind::Verbose => Behaviour::LengthLimit,
            IssueKind::MissingDetails => Behaviour::AskForMissingDetails,
            IssueKind::UnsupportedClaim => Behaviour::GroundedAnswers,
        }
    }
}

/// One issue found in one conversation.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DetectedIssue {
    pub kind: IssueKind,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    /// Indexes into the conversation's messages where it shows.
    pub message_indexes: Vec<usize>,
}

/// One step of the conversation: a tool call, or a turn.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StepOutcome {
    /// The tool's name, or `turn:N` for an assistant turn.
    pub name: String,
    pub status: StepStatus,
    pub error: Option<String>,
    pub message_index: usize,
    pub root_cause: Option<RootCause>,
}

/// An agent-level issue with how often it shows, the input to variant generation.
#[derive(Debug, Clone, PartialEq)]
pub struct IssueFrequency {
    pub kind: IssueKind,
    /// Share of the analysed conversations that show it (0..1).
    pub frequency: f64,
}

/// What the user of `POST /optimizations` said they want improved.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OptimizationIntent {
    pub target_improvements: Vec<String>,
    pub hypothesis: Option<String>,
}

#[derive(Debug, Clone, Copy)]
pub struct VariantRequest<'a> {
    /// The control: the agent's current prompt.
    pub prompt: &'a str,
    /// The agent's issues, most frequent first (may be empty for a new agent).
    pub issues: &'a [IssueFrequency],
    pub intent: Option<&'a OptimizationIntent>,
    /// How many variants (1..5).
    pub count: usize,
    pub seed: u64,
}

/// One proposed rewrite of the prompt.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VariantProposal {
    /// The whole new prompt.
    pub content: String,
    /// What changed, and which issue it answers, in a sentence or two.
    pub change_summary: String,
    pub addresses: Vec<IssueKind>,
    /// Tokens the engine spent (0 offline).
    pub engine_tokens: u64,
}

#[derive(Debug, Clone, Copy)]
pub struct SimulationRequest<'a> {
    /// The prompt under test (control or variant).
    pub prompt: &'a str,
    pub persona: &'a Persona,
    pub scenario: &'a Scenario,
    /// Upper bound on user+assistant turns.
    pub max_turns: u32,
    /// The tools the agent called in its logged conversations: the simulated agent may call
    /// them and is answered with logged outcomes. Engines that do not play tools ignore it.
    pub tools: &'a [logged_tools::LoggedTool],
    /// The same seed for every arm of one (persona, scenario, replicate) cell, so that the
    /// arms meet the same user: the pairing the statistics rely on.
    pub seed: u64,
}

/// Transcripts to score blind (see [`Engine::judge`]): typically every arm's conversation
/// on one cell, so that the judge reads them side by side.
#[derive(Debug, Clone, Copy)]
pub struct JudgeRequest<'a> {
    pub transcripts: &'a [&'a [Message]],
    /// Orders the transcripts the judge sees, so their order tells it nothing.
    pub seed: u64,
}

/// The judge's reading of one transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub metrics: MetricScores,
    pub task_completed: bool,
    /// What went wrong, in the judge's words (empty when nothing did): what the reflective
    /// optimizer reads to write its mutations.
    pub reasons: Vec<String>,
    /// Tokens the judge spent on this transcript (0 offline).
    pub engine_tokens: u64,
}

impl Verdict {
    pub fn from_analysis(analysis: &ConversationAnalysis) -> Verdict {
        Verdict {
            metrics: analysis.metrics,
            task_completed: analysis.task_completed,
            reasons: analysis
                .issues
                .iter()
                .map(|issue| format!("{}: {}", issue.title, issue.description))
                .collect(),
            engine_tokens: analysis.engine_tokens,
        }
    }
}

/// A simulated conversation. Callers score it with [`Engine::judge`].
#[derive(Debug, Clone, PartialEq)]
pub struct SimulatedConversation {
    /// Messages carry `usage` (tokens) and `latencyMs` per assistant turn.
    pub messages: Vec<Message>,
    /// Tokens the engine spent producing it (0 offline; the messages' own usage is the
    /// simulated agent's).
    pub engine_tokens: u64,
}

impl SimulatedConversation {
    /// Tokens the simulated agent used over the conversation.
    pub fn agent_tokens(&self) -> u64 {
        self.messages
            .iter()
            .filter_map(|m| m.usage)
            .map(|u| u.prompt_tokens.saturating_add(u.completion_tokens))
            .fold(0, u64::saturating_add)
    }

    /// Mean latency of the assistant's turns, in ms.
    pub fn mean_latency_ms(&self) -> f64 {
        let latencies: Vec<f64> = self.messages.iter().filter_map(|m| m.latency_ms).collect();
        if latencies.is_empty() {
            0.0
        } else {
            latencies.iter().sum::<f64>() / latencies.len() as f64
        }
    }
}
