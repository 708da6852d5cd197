//! Step diagnosis, shared by both engines: one [`StepOutcome`] per tool call (see
//! [`super::tools`]), and one per assistant turn that failed without a tool (a refusal, a
//! question left unanswered).

use converra_api::conversations::Message;
use converra_api::insights::{RootCause, StepStatus};

use super::tools::tool_steps;
use super::turns::{failed_turns, FailedTurn, TurnFailure};
use crate::engine::StepOutcome;

/// One [`StepOutcome`] per tool call, plus failed assistant turns, in message order (at one
/// message, tool steps come first).
pub fn diagnose_steps(messages: &[Message]) -> Vec<StepOutcome> {
    assemble(tool_steps(messages), &failed_turns(messages))
}

/// Merges tool steps and failed turns in message order: what [`diagnose_steps`] returns,
/// for callers that have both at hand already.
pub(crate) fn assemble(tools: Vec<StepOutcome>, turns: &[FailedTurn]) -> Vec<StepOutcome> {
    let mut steps = tools;
    steps.extend(turns.iter().map(turn_step));
    // Stable: tool steps keep their order and precede a turn step at the same message.
    steps.sort_by_key(|s| s.message_index);
    steps
}

fn turn_step(turn: &FailedTurn) -> StepOutcome {
    let error = match turn.reason {
        TurnFailure::Refused => "the assistant refused the request",
        TurnFailure::LeftQuestionUnanswered => "the assistant left the user's question unanswered",
    };
    StepOutcome {
        name: format!("turn:{}", turn.turn),
        status: StepStatus::Failed,
        error: Some(error.to_owned()),
        message_index: turn.message_index,
        root_cause: Some(RootCause::PromptIssue),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use converra_api::conversations::{Role, ToolCall};
    use serde_json::{json, Value};

    fn msg(role: Role, content: &str) -> Message {
        Message::new(role, content)
    }

    fn call(name: &str, result: Option<Value>, error: Option<&str>) -> ToolCall {
        ToolCall {
            id: None,
            name: name.to_owned(),
            arguments: json!({}),
            result,
            error: error.map(str::to_owned),
            nested_trace: None,
        }
    }

    #[test]
    fn refusals_and_unanswered_questions_are_turn_steps() {
        let messages = vec![
            msg(Role::User, "Can you refund my order 12345?"),
            msg(Role::Assistant, "I'm sorry, but I can't help with refunds."),
            msg(Role::User, "What is the weather on Mars?"),
            msg(Role::Assistant, "Our opening hours are on the website."),
        ];
        let steps = diagnose_steps(&messages);
        let names: Vec<&str> = steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["turn:1", "turn:2"]);
        assert!(steps.iter().all(
            |s| s.status == StepStatus::Failed && s.root_cause == Some(RootCause::PromptIssue)
        ));
        assert_eq!(steps[0].message_index, 1);
        assert_eq!(steps[1].message_index, 3);
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        assert!(diagnose_steps(&[]).is_empty());
        let mut weird = msg(Role::Tool, &"é".repeat(10_000));
        weird.metadata = Some(json!("not an object"));
        let steps = diagnose_steps(&[weird, msg(Role::Tool, "{not json")]);
        assert_eq!(steps.len(), 2);
        let mut long = msg(Role::Assistant, "");
        long.tool_calls = Some(vec![call("", None, Some(&"ü".repeat(1000)))]);
        let steps = diagnose_steps(&[long]);
        assert_eq!(steps[0].name, "tool");
        assert!(steps[0]
            .error
            .as_deref()
            .is_some_and(|e| e.chars().count() <= 301));
    }
}
