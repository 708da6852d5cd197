//! The model engine: [`Engine`]'s three jobs done by any OpenAI-compatible chat-completions
//! endpoint (OpenAI, vLLM, Ollama, llama.cpp server). A model judges transcripts, rewrites
//! prompts and plays both sides of simulated conversations.

pub mod client;
pub mod prompts;
pub mod reflect;

use converra_api::conversations::{Message, Role, TokenUsage};

pub use client::{ChatClient, ChatMessage, ChatRole, Completion, ModelConfig};

use super::reflective::{ReflectionRequest, Reflector};
use super::{
    AnalysisInput, ConversationAnalysis, Engine, EngineError, EngineFuture, SimulatedConversation,
    SimulationRequest, VariantProposal, VariantRequest,
};

/// An [`Engine`] backed by a chat-completions endpoint. Cheap to clone.
///
/// Every call asks for `temperature: 0`, so the arms of one simulation cell meet much the
/// same user; the request's `seed` is not sent, as not every server honours one.
#[derive(Debug, Clone)]
pub struct ModelEngine {
    client: ChatClient,
}

impl ModelEngine {
    pub fn new(config: ModelConfig) -> Self {
        ModelEngine {
            client: ChatClient::new(config),
        }
    }

    pub fn client(&self) -> &ChatClient {
        &self.client
    }

    async fn analyze_conversation(
        &self,
        input: AnalysisInput<'_>,
    ) -> Result<ConversationAnalysis, EngineError> {
        let request = prompts::analysis_request(input.messages, input.agent_prompt);
        let completion = self.client.complete(&request, true).await?;
        let mut analysis = prompts::parse_analysis(&completion.content, input.messages.len())?;
        analysis.steps = super::reading::steps::diagnose_steps(input.messages);
        analysis.engine_tokens = completion.total_tokens();
        Ok(analysis)
    }

    async fn propose(
        &self,
        input: VariantRequest<'_>,
    ) -> Result<Vec<VariantProposal>, EngineError> {
        let request =
            prompts::variants_request(input.prompt, input.issues, input.intent, input.count);
        let completion = self.client.complete(&request, true).await?;
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
        let max_messages = input.max_turns as usize;
        let mut messages = vec![Message::new(Role::User, input.scenario.opening.to_owned())];
        let mut engine_tokens = 0;
        while messages.len() < max_messages {
            let agent = self
                .client
                .complete(&prompts::agent_side(input.prompt, &messages), false)
                .await?;
            engine_tokens = u64::saturating_add(engine_tokens, agent.total_tokens());
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
            messages.push(reply);
            if messages.len() >= max_messages {
                break;
            }

            let user = self
                .client
                .complete(
                    &prompts::user_side(input.persona, input.scenario, &messages),
                    false,
                )
                .await?;
            engine_tokens = u64::saturating_add(engine_tokens, user.total_tokens());
            let (text, done) = prompts::read_user_turn(&user.content);
            if !text.is_empty() {
                messages.push(Message::new(Role::User, text));
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

impl Reflector for ModelEngine {
    fn reflect<'a>(&'a self, request: ReflectionRequest<'a>) -> EngineFuture<'a, VariantProposal> {
        Box::pin(async move {
            let messages = reflect::reflection_request(&request);
            let completion = self.client.complete(&messages, true).await?;
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
