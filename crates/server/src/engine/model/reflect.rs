//! The reflective optimizer's mutation step done by the model: it reads a candidate prompt's
//! worst simulated conversations with the judge's reasons and writes an improved prompt that
//! keeps the agent's constraints.

use serde_json::Value;

use super::client::{ChatMessage, Schema};
use super::prompts::{indexed_transcript, json_value, strict_object, text};
use crate::engine::reflective::ReflectionRequest;
use crate::engine::{EngineError, VariantProposal};

/// The reflector's instructions.
fn instructions(constraints: &[String]) -> String {
    let mut text = "You improve the system prompts of AI agents by reflecting on where they \
failed. You are given the current prompt and simulated conversations in which the agent did \
badly, each with a judge's reasons. Find what the prompt lacks or gets wrong that caused those \
failures (a missing fact, a missing policy, a bad instruction) and write the complete new \
prompt, not a diff: keep everything that is not part of a problem and change or add what \
answers the failures. Answer with one JSON object and nothing else: {\"prompt\": the complete \
new prompt, \"changeSummary\": one or two sentences on what changed and which failure it \
answers}."
        .to_owned();
    if !constraints.is_empty() {
        text.push_str(
            "\nThe new prompt must contain each of these lines word for word; a prompt that \
drops one is discarded:\n",
        );
        for constraint in constraints {
            text.push_str(&format!("- {constraint}\n"));
        }
    }
    text
}

/// The schema of the reflector's reply.
pub fn reflection_schema() -> Schema {
    Schema {
        name: "reflected_prompt",
        schema: strict_object(serde_json::json!({
            "prompt": {"type": "string"},
            "changeSummary": {"type": "string"},
        })),
    }
}

/// The messages of one reflection call.
pub fn reflection_request(request: &ReflectionRequest<'_>) -> Vec<ChatMessage> {
    let mut text = format!("The current prompt:\n<<<\n{}\n>>>\n", request.prompt.trim());
    if let Some(objectives) = request.objectives {
        text.push_str(&format!(
            "\nThe team's objectives and KPIs: {}\n",
            objectives.trim()
        ));
    }
    for (index, trial) in request.failures.iter().enumerate() {
        text.push_str(&format!(
            "\nConversation {} (score {:.0} of 100):\n{}\n",
            index + 1,
            trial.metrics.overall(),
            indexed_transcript(&trial.messages)
        ));
        if trial.reasons.is_empty() {
            text.push_str("The judge named no specific fault.\n");
        } else {
            text.push_str("The judge's reasons:\n");
            for reason in &trial.reasons {
                text.push_str(&format!("- {reason}\n"));
            }
        }
    }
    vec![
        ChatMessage::system(instructions(request.constraints)),
        ChatMessage::user(text),
    ]
}

/// Reads the reflector's reply: a non-empty prompt that differs from the parent. The caller
/// fills `engine_tokens`.
pub fn parse_reflection(reply: &str, parent: &str) -> Result<VariantProposal, EngineError> {
    let value = json_value(reply, "the reflected prompt")?;
    let Value::Object(object) = &value else {
        return Err(EngineError::MalformedReply(
            "the reflected prompt is not a JSON object".to_owned(),
        ));
    };
    let content = text(object, "prompt").ok_or_else(|| {
        EngineError::MalformedReply("the reflection has no non-empty \"prompt\"".to_owned())
    })?;
    if content.trim() == parent.trim() {
        return Err(EngineError::MalformedReply(
            "the reflection returned the prompt unchanged".to_owned(),
        ));
    }
    Ok(VariantProposal {
        content,
        change_summary: text(object, "changeSummary")
            .unwrap_or_else(|| "Rewrote the prompt after reading its failures.".to_owned()),
        addresses: Vec::new(),
        engine_tokens: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::reflective::Trial;
    use crate::engine::MetricScores;
    use converra_api::conversations::{Message, Role};

    #[test]
    fn the_request_shows_failures_reasons_and_constraints_and_the_reply_is_checked() {
        let trial = Trial {
            metrics: MetricScores([30.0; 11]),
            messages: vec![Message::new(Role::User, "How long do I have to return it?")],
            reasons: vec!["The agent did not know the return window.".to_owned()],
            engine_tokens: 0,
        };
        let failures = [&trial];
        let constraints = ["Never offer cash refunds.".to_owned()];
        let messages = reflection_request(&ReflectionRequest {
            prompt: "You help with returns.",
            failures: &failures,
            constraints: &constraints,
            objectives: Some("Resolve on first contact"),
            seed: 1,
        });
        let all: String = messages.iter().map(|m| m.content.clone()).collect();
        for needle in [
            "You help with returns.",
            "How long do I have to return it?",
            "did not know the return window",
            "Never offer cash refunds.",
            "Resolve on first contact",
        ] {
            assert!(all.contains(needle), "{needle}");
        }
        let proposal = parse_reflection(
            r#"{"prompt": "You help with returns. Returns are accepted within 45 days.", "changeSummary": "Stated the window."}"#,
            "You help with returns.",
        )
        .unwrap();
        assert!(proposal.content.contains("45 days"));
        assert!(parse_reflection(
            r#"{"prompt": "You help with returns."}"#,
            "You help with returns."
        )
        .is_err());
        assert!(parse_reflection("not json", "x").is_err());
    }
}
