//! The offline engine's reading of one conversation: measurable features of the transcript
//! (refusals, near-duplicate replies, failed tools, sentiment words, numbers without a
//! source…) turned into the 11 metrics, issues, steps and templated summaries. Keyword
//! rules, not understanding: see [`analyze`] for every formula.
//!
//! [`lexicon`] holds the word lists, [`detectors`] what is counted in a transcript,
//! [`issues`], [`metrics`] and [`summaries`] what is made of the counts.

mod detectors;
mod guarantees;
mod issues;
mod lexicon;
mod metrics;
mod summaries;
#[cfg(test)]
mod tests;

use converra_api::conversations::Message;
use converra_api::insights::Severity;

use crate::engine::reading::steps;
use crate::engine::reading::text::{capped, normalise};
use crate::engine::reading::tools;
use crate::engine::reading::transcript::{lowered, Transcript};
use crate::engine::reading::turns::{asks_for_human, hands_over, read_turns, TurnReading};
use crate::engine::{ConversationAnalysis, StepOutcome};
use detectors::{
    apology_loops, missing_detail, mood, read_length, read_retention, read_style, read_tools,
    repeated_replies, unsupported_claims, Apologies, Claims, Length, MissingDetail, Mood,
    Retention, Style, ToolReading,
};
use lexicon::ABANDONMENT;
use metrics::round1;

/// The quality score of a conversation whose task failed (or that shows a critical issue)
/// is capped at this in `gated_score`.
const GATE_CAP: f64 = 40.0;

/// What the detectors counted in one transcript, before anything is judged.
struct Findings {
    turns: TurnReading,
    repeated: Vec<usize>,
    apologies: Apologies,
    claims: Claims,
    tool_steps: Vec<StepOutcome>,
    tools: ToolReading,
    length: Length,
    style: Style,
    retention: Retention,
    missing: Option<MissingDetail>,
    /// The user's mood, message by message.
    moods: Vec<(usize, Mood)>,
    /// User messages that read as frustrated.
    frustrated: Vec<usize>,
    /// Requests for a human, and whether one was handed over.
    human_requests: Vec<usize>,
    handed_over: bool,
}

/// How the conversation ended, and whether its task counts as completed.
struct Outcome {
    has_reply: bool,
    last_user: Option<(usize, Mood)>,
    closing_positive: bool,
    closing_negative: bool,
    last_reply: Option<usize>,
    /// The last reply refused or left a question unanswered.
    last_exchange_failed: bool,
    task_completed: bool,
}

/// Reads one conversation. Deterministic, no I/O, never fails.
///
/// Every metric is 0..100, higher is better, and a documented function of counted features
/// (replies = assistant messages with text):
///
/// | metric | formula |
/// |---|---|
/// | `successScore` | (100 if the task completed, else 40) − 4 × severity points of the issues (low 1, medium 2, high 3, critical 5) |
/// | `aiRelevancy` | 100 × share of user turns (a question or ≥ 3 content words) whose reply shares a content word with them or asks back, and neither refuses nor deflects |
/// | `sentiment` | 100 × `sentimentScore` |
/// | `hallucinationScore` | 100 − 15 × numbers/dates no source mentions − 20 × guarantees the prompt does not make |
/// | `repetitionScore` | 100 − 30 × near-duplicate replies − 15 × extra apologies in apology loops |
/// | `consistencyScore` | 100 − 30 × tool failures the next reply passed over − 20 × actions reported done with no successful tool call |
/// | `naturalLanguageScore` | 100 − 2 × words per sentence beyond 22 (or short of 5) − 15 × robotic phrases − 10 × shouted replies |
/// | `contextRetentionScore` | 100 − 25 × requests for a detail the user already gave − 20 × "I already told you" |
/// | `verbosityScore` | 100 − mean per-reply penalty: 50 × (words − allowance) / allowance, capped at 70, allowance = max(40, 3 × words of the user turn); +20 for a reply under 3 words to 10+ |
/// | `taskCompletion` | completed: 100 with a positive closing, else 85; not completed: 10 if the user left unhappy, 0 without any reply, else 30 |
/// | `clarity` | 100 − 2.5 × words per sentence beyond 18 − 8 × hedges per reply (≤ 4) − 15 × deflected questions − 20 × share of verbose replies |
///
/// `qualityScore` is their mean; `gatedScore` is capped at 40 when the task did not
/// complete or a critical issue shows. `objectiveMultiplier` is 1.25 for a failed
/// conversation about money (billing, refunds, cancellation, pricing), else 1.0.
/// `sentimentScore` is the user's messages' mood (−1..1, from a word list, negation,
/// shouting and "!!"), weighted by position (the i-th user message weighs i, the last
/// twice that), mapped to 0..1. The task counts as completed when there is an exchange,
/// the user did not leave unhappy, nothing stayed unresolved (a human refused, a failed
/// tool neither handled nor retried, a final refusal or unanswered question), and the user
/// closed positively or the conversation ends on a reply that answers (not a question back).
pub fn analyze(messages: &[Message], agent_prompt: Option<&str>) -> ConversationAnalysis {
    let lowered = lowered(messages);
    let t = Transcript::new(messages, &lowered);
    let prompt_lower = agent_prompt
        .map(|p| normalise(capped(p)))
        .unwrap_or_default();

    let findings = find(&t, &prompt_lower);
    let outcome = judge_outcome(&t, &findings);
    let (sentiment, sentiment_score) = metrics::sentiment(&findings.moods);
    let issues = issues::issues(&t, &findings, &outcome);
    let critical = issues.iter().any(|i| i.severity == Severity::Critical);
    let scores = metrics::scores(&t, &findings, &outcome, &issues, sentiment_score);
    let quality_score = round1(scores.overall());
    let gated_score = if !outcome.task_completed || critical {
        quality_score.min(GATE_CAP)
    } else {
        quality_score
    };

    let topics = summaries::topics_of(&t);
    let title = summaries::title_of(&t);
    let task_completed = outcome.task_completed;
    ConversationAnalysis {
        executive_summary: summaries::executive_summary(
            &topics,
            &issues,
            task_completed,
            quality_score,
        ),
        summary: summaries::summary(&t, &findings, &issues, &topics, task_completed),
        user_facing_summary: summaries::user_facing_summary(
            &findings,
            &topics,
            &title,
            task_completed,
        ),
        business_impact: summaries::business_impact(&findings, &outcome, &topics),
        additional_concerns: summaries::additional_concerns(&t, &findings, &outcome),
        next_steps: summaries::next_steps(&issues, &findings),
        keywords: summaries::keywords_of(&t),
        title,
        metrics: scores,
        quality_score,
        gated_score,
        objective_multiplier: metrics::objective_multiplier(&topics, task_completed),
        issues,
        topics: topics.into_iter().map(str::to_owned).collect(),
        sentiment,
        sentiment_score: (sentiment_score * 1000.0).round() / 1000.0,
        task_completed,
        steps: steps::assemble(findings.tool_steps, &findings.turns.failed_turns),
        engine_tokens: 0,
    }
}

