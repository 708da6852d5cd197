//! The words for people: title, topics, keywords, summaries, concerns, next steps and
//! business impact of one conversation.

use std::cmp::Reverse;
use std::collections::HashMap;

use converra_api::conversations::Role;

use super::detectors::{Claims, MissingDetail, ToolReading};
use super::lexicon::{TOPICS, TOPIC_MAP, TOPIC_WORDS};
use super::{Findings, Outcome};
use crate::engine::reading::text::{is_content, MAX_ANALYSED_BYTES};
use crate::engine::reading::transcript::Transcript;
use crate::engine::{DetectedIssue, IssueKind};

/// An assistant turn slower than this is worth a concern.
const SLOW_TURN_MS: f64 = 5_000.0;

/// The topics the user's words point to, most mentioned first (at most three), or `other`.
pub(super) fn topics_of(t: &Transcript) -> Vec<&'static str> {
    let mut hits = [0usize; TOPICS.len()];
    for (_, line) in t.users() {
        for word in &line.words {
            if let Some(&topic) = TOPIC_MAP.get(word) {
                hits[topic] += 1;
            }
        }
        for (phrase, topic) in TOPIC_WORDS.iter().filter(|(w, _)| w.contains(' ')) {
            if line.lower.contains(phrase) {
                hits[*topic] += 1;
            }
        }
    }
    let mut found: Vec<usize> = (0..TOPICS.len()).filter(|&i| hits[i] > 0).collect();
    found.sort_by_key(|&i| Reverse(hits[i]));
    found.truncate(3);
    if found.is_empty() {
        vec![TOPICS[TOPICS.len() - 1]]
    } else {
        found.into_iter().map(|i| TOPICS[i]).collect()
    }
}

pub(super) fn keywords_of(t: &Transcript) -> Vec<String> {
    let mut counts: HashMap<&str, (u32, usize)> = HashMap::new();
    let mut position = 0usize;
    for line in &t.lines {
        let weight = match line.role {
            Role::User => 2,
            Role::Assistant => 1,
            _ => continue,
        };
        for word in &line.words {
            position += 1;
            if is_content(word) && word.chars().any(char::is_alphabetic) && word.len() <= 30 {
                let entry = counts.entry(word).or_insert((0, position));
                entry.0 += weight;
            }
        }
    }
    let mut ranked: Vec<(&str, (u32, usize))> = counts.into_iter().collect();
    ranked.sort_by_key(|(_, (count, first))| (Reverse(*count), *first));
    ranked
        .into_iter()
        .take(8)
        .map(|(w, _)| w.to_owned())
        .collect()
}

pub(super) fn title_of(t: &Transcript) -> String {
    let first = t.users().next().map(|(_, l)| l.raw).unwrap_or_default();
    let line = first
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    let collapsed: String = line.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        return "Conversation without a user message".to_owned();
    }
    if collapsed.chars().count() <= 60 {
        return collapsed;
    }
    let head: String = collapsed.chars().take(59).collect();
    let cut = match head.rfind(' ') {
        Some(space) if space > 30 => &head[..space],
        _ => head.as_str(),
    };
    format!("{}…", cut.trim_end_matches([',', ';', ':', ' ']))
}

pub(super) fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

