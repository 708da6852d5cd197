//! The model engine: [`Engine`]'s three jobs done by any OpenAI-compatible chat-completions
//! endpoint (OpenAI, vLLM, Ollama, llama.cpp server). A model judges transcripts, rewrites
//! prompts and plays both sides of simulated conversations.

pub mod client;
pub mod judge;
pub mod prompts;
pub mod reflect;

use converra_api::conversations::{Message, Role, TokenUsage, ToolCall};
use converra_api::settings::SimulationSettings;
use serde_json::Value;

pub use client::{
    CallOptions, ChatClient, ChatMessage, ChatRole, ChatToolCall, Completion, ModelConfig, Schema,
};

use super::logged_tools::{LoggedTool, ToolOutcome};
use super::reflective::{ReflectionRequest, Reflector};
use super::rng::{fnv1a, SeededRng};
use super::{
    AnalysisInput, ConversationAnalysis, Engine, EngineError, EngineFuture, JudgeRequest,
    SimulatedConversation, SimulationRequest, VariantProposal, VariantRequest, Verdict,
};

/// Tool rounds the simulated agent may take within one turn before it must answer in text.
const MAX_TOOL_ROUNDS: usize = 3;

/// What an account's settings ask of the model beyond the connection.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelOptions {
    /// The simulated user's temperature (`optimization.simulation.userTemperature`).
    pub user_temperature: f64,
    /// The model that judges transcripts, when not the connection's (`llm.judgeModel`).
    pub judge_model: Option<String>,
}

impl Default for ModelOptions {
    fn default() -> Self {
        ModelOptions {
            user_temperature: SimulationSettings::DEFAULT_USER_TEMPERATURE,
            judge_model: None,
        }
    }
}

/// An [`Engine`] backed by a chat-completions endpoint. Cheap to clone.
///
/// Every call sends a `seed` derived from the request's, so that the arms of one cell meet
/// the same user wherever the server honours seeds, and replicates (other seeds) differ.
/// The agent, the judge and the rewriter run at temperature 0; the simulated user at the
/// account's `userTemperature`, so that replicates meet different users.
#[derive(Debug, Clone)]
pub struct ModelEngine {
    client: ChatClient,
    options: ModelOptions,
}

impl ModelEngine {
    pub fn new(config: ModelConfig) -> Self {
        Self::with_options(ChatClient::new(config), ModelOptions::default())
    }

    /// An engine over a shared client (its connection pool, concurrency limit and what it
    /// learnt about the endpoint) with an account's options.
    pub fn with_options(client: ChatClient, options: ModelOptions) -> Self {
        ModelEngine { client, options }
    }

    pub fn client(&self) -> &ChatClient {
        &self.client
    }

    /// The model that reads and scores transcripts.
    fn judge_model(&self) -> Option<&str> {
        self.options.judge_model.as_deref()
    }

    async fn analyze_conversation(
        &self,
        input: AnalysisInput<'_>,
    ) -> Result<ConversationAnalysis, EngineError> {
        let request = prompts::analysis_request(input.messages, input.agent_prompt);
        let schema = prompts::analysis_schema();
        // No seed comes with a transcript to read: one from its text keeps a re-read the
        // same wherever the server honours seeds.
        let seed = fnv1a(prompts::indexed_transcript(input.messages).as_bytes());
        let options = CallOptions {
            json: Some(&schema),
            model: self.judge_model(),
            ..CallOptions::new(seed)
        };
        let completion = self.client.complete(&request, &options).await?;
        let mut analysis = prompts::parse_analysis(&completion.content, input.messages.len())?;
        analysis.steps = super::reading::steps::diagnose_steps(input.messages);
        analysis.engine_tokens = completion.total_tokens();
        Ok(analysis)
    }

    /// One call for the whole request: the judge reads the transcripts side by side, in an
    /// order drawn from the seed, and never a prompt or an arm's name.
    async fn judge_blind(&self, request: JudgeRequest<'_>) -> Result<Vec<Verdict>, EngineError> {
        if request.transcripts.is_empty() {
            return Ok(Vec::new());
        }
        let order = judge::reading_order(request.transcripts.len(), request.seed);
        let messages = judge::judge_request(request.transcripts, &order);
        let schema = judge::judge_schema();
        let options = CallOptions {
            json: Some(&schema),
            model: self.judge_model(),
            ..CallOptions::new(request.seed)
        };
        let completion = self.client.complete(&messages, &options).await?;
        let mut verdicts = judge::parse_verdicts(&completion.content, &order)?;
        // One call judged them all: share its tokens so that their sum is what was spent.
        let total = completion.total_tokens();
        let parts = verdicts.len() as u64;
        for verdict in &mut verdicts {
            verdict.engine_tokens = total / parts;
        }
        if let Some(first) = verdicts.first_mut() {
            first.engine_tokens += total % parts;
        }
        Ok(verdicts)
    }

    async fn propose(
        &self,
        input: VariantRequest<'_>,
    ) -> Result<Vec<VariantProposal>, EngineError> {
        let request =
            prompts::variants_request(input.prompt, input.issues, input.intent, input.count);
        let schema = prompts::variants_schema();
        let seed = SeededRng::derive(input.seed, "variants").next_u64();
        let options = CallOptions {
            json: Some(&schema),
            ..CallOptions::new(seed)
        };
        let completion = self.client.complete(&request, &options).await?;
        let mut variants = prompts::parse_variants(&completion.content, input.prompt, input.count)?;
        // One call made them all: share its tokens so that their sum is what was spent.
        let total = completion.total_tokens();
        let parts = variants.len().max(1) as u64;
        for variant in &mut variants {
            variant.engine_tokens = total / parts;
        }
        if let Some(first) = variants.first_mut() {
            first.engine_tokens += total % parts;
        }
        Ok(variants)
    }