/// Runs every detector over the transcript once.
fn find(t: &Transcript, prompt_lower: &str) -> Findings {
    let tool_steps = tools::tool_steps(t.messages);
    let tools = read_tools(t, &tool_steps);
    let moods: Vec<(usize, Mood)> = t.users().map(|(i, l)| (i, mood(l))).collect();
    let frustrated: Vec<usize> = moods
        .iter()
        .filter(|(_, m)| m.frustrated)
        .map(|(i, _)| *i)
        .collect();
    let human_requests: Vec<usize> = t
        .users()
        .filter(|(_, l)| asks_for_human(l))
        .map(|(i, _)| i)
        .collect();
    let handed_over = human_requests.first().is_some_and(|&first| {
        t.replies
            .iter()
            .any(|&r| r > first && hands_over(&t.lines[r]))
    });
    Findings {
        turns: read_turns(t),
        repeated: repeated_replies(t),
        apologies: apology_loops(t),
        claims: unsupported_claims(t, prompt_lower),
        tool_steps,
        tools,
        length: read_length(t),
        style: read_style(t),
        retention: read_retention(t),
        missing: missing_detail(t),
        moods,
        frustrated,
        human_requests,
        handed_over,
    }
}

/// How the conversation ended: the task counts as completed when nothing stayed
/// unresolved and the user closed positively or the last reply answers.
fn judge_outcome(t: &Transcript, f: &Findings) -> Outcome {
    let turns = &f.turns;
    let has_reply = !t.replies.is_empty();
    let last_user = f.moods.last().copied();
    let closing_line = last_user.and_then(|(i, _)| t.line(i));
    let closing_positive = last_user.is_some_and(|(_, m)| m.score > 0.0);
    let closing_negative = last_user.is_some_and(|(_, m)| m.score < 0.0)
        || closing_line.is_some_and(|l| l.has(ABANDONMENT));
    let last_reply = t.replies.last().copied();
    let last_exchange_failed = t
        .exchanges
        .iter()
        .rev()
        .find(|e| e.reply.is_some())
        .is_some_and(|e| {
            e.reply.is_some_and(|r| {
                turns.refusals.contains(&r) || turns.unanswered.iter().any(|(_, u)| *u == r)
            })
        });
    let unresolved = (!f.human_requests.is_empty() && !f.handed_over)
        || f.tools.unresolved > 0
        || last_reply.is_some_and(|r| turns.refusals.contains(&r))
        || last_exchange_failed
        || turns.trailing_question.is_some();
    // Without a positive word from the user, the conversation must end on a reply that
    // answers (not on a question back, nor mid-way).
    let ends_on_answer = t.exchanges.last().is_some_and(|e| {
        e.reply
            .is_some_and(|r| !t.lines[r].asks() && !last_exchange_failed)
    });
    let task_completed = has_reply
        && last_user.is_some()
        && !unresolved
        && !closing_negative
        && (closing_positive || ends_on_answer);
    Outcome {
        has_reply,
        last_user,
        closing_positive,
        closing_negative,
        last_reply,
        last_exchange_failed,
        task_completed,
    }
}
