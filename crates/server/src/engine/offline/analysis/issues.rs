//! The issues of one conversation, each made from what the detectors counted, most severe
//! first.

use std::cmp::Reverse;

use converra_api::insights::{Severity, StepStatus};

use super::summaries::{indexes, plural};
use super::{Findings, Outcome};
use crate::engine::reading::transcript::Transcript;
use crate::engine::{DetectedIssue, IssueKind};

/// Every issue found, most severe first (in detection order among equals).
pub(super) fn issues(t: &Transcript, f: &Findings, o: &Outcome) -> Vec<DetectedIssue> {
    let mut issues: Vec<DetectedIssue> = [
        refusal(f, o),
        repeated_answer(f),
        apology_loop(f),
        unanswered_question(f, o),
        failed_tool_call(f, o),
        human_requested(f),
        frustration(f, o),
        verbose(t, f),
        missing_details(f),
        unsupported_claim(f),
    ]
    .into_iter()
    .flatten()
    .collect();
    issues.sort_by_key(|i| Reverse(i.severity));
    issues
}

fn issue(
    kind: IssueKind,
    severity: Severity,
    description: String,
    message_indexes: Vec<usize>,
) -> DetectedIssue {
    DetectedIssue {
        kind,
        title: kind.title().to_owned(),
        description,
        severity,
        message_indexes,
    }
}

fn refusal(f: &Findings, o: &Outcome) -> Option<DetectedIssue> {
    let refusals = &f.turns.refusals;
    if refusals.is_empty() {
        return None;
    }
    let n = refusals.len();
    let severity = if n >= 2 || o.last_reply.is_some_and(|r| refusals.contains(&r)) {
        Severity::High
    } else {
        Severity::Medium
    };
    Some(issue(
        IssueKind::Refusal,
        severity,
        format!(
            "The assistant declined {} (message {}).",
            plural(n, "time", "times"),
            indexes(refusals)
        ),
        refusals.clone(),
    ))
}

fn repeated_answer(f: &Findings) -> Option<DetectedIssue> {
    let repeated = &f.repeated;
    if repeated.is_empty() {
        return None;
    }
    let severity = if repeated.len() >= 2 {
        Severity::High
    } else {
        Severity::Medium
    };
    Some(issue(
        IssueKind::RepeatedAnswer,
        severity,
        format!(
            "{} repeated an earlier reply almost word for word (message {}).",
            plural(repeated.len(), "reply", "replies"),
            indexes(repeated)
        ),
        repeated.clone(),
    ))
}

fn apology_loop(f: &Findings) -> Option<DetectedIssue> {
    let replies = &f.apologies.loop_replies;
    if replies.is_empty() {
        return None;
    }
    let n = replies.len();
    Some(issue(
        IssueKind::ApologyLoop,
        if n >= 3 {
            Severity::Medium
        } else {
            Severity::Low
        },
        format!(
            "{n} replies in a row apologised, and at least one added nothing new (message {}).",
            indexes(replies)
        ),
        replies.clone(),
    ))
}

fn unanswered_question(f: &Findings, o: &Outcome) -> Option<DetectedIssue> {
    let unanswered = &f.turns.unanswered;
    if unanswered.is_empty() {
        return None;
    }
    let n = unanswered.len();
    let last_failed = o.last_exchange_failed
        && unanswered
            .last()
            .is_some_and(|(_, r)| Some(*r) == o.last_reply);
    let mut at: Vec<usize> = unanswered.iter().flat_map(|(q, r)| [*q, *r]).collect();
    at.dedup();
    Some(issue(
        IssueKind::UnansweredQuestion,
        if n >= 2 || last_failed {
            Severity::High
        } else {
            Severity::Medium
        },
        format!(
            "{} got a reply that shares no content with it or deflects (question at message {}).",
            plural(n, "user question", "user questions"),
            indexes(&unanswered.iter().map(|(q, _)| *q).collect::<Vec<_>>())
        ),
        at,
    ))
}