    async fn play(
        &self,
        input: SimulationRequest<'_>,
    ) -> Result<SimulatedConversation, EngineError> {
        let max_turns = input.max_turns as usize;
        let functions = (!input.tools.is_empty())
            .then(|| Value::Array(input.tools.iter().map(LoggedTool::function).collect()));
        // One stream per cell: every arm's n-th tool call gets the same logged outcome.
        let mut outcomes = SeededRng::derive(input.seed, "tool-outcomes");
        let mut messages = vec![Message::new(Role::User, input.scenario.opening.to_owned())];
        let mut turns = 1;
        let mut engine_tokens: u64 = 0;
        while turns < max_turns {
            for round in 0..=MAX_TOOL_ROUNDS {
                // The last round offers no tools, so the turn ends in words.
                let tools = functions.as_ref().filter(|_| round < MAX_TOOL_ROUNDS);
                let seed =
                    SeededRng::derive(input.seed, &format!("agent:{turns}:{round}")).next_u64();
                let options = CallOptions {
                    tools,
                    ..CallOptions::new(seed)
                };
                let agent = self
                    .client
                    .complete(&prompts::agent_side(input.prompt, &messages), &options)
                    .await?;
                engine_tokens = engine_tokens.saturating_add(agent.total_tokens());
                let mut reply = Message::new(
                    Role::Assistant,
                    prompts::strip_reasoning(&agent.content).to_owned(),
                );
                reply.model = Some(self.client.config().model.clone());
                reply.usage = Some(TokenUsage {
                    prompt_tokens: agent.prompt_tokens,
                    completion_tokens: agent.completion_tokens,
                });
                reply.latency_ms = Some(agent.latency_ms);
                let calls = if tools.is_some() {
                    agent.tool_calls
                } else {
                    Vec::new()
                };
                if calls.is_empty() {
                    messages.push(reply);
                    break;
                }
                reply.tool_calls = Some(
                    calls
                        .into_iter()
                        .map(|call| answer_call(call, input.tools, &mut outcomes))
                        .collect(),
                );
                messages.push(reply);
            }
            turns += 1;
            if turns >= max_turns {
                break;
            }

            let seed = SeededRng::derive(input.seed, &format!("user:{turns}")).next_u64();
            let options = CallOptions {
                temperature: self.options.user_temperature,
                ..CallOptions::new(seed)
            };
            let user = self
                .client
                .complete(
                    &prompts::user_side(input.persona, input.scenario, &messages),
                    &options,
                )
                .await?;
            engine_tokens = engine_tokens.saturating_add(user.total_tokens());
            let (text, done) = prompts::read_user_turn(&user.content);
            if !text.is_empty() {
                messages.push(Message::new(Role::User, text));
                turns += 1;
            }
            if done {
                break;
            }
        }
        Ok(SimulatedConversation {
            messages,
            engine_tokens,
        })
    }
}

/// A simulated tool call answered with an outcome drawn from the tool's logged ones; a tool
/// the agent does not have fails as a real one would.
fn answer_call(call: ChatToolCall, tools: &[LoggedTool], outcomes: &mut SeededRng) -> ToolCall {
    let outcome = match tools.iter().find(|t| t.name == call.name) {
        Some(tool) => tool.sample(outcomes).clone(),
        None => ToolOutcome::Error(format!("unknown tool `{}`", call.name)),
    };
    let (result, error) = match outcome {
        ToolOutcome::Result(value) => (Some(value), None),
        ToolOutcome::Error(error) => (None, Some(error)),
    };
    ToolCall {
        id: Some(call.id),
        arguments: serde_json::from_str(&call.arguments).unwrap_or(Value::String(call.arguments)),
        name: call.name,
        result,
        error,
        nested_trace: None,
    }
}

impl Reflector for ModelEngine {
    fn reflect<'a>(&'a self, request: ReflectionRequest<'a>) -> EngineFuture<'a, VariantProposal> {
        Box::pin(async move {
            let messages = reflect::reflection_request(&request);
            let schema = reflect::reflection_schema();
            let options = CallOptions {
                json: Some(&schema),
                ..CallOptions::new(SeededRng::derive(request.seed, "reflect").next_u64())
            };
            let completion = self.client.complete(&messages, &options).await?;
            let mut proposal = reflect::parse_reflection(&completion.content, request.prompt)?;
            proposal.engine_tokens = completion.total_tokens();
            Ok(proposal)
        })
    }
}

impl Engine for ModelEngine {
    fn name(&self) -> String {
        format!("model:{}", self.client.config().model)
    }

    fn reflector(&self) -> Option<&dyn Reflector> {
        Some(self)
    }

    fn analyze<'a>(&'a self, input: AnalysisInput<'a>) -> EngineFuture<'a, ConversationAnalysis> {
        Box::pin(self.analyze_conversation(input))
    }

    fn judge<'a>(&'a self, request: JudgeRequest<'a>) -> EngineFuture<'a, Vec<Verdict>> {
        Box::pin(self.judge_blind(request))
    }

    fn propose_variants<'a>(
        &'a self,
        input: VariantRequest<'a>,
    ) -> EngineFuture<'a, Vec<VariantProposal>> {
        Box::pin(self.propose(input))
    }

    fn simulate<'a>(
        &'a self,
        input: SimulationRequest<'a>,
    ) -> EngineFuture<'a, SimulatedConversation> {
        Box::pin(self.play(input))
    }
}
