//! The offline engine, the default: deterministic, rule-based, no network. It reads
//! transcripts by counting measurable features ([`analysis`]), proposes prompt variants as
//! targeted edits tied to detected issues ([`variants`]) and plays scripted personas against
//! a prompt whose behaviour it reads with keyword rules ([`simulation`]). It does not
//! understand language: a prompt that asks for a behaviour in words its rules do not know
//! gets no credit for it, and negation is read only as far as the rules of `negation` go. Its
//! optimizations are a scripted demonstration of the workflow, not evidence about an agent:
//! its personas reward the very instructions its variants add.
//!
//! The sync functions ([`analysis::analyze`], [`variants::propose_variants`],
//! [`simulation::simulate`]) are public so that benchmarks can call them directly.

pub mod analysis;
mod negation;
pub mod simulation;
pub mod variants;

pub use variants::behaviours_in;

use super::{
    AnalysisInput, ConversationAnalysis, Engine, EngineFuture, SimulatedConversation,
    SimulationRequest, VariantProposal, VariantRequest,
};

/// The offline engine's [`Engine::name`].
pub const NAME: &str = "offline";

/// The offline [`Engine`]. Holds nothing: free to construct and to share.
#[derive(Debug, Clone, Copy, Default)]
pub struct OfflineEngine;

impl OfflineEngine {
    pub fn new() -> Self {
        OfflineEngine
    }
}

impl Engine for OfflineEngine {
    fn name(&self) -> String {
        NAME.to_owned()
    }

    fn analyze<'a>(&'a self, input: AnalysisInput<'a>) -> EngineFuture<'a, ConversationAnalysis> {
        Box::pin(async move { Ok(analysis::analyze(input.messages, input.agent_prompt)) })
    }

    fn propose_variants<'a>(
        &'a self,
        input: VariantRequest<'a>,
    ) -> EngineFuture<'a, Vec<VariantProposal>> {
        Box::pin(async move { Ok(variants::propose_variants(&input)) })
    }

    fn simulate<'a>(
        &'a self,
        input: SimulationRequest<'a>,
    ) -> EngineFuture<'a, SimulatedConversation> {
        // `input.tools` is left unplayed: the scripted conversations call the scenario's
        // tool by name and decide its outcome from the persona, not from the logs.
        Box::pin(async move { Ok(simulation::simulate(&input)) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::personas::{persona, scenario};
    use crate::engine::IssueFrequency;
    use crate::engine::IssueKind;

    #[tokio::test]
    async fn the_engine_wraps_the_sync_functions() {
        let engine: &dyn Engine = &OfflineEngine::new();
        assert_eq!(engine.name(), "offline");
        let (Some(p), Some(s)) = (
            persona("persona_polite_regular"),
            scenario("scenario_order_status"),
        ) else {
            panic!("catalog entries missing");
        };
        let request = SimulationRequest {
            prompt: "You are a support agent.",
            persona: p,
            scenario: s,
            max_turns: 8,
            tools: &[],
            seed: 11,
        };
        let played = engine.simulate(request).await.expect("offline never fails");
        assert_eq!(played, simulation::simulate(&request));
        let input = AnalysisInput {
            messages: &played.messages,
            agent_prompt: Some("You are a support agent."),
        };
        let read = engine.analyze(input).await.expect("offline never fails");
        assert_eq!(
            read,
            analysis::analyze(&played.messages, Some("You are a support agent."))
        );
        assert_eq!(read.engine_tokens, 0);
        let issues = [IssueFrequency {
            kind: IssueKind::Verbose,
            frequency: 0.5,
        }];
        let variants = engine
            .propose_variants(VariantRequest {
                prompt: "You are a support agent.",
                issues: &issues,
                intent: None,
                count: 2,
                seed: 1,
            })
            .await
            .expect("offline never fails");
        assert_eq!(variants.len(), 2);
        assert_eq!(variants[0].addresses, [IssueKind::Verbose]);
    }
}
