//! Turn-level findings: refusals, deflections, hand-overs and questions a reply left
//! unanswered, and the assistant turns that failed without a tool.

use converra_api::conversations::Message;

use super::lexicon::{DEFLECTIONS, HAND_OVERS, HUMAN_REQUESTS, NOT_REFUSALS, REFUSALS};
use super::text::content_stems;
use super::transcript::{lowered, Line, Transcript};

/// Why an assistant turn counts as a failed step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnFailure {
    /// The reply declined the request ("I can't help with that").
    Refused,
    /// The reply did not answer the user's question (no shared content, or a deflection).
    LeftQuestionUnanswered,
}

/// An assistant turn that failed without a tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailedTurn {
    pub message_index: usize,
    /// 1-based position among the assistant's replies (messages with text); the step is
    /// named `turn:N` after it, so that the same turn adds up across conversations.
    pub turn: usize,
    pub reason: TurnFailure,
}

pub(crate) fn is_refusal(line: &Line) -> bool {
    line.has(REFUSALS) && !line.has(NOT_REFUSALS)
}

pub(crate) fn hands_over(line: &Line) -> bool {
    line.has(HAND_OVERS) && !is_refusal(line)
}

pub(crate) fn asks_for_human(line: &Line) -> bool {
    line.has(HUMAN_REQUESTS) || line.has_word(&["human", "humans"])
}

pub(crate) fn is_deflection(line: &Line) -> bool {
    line.has(DEFLECTIONS)
}

/// A reply that asks the user something back (not "anything else?").
pub(crate) fn is_clarifying(line: &Line) -> bool {
    line.asks() && !is_deflection(line)
}

/// What the exchanges of a transcript show about the assistant's turns.
pub(crate) struct TurnReading {
    pub(crate) refusals: Vec<usize>,
    /// (the user's question, the reply that missed it).
    pub(crate) unanswered: Vec<(usize, usize)>,
    /// A question the transcript ends on.
    pub(crate) trailing_question: Option<usize>,
    pub(crate) relevant: usize,
    pub(crate) evaluated: usize,
    pub(crate) failed_turns: Vec<FailedTurn>,
}

/// Reads every exchange once: refusals, unanswered questions, relevance, failed turns.
pub(crate) fn read_turns(t: &Transcript) -> TurnReading {
    let mut reading = TurnReading {
        refusals: Vec::new(),
        unanswered: Vec::new(),
        trailing_question: None,
        relevant: 0,
        evaluated: 0,
        failed_turns: Vec::new(),
    };
    let mut stems = Vec::new();
    let mut reply_stems = Vec::new();
    for exchange in &t.exchanges {
        let question = exchange
            .users
            .iter()
            .rev()
            .copied()
            .find(|&u| t.lines[u].asks());
        let Some(reply_index) = exchange.reply else {
            reading.trailing_question = question;
            continue;
        };
        let reply = &t.lines[reply_index];
        let refused = is_refusal(reply);
        if refused {
            reading.refusals.push(reply_index);
            reading.failed_turns.push(FailedTurn {
                message_index: reply_index,
                turn: exchange.turn,
                reason: TurnFailure::Refused,
            });
        }
        if exchange.users.is_empty() {
            continue;
        }
        stems.clear();
        for &u in &exchange.users {
            content_stems(&t.lines[u].words, &mut stems);
        }
        reply_stems.clear();
        content_stems(&reply.words, &mut reply_stems);
        let overlap = stems.iter().filter(|s| reply_stems.contains(s)).count();
        let deflects = is_deflection(reply);
        // Handing over answers a request for a person, whatever the words.
        let handed =
            hands_over(reply) && exchange.users.iter().any(|&u| asks_for_human(&t.lines[u]));
        let answered =
            handed || is_clarifying(reply) || overlap >= 2 || (overlap == 1 && !deflects);
        if question.is_some() || stems.len() >= 3 {
            reading.evaluated += 1;
            if answered && !refused {
                reading.relevant += 1;
            }
        }
        if let Some(q) = question {
            if !answered && !refused {
                reading.unanswered.push((q, reply_index));
                reading.failed_turns.push(FailedTurn {
                    message_index: reply_index,
                    turn: exchange.turn,
                    reason: TurnFailure::LeftQuestionUnanswered,
                });
            }
        }
    }
    reading
}

/// The assistant turns that failed without a tool (refusals, unanswered questions), for
/// [`super::steps::diagnose_steps`].
pub(crate) fn failed_turns(messages: &[Message]) -> Vec<FailedTurn> {
    let lowered = lowered(messages);
    let t = Transcript::new(messages, &lowered);
    read_turns(&t).failed_turns
}
