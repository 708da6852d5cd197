//! Being written: step diagnosis from tool calls, shared by both engines.

use converra_api::conversations::Message;

use super::StepOutcome;

/// One [`StepOutcome`] per tool call, plus failed assistant turns, in message order.
pub fn diagnose_steps(_messages: &[Message]) -> Vec<StepOutcome> {
    Vec::new()
}