fn failed_tool_call(f: &Findings, o: &Outcome) -> Option<DetectedIssue> {
    let tools = &f.tools;
    if tools.failed.is_empty() {
        return None;
    }
    let failures = f
        .tool_steps
        .iter()
        .filter(|s| s.status == StepStatus::Failed)
        .count();
    let successes = tools.calls - failures;
    let severity = if failures >= 2 && successes == 0 && !o.task_completed {
        Severity::Critical
    } else if tools.unresolved > 0 || !tools.glossed.is_empty() {
        Severity::High
    } else {
        Severity::Medium
    };
    let mut description = format!(
        "{} of {} failed: {}.",
        plural(failures, "tool call", "tool calls"),
        tools.calls,
        tools.failure_notes.join("; ")
    );
    if !tools.glossed.is_empty() {
        description.push_str(" The next reply did not acknowledge the failure.");
    } else if tools.unresolved == 0 {
        description
            .push_str(" The assistant acknowledged it and offered a way forward or retried.");
    }
    Some(issue(
        IssueKind::FailedToolCall,
        severity,
        description,
        tools.failed.clone(),
    ))
}

fn human_requested(f: &Findings) -> Option<DetectedIssue> {
    let requests = &f.human_requests;
    if requests.is_empty() {
        return None;
    }
    let n = requests.len();
    let (severity, outcome) = if f.handed_over {
        (Severity::Low, "and was handed over")
    } else if n >= 2 {
        (Severity::Critical, "and was never handed over")
    } else {
        (Severity::High, "and was not handed over")
    };
    Some(issue(
        IssueKind::HumanRequested,
        severity,
        format!(
            "The user asked for a human {} (message {}) {outcome}.",
            plural(n, "time", "times"),
            indexes(requests)
        ),
        requests.clone(),
    ))
}

fn frustration(f: &Findings, o: &Outcome) -> Option<DetectedIssue> {
    let frustrated = &f.frustrated;
    if frustrated.is_empty() {
        return None;
    }
    let ends_frustrated = o
        .last_user
        .is_some_and(|(i, _)| frustrated.last() == Some(&i));
    let severity = if ends_frustrated || frustrated.len() >= 3 {
        Severity::High
    } else {
        Severity::Medium
    };
    Some(issue(
        IssueKind::Frustration,
        severity,
        format!(
            "{} read as frustrated (angry words, shouting or \"!!\"; message {}){}.",
            plural(frustrated.len(), "user message", "user messages"),
            indexes(frustrated),
            if ends_frustrated {
                ", including the last one"
            } else {
                ""
            }
        ),
        frustrated.clone(),
    ))
}

fn verbose(t: &Transcript, f: &Findings) -> Option<DetectedIssue> {
    let verbose = &f.length.verbose;
    if verbose.is_empty() {
        return None;
    }
    let share = verbose.len() as f64 / t.replies.len().max(1) as f64;
    Some(issue(
        IssueKind::Verbose,
        if share >= 0.5 {
            Severity::Medium
        } else {
            Severity::Low
        },
        format!(
            "{} ran over twice the length the question warranted (message {}).",
            plural(verbose.len(), "reply", "replies"),
            indexes(verbose)
        ),
        verbose.clone(),
    ))
}

fn missing_details(f: &Findings) -> Option<DetectedIssue> {
    let m = f.missing.as_ref()?;
    Some(issue(
        IssueKind::MissingDetails,
        Severity::Medium,
        format!(
            "The user mentioned their {} without identifying it (message {}) and the assistant went ahead without asking for it (message {}).",
            m.noun, m.user, m.reply
        ),
        vec![m.user, m.reply],
    ))
}

fn unsupported_claim(f: &Findings) -> Option<DetectedIssue> {
    let claims = &f.claims;
    if claims.facts + claims.guarantees == 0 {
        return None;
    }
    let severity = if claims.facts >= 3 || claims.guarantees > 0 {
        Severity::High
    } else {
        Severity::Medium
    };
    Some(issue(
        IssueKind::UnsupportedClaim,
        severity,
        format!(
            "The assistant stated {}{} that neither the prompt, the user nor a tool provided ({}).",
            plural(claims.facts, "number or date", "numbers or dates"),
            if claims.guarantees > 0 {
                format!(
                    " and {}",
                    plural(claims.guarantees, "guarantee", "guarantees")
                )
            } else {
                String::new()
            },
            claims.examples.join(", ")
        ),
        claims.replies.clone(),
    ))
}