pub(super) fn indexes(list: &[usize]) -> String {
    list.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn tone(score: f64) -> &'static str {
    if score > 0.15 {
        "positive"
    } else if score < -0.15 {
        "negative"
    } else {
        "neutral"
    }
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn next_step(
    kind: IssueKind,
    tools: &ToolReading,
    missing: Option<&MissingDetail>,
    handed_over: bool,
    claims: &Claims,
) -> String {
    match kind {
        IssueKind::Refusal => "Check whether the refused request is allowed; if it is, say so in the prompt and tell the agent to answer instead of declining.".to_owned(),
        IssueKind::RepeatedAnswer => "Add a rule against repeating a previous reply: when the user is still stuck, try a different approach or hand over.".to_owned(),
        IssueKind::ApologyLoop => "Limit the agent to one apology and require every reply to add a next step.".to_owned(),
        IssueKind::UnansweredQuestion => "Tell the agent to answer the user's actual question in its first sentence, or say plainly that it cannot.".to_owned(),
        IssueKind::FailedToolCall => format!(
            "Check {} and add tool-error handling to the prompt: say what failed, retry once, then offer an alternative.",
            tools.failure_notes.first().map(String::as_str).unwrap_or("the failing tool")
        ),
        IssueKind::HumanRequested if handed_over => "Keep the hand-over path; look at what made this user ask for a person.".to_owned(),
        IssueKind::HumanRequested => "Add an escalation policy: hand over to a human on request or after two failed attempts.".to_owned(),
        IssueKind::Frustration => "Ask for an empathetic tone: acknowledge the problem in one sentence before solving it.".to_owned(),
        IssueKind::Verbose => "Add a length limit (about three sentences unless the user asks for more).".to_owned(),
        IssueKind::MissingDetails => format!(
            "Have the agent ask for the {} before acting on it.",
            missing.map(|m| m.noun).unwrap_or("missing details")
        ),
        IssueKind::UnsupportedClaim => format!(
            "Require answers grounded in tool results or the prompt, and saying so when unsure (unsupported here: {}).",
            claims.examples.join(", ")
        ),
    }
}

/// Things worth a look that are not issues: a trailing question, slow turns, high token
/// use, robotic phrasing, hedging and the like.
pub(super) fn additional_concerns(t: &Transcript, f: &Findings, o: &Outcome) -> Vec<String> {
    let messages = t.messages;
    let mut concerns = Vec::new();
    if let Some(q) = f.turns.trailing_question {
        concerns.push(format!(
            "The conversation ends on a user question (message {q}) with no reply."
        ));
    }
    if !o.has_reply {
        concerns.push("The assistant never replied in this conversation.".to_owned());
    }
    let slow = messages
        .iter()
        .filter(|m| m.latency_ms.is_some_and(|l| l > SLOW_TURN_MS))
        .count();
    if slow > 0 {
        concerns.push(format!(
            "{} took over 5 s.",
            plural(slow, "assistant turn", "assistant turns")
        ));
    }
    let tokens: u64 = messages
        .iter()
        .filter_map(|m| m.usage)
        .map(|u| u.prompt_tokens.saturating_add(u.completion_tokens))
        .fold(0, u64::saturating_add);
    if tokens > 20_000 {
        concerns.push(format!(
            "High token use: {tokens} tokens over the conversation."
        ));
    }
    if f.apologies.total >= 3 && f.apologies.loop_replies.is_empty() {
        concerns.push(format!(
            "The assistant apologised {} times.",
            f.apologies.total
        ));
    }
    if let Some(example) = f.style.robotic_example {
        concerns.push(format!(
            "{} sound robotic (\"{example}\").",
            plural(f.style.robotic, "reply", "replies")
        ));
    }
    if f.style.hedges >= 3 {
        concerns.push(format!(
            "{} hedges (\"maybe\", \"might\"…) in the replies.",
            f.style.hedges
        ));
    }
    if f.retention.reasks > 0 {
        concerns.push(format!(
            "The assistant asked again for a detail the user had already given ({}).",
            plural(f.retention.reasks, "time", "times")
        ));
    }
    if !f.tools.action_claims.is_empty() {
        concerns.push(format!(
            "The assistant reported an action as done with no successful tool call behind it (message {}).",
            indexes(&f.tools.action_claims)
        ));
    }
    if messages.len() > 40 {
        concerns.push(format!("A long conversation: {} messages.", messages.len()));
    }
    if t.truncated {
        concerns.push(format!(
            "Messages over {} KiB were read only up to that length.",
            MAX_ANALYSED_BYTES / 1024
        ));
    }
    concerns
}

/// One next step per issue, in the issues' order.
pub(super) fn next_steps(issues: &[DetectedIssue], f: &Findings) -> Vec<String> {
    issues
        .iter()
        .map(|issue| {
            next_step(
                issue.kind,
                &f.tools,
                f.missing.as_ref(),
                f.handed_over,
                &f.claims,
            )
        })
        .collect()
}

/// The main topic, or `other`.
fn main_topic<'a>(topics: &[&'a str]) -> &'a str {
    topics.first().copied().unwrap_or("other")
}

/// One line: completed or not, the topic, the top three issues, the quality score.
pub(super) fn executive_summary(
    topics: &[&str],
    issues: &[DetectedIssue],
    task_completed: bool,
    quality_score: f64,
) -> String {
    let topic = main_topic(topics);
    let topic_phrase = if topic == "other" {
        "general".to_owned()
    } else {
        topic.to_owned()
    };
    let issue_list = issues
        .iter()
        .take(3)
        .map(|i| lower_first(i.kind.title()))
        .collect::<Vec<_>>()
        .join("; ");
    format!(
        "{}: a {topic_phrase} conversation {}. Quality {quality_score:.0}/100.",
        if task_completed {
            "Completed"
        } else {
            "Not completed"
        },
        if issues.is_empty() {
            "with no issue found".to_owned()
        } else {
            format!(
                "with {} ({issue_list})",
                plural(issues.len(), "issue", "issues")
            )
        }
    )
}

/// A paragraph: who said how much about what, every issue, the user's tone, the outcome.
pub(super) fn summary(
    t: &Transcript,
    f: &Findings,
    issues: &[DetectedIssue],
    topics: &[&str],
    task_completed: bool,
) -> String {
    let mut summary = format!(
        "{} messages ({} from the user, {} replies from the assistant) about {}.",
        t.messages.len(),
        f.moods.len(),
        t.replies.len(),
        topics.join(", ")
    );
    if f.tools.calls > 0 && f.tools.failed.is_empty() {
        summary.push_str(&format!(
            " The assistant made {}, all of which succeeded.",
            plural(f.tools.calls, "tool call", "tool calls")
        ));
    }
    for issue in issues {
        summary.push(' ');
        summary.push_str(&issue.description);
    }
    if let (Some(first), Some(last)) = (f.moods.first(), f.moods.last()) {
        summary.push_str(&format!(
            " The user's tone went from {} to {}.",
            tone(first.1.score),
            tone(last.1.score)
        ));
    }
    summary.push_str(if task_completed {
        " The task was completed."
    } else {
        " The task was not completed."
    });
    summary
}

/// What the user is told, when there is a user message.
pub(super) fn user_facing_summary(
    f: &Findings,
    topics: &[&str],
    title: &str,
    task_completed: bool,
) -> Option<String> {
    let topic = main_topic(topics);
    (!f.moods.is_empty()).then(|| {
        format!(
            "You asked about {}. {}",
            if topic == "other" {
                format!("\"{title}\"")
            } else {
                topic.to_owned()
            },
            if task_completed {
                "The request was resolved."
            } else if !f.human_requests.is_empty() && !f.handed_over {
                "The request was not resolved and you were not handed over to a person."
            } else {
                "The request was not resolved in this conversation."
            }
        )
    })
}

/// What an unresolved conversation costs, by topic.
pub(super) fn business_impact(f: &Findings, o: &Outcome, topics: &[&str]) -> Option<String> {
    let topic = main_topic(topics);
    (!o.task_completed).then(|| {
        let mut text = match topic {
            "billing" | "refunds" | "cancellation" | "pricing" => format!(
                "Revenue at risk: an unresolved {topic} conversation often ends in a chargeback, a cancellation or a lost sale."
            ),
            "shipping" => "An unresolved delivery question usually comes back as a repeat contact and erodes trust in delivery promises.".to_owned(),
            "account access" => "A user who cannot get into their account cannot use the product; expect a repeat contact or churn.".to_owned(),
            "technical problem" => "An unresolved technical problem blocks the user's work and tends to come back as a ticket.".to_owned(),
            "onboarding" => "A new user stuck during setup is at high risk of never activating.".to_owned(),
            _ => "The user's request went unresolved; expect a repeat contact.".to_owned(),
        };
        if !f.human_requests.is_empty() && !f.handed_over {
            text.push_str(" The user asked for a human and was not handed over.");
        }
        if o.closing_negative {
            text.push_str(" The user left unhappy.");
        }
        text
    })
}
