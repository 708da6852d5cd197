//! The offline engine's reading of one conversation: measurable features of the transcript
//! (refusals, near-duplicate replies, failed tools, sentiment words, numbers without a
//! source…) turned into the 11 metrics, issues, steps and templated summaries. Keyword
//! rules, not understanding: see [`analyze`] for every formula.

use std::cmp::Reverse;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use converra_api::conversations::{Message, Role};
use converra_api::insights::{Metric, Sentiment, Severity, StepStatus};
use serde_json::Value;

use crate::engine::reading::steps;
use crate::engine::reading::text::{
    capped, is_content, is_number, normalise, tokenize, MAX_ANALYSED_BYTES,
};
use crate::engine::reading::transcript::{lowered, Line, Transcript};
use crate::engine::reading::turns::{
    asks_for_human, hands_over, is_deflection, is_refusal, read_turns,
};
use crate::engine::{ConversationAnalysis, DetectedIssue, IssueKind, MetricScores, StepOutcome};

/// A reply is compared with this many earlier replies for repetition.
const REPEAT_WINDOW: usize = 6;
/// Word-trigram Jaccard similarity from which two replies count as the same answer.
const REPEAT_SIMILARITY: f64 = 0.6;
/// An assistant turn slower than this is worth a concern.
const SLOW_TURN_MS: f64 = 5_000.0;
/// The quality score of a conversation whose task failed (or that shows a critical issue)
/// is capped at this in `gated_score`.
const GATE_CAP: f64 = 40.0;

// ----- lexicons (lowercase, apostrophes as ') -----

/// Sentiment words in user messages: +1 positive, -1 mildly negative, -2 strongly negative
/// (a strong word makes the message count as frustrated).
const SENTIMENT_WORDS: &[(&str, i8)] = &[
    ("amazing", 1),
    ("appreciate", 1),
    ("appreciated", 1),
    ("awesome", 1),
    ("brilliant", 1),
    ("cheers", 1),
    ("excellent", 1),
    ("fantastic", 1),
    ("fixed", 1),
    ("glad", 1),
    ("good", 1),
    ("great", 1),
    ("happy", 1),
    ("helpful", 1),
    ("love", 1),
    ("nice", 1),
    ("perfect", 1),
    ("resolved", 1),
    ("solved", 1),
    ("sorted", 1),
    ("thank", 1),
    ("thanks", 1),
    ("thx", 1),
    ("upfront", 1),
    ("wonderful", 1),
    ("worked", 1),
    ("works", 1),
    ("bad", -1),
    ("broken", -1),
    ("confused", -1),
    ("confusing", -1),
    ("disappointed", -1),
    ("disappointing", -1),
    ("unhappy", -1),
    ("upset", -1),
    ("worried", -1),
    ("wrong", -1),
    ("annoyed", -2),
    ("annoying", -2),
    ("angry", -2),
    ("awful", -2),
    ("disgusting", -2),
    ("frustrated", -2),
    ("frustrating", -2),
    ("furious", -2),
    ("garbage", -2),
    ("hate", -2),
    ("horrible", -2),
    ("incompetent", -2),
    ("joke", -2),
    ("livid", -2),
    ("nonsense", -2),
    ("outrageous", -2),
    ("pathetic", -2),
    ("ridiculous", -2),
    ("rubbish", -2),
    ("scam", -2),
    ("stupid", -2),
    ("terrible", -2),
    ("unacceptable", -2),
    ("useless", -2),
    ("waste", -2),
    ("worst", -2),
];

/// Phrases in user messages that weigh like a word (same scale as [`SENTIMENT_WORDS`]).
const SENTIMENT_PHRASES: &[(&str, i8)] = &[
    ("that solved it", 2),
    ("makes sense", 1),
    ("too long", -1),
    ("no help", -2),
    ("doesn't help", -1),
    ("didn't help", -1),
    ("not helpful", -1),
    ("forget it", -2),
    ("give up", -2),
    ("go elsewhere", -2),
    ("waste of time", -2),
    ("fed up", -2),
];

const NEGATORS: &[&str] = &[
    "not", "no", "never", "don't", "doesn't", "didn't", "isn't", "wasn't", "aren't", "won't",
    "can't", "cannot", "hardly", "nothing",
];

/// The user gives up.
const ABANDONMENT: &[&str] = &[
    "forget it",
    "never mind",
    "nevermind",
    "give up",
    "go elsewhere",
    "i'm done",
    "i am done",
    "i'll call",
    "cancel everything",
    "i'll check myself",
    "i'll check it myself",
    "i'll verify that myself",
    "i'll take my business",
];

const APOLOGY_WORDS: &[&str] = &["sorry", "apologize", "apologise", "apologies", "apology"];

/// Offers that move a conversation on: a retry, another channel, a next step.
const ALTERNATIVES: &[&str] = &[
    "instead",
    "alternatively",
    "or i can",
    "retry",
    "try again",
    "ticket",
    "email you",
    "human",
    "colleague",
    "manually",
    "in a few minutes",
    "later today",
    "next step",
    "you can also",
    "another way",
];

/// The assistant acknowledges that something failed.
const FAILURE_ACKS: &[&str] = &[
    "error",
    "problem",
    "issue",
    "unable",
    "couldn't",
    "could not",
    "didn't respond",
    "did not respond",
    "not responding",
    "unavailable",
    "is down",
    "failed",
    "didn't work",
    "did not work",
    "trouble",
    "try again",
    "retry",
    "wasn't able",
    "was not able",
    "haven't managed",
    "didn't manage",
    "not able to",
    "went wrong",
    "didn't go through",
    "did not go through",
];

/// Things a user refers to that need an identifier before an agent can act on them.
const REFERENCE_NOUNS: &[&str] = &[
    "order",
    "package",
    "parcel",
    "account",
    "subscription",
    "payment",
    "invoice",
    "refund",
    "delivery",
    "shipment",
    "booking",
    "reservation",
    "ticket",
    "purchase",
    "charge",
];

/// Words that make an assistant question a request for a detail.
const DETAIL_NOUNS: &[&str] = &[
    "number",
    "email",
    "id",
    "version",
    "reference",
    "username",
    "details",
    "detail",
    "address",
    "name",
    "date",
];

const GUARANTEES: &[&str] = &[
    "guarantee",
    "i promise",
    "we promise",
    "definitely will",
    "will definitely",
    "certainly will",
    "100%",
];

const DATE_WORDS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "january",
    "february",
    "march",
    "april",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// The assistant reports an action as done.
const ACTION_CLAIMS: &[&str] = &[
    "i've cancelled",
    "i have cancelled",
    "i've canceled",
    "has been cancelled",
    "has been canceled",
    "i've refunded",
    "has been refunded",
    "i've issued",
    "i have issued",
    "i've processed",
    "has been processed",
    "i've reset",
    "has been reset",
    "i've sent",
    "i have sent",
    "has been sent",
    "i've updated",
    "has been updated",
    "i've upgraded",
    "has been upgraded",
    "i've changed",
    "has been changed",
    "i've created",
    "has been created",
    "i've opened a ticket",
    "i've logged",
];

const ROBOTIC: &[&str] = &[
    "as an ai",
    "language model",
    "i am an ai",
    "i'm an ai",
    "i am a bot",
    "i'm a bot",
    "automated assistant",
    "please be advised",
    "kindly note",
    "we regret to inform",
    "your request has been received",
    "per my previous",
    "valued customer",
    "any inconvenience this may have caused",
];

const HEDGES: &[&str] = &[
    "maybe",
    "perhaps",
    "possibly",
    "might",
    "i think",
    "i believe",
    "not sure",
    "it depends",
    "sort of",
    "kind of",
    "probably",
];

const RETENTION_COMPLAINTS: &[&str] = &[
    "already told you",
    "already said",
    "as i said",
    "i just said",
    "already gave",
    "i told you",
    "already provided",
    "you already asked",
    "said that already",
    "same thing again",
    "you asked that",
];

const TOPICS: [&str; 9] = [
    "billing",
    "refunds",
    "shipping",
    "account access",
    "technical problem",
    "pricing",
    "cancellation",
    "onboarding",
    "other",
];

/// Words and phrases that point to a topic (an index into [`TOPICS`]).
const TOPIC_WORDS: &[(&str, usize)] = &[
    ("bill", 0),
    ("billing", 0),
    ("billed", 0),
    ("invoice", 0),
    ("invoices", 0),
    ("charge", 0),
    ("charged", 0),
    ("charges", 0),
    ("payment", 0),
    ("payments", 0),
    ("card", 0),
    ("receipt", 0),
    ("vat", 0),
    ("refund", 1),
    ("refunds", 1),
    ("refunded", 1),
    ("reimburse", 1),
    ("reimbursement", 1),
    ("return", 1),
    ("returns", 1),
    ("damaged", 1),
    ("money back", 1),
    ("shipping", 2),
    ("shipment", 2),
    ("shipped", 2),
    ("delivery", 2),
    ("deliver", 2),
    ("delivered", 2),
    ("package", 2),
    ("parcel", 2),
    ("tracking", 2),
    ("courier", 2),
    ("transit", 2),
    ("order", 2),
    ("orders", 2),
    ("arrive", 2),
    ("arrived", 2),
    ("password", 3),
    ("login", 3),
    ("locked", 3),
    ("2fa", 3),
    ("mfa", 3),
    ("username", 3),
    ("verification", 3),
    ("log in", 3),
    ("sign in", 3),
    ("locked out", 3),
    ("bug", 4),
    ("bugs", 4),
    ("crash", 4),
    ("crashes", 4),
    ("crashed", 4),
    ("error", 4),
    ("errors", 4),
    ("broken", 4),
    ("glitch", 4),
    ("freeze", 4),
    ("freezes", 4),
    ("export", 4),
    ("price", 5),
    ("prices", 5),
    ("pricing", 5),
    ("cost", 5),
    ("costs", 5),
    ("discount", 5),
    ("quote", 5),
    ("plan", 5),
    ("plans", 5),
    ("upgrade", 5),
    ("tier", 5),
    ("seats", 5),
    ("how much", 5),
    ("cancel", 6),
    ("cancellation", 6),
    ("cancelling", 6),
    ("canceling", 6),
    ("unsubscribe", 6),
    ("terminate", 6),
    ("downgrade", 6),
    ("setup", 7),
    ("install", 7),
    ("installation", 7),
    ("configure", 7),
    ("connect", 7),
    ("integration", 7),
    ("integrate", 7),
    ("onboarding", 7),
    ("tutorial", 7),
    ("slack", 7),
    ("set up", 7),
    ("getting started", 7),
];

static SENTIMENT_MAP: LazyLock<HashMap<&'static str, i8>> =
    LazyLock::new(|| SENTIMENT_WORDS.iter().copied().collect());
static TOPIC_MAP: LazyLock<HashMap<&'static str, usize>> = LazyLock::new(|| {
    TOPIC_WORDS
        .iter()
        .copied()
        .filter(|(w, _)| !w.contains(' '))
        .collect()
});

/// Whether text holds something that identifies a record: three digits in a row, an email
/// address, or a `#reference`.
fn has_identifier(raw: &str) -> bool {
    let mut digits = 0;
    let mut previous = ' ';
    for c in raw.chars() {
        if c.is_ascii_digit() {
            digits += 1;
            if digits >= 3 {
                return true;
            }
        } else {
            digits = 0;
        }
        if previous == '#' && c.is_alphanumeric() {
            return true;
        }
        if c == '@' && previous.is_alphanumeric() {
            return true;
        }
        previous = c;
    }
    false
}

// ----- turn-level findings, shared with step diagnosis -----

/// A question (a sentence ending in "?") that names a detail: "What's your order number?".
fn asks_for_detail(line: &Line) -> bool {
    line.asks()
        && line
            .lower
            .split_inclusive(['.', '!', '?', '\n'])
            .filter(|sentence| sentence.ends_with('?'))
            .any(|question| tokenize(question).iter().any(|w| DETAIL_NOUNS.contains(w)))
}

// ----- the other detectors -----

fn shingles(words: &[&str]) -> Vec<u64> {
    let words = &words[..words.len().min(2_000)];
    if words.len() < 4 {
        return Vec::new();
    }
    let mut out: Vec<u64> = words
        .windows(3)
        .map(|w| {
            w.iter().fold(0xcbf2_9ce4_8422_2325u64, |hash, word| {
                word.bytes()
                    .chain(std::iter::once(b' '))
                    .fold(hash, |h, b| {
                        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
                    })
            })
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut shared) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    shared as f64 / (a.len() + b.len() - shared) as f64
}

/// Replies that say (nearly) what one of the previous few replies said.
fn repeated_replies(t: &Transcript) -> Vec<usize> {
    let sets: Vec<Vec<u64>> = t
        .replies
        .iter()
        .map(|&r| shingles(&t.lines[r].words))
        .collect();
    let mut repeated = Vec::new();
    for j in 1..sets.len() {
        let from = j.saturating_sub(REPEAT_WINDOW);
        if (from..j).any(|i| jaccard(&sets[i], &sets[j]) >= REPEAT_SIMILARITY) {
            repeated.push(t.replies[j]);
        }
    }
    repeated
}

fn apologises(line: &Line) -> bool {
    line.words
        .iter()
        .any(|w| APOLOGY_WORDS.contains(w) || w.starts_with("apolog"))
}

/// Whether a reply moves things on: a question, an offer, a number, or a tool call.
fn progresses(t: &Transcript, index: usize) -> bool {
    let line = &t.lines[index];
    line.asks()
        || line.has(ALTERNATIVES)
        || line.words.iter().any(|w| is_number(w))
        || t.messages[index]
            .tool_calls
            .as_ref()
            .is_some_and(|c| !c.is_empty())
}

struct Apologies {
    total: usize,
    /// Replies in runs of apologies where a later one made no progress.
    loop_replies: Vec<usize>,
}

fn apology_loops(t: &Transcript) -> Apologies {
    let mut total = 0;
    let mut loop_replies = Vec::new();
    let mut run: Vec<usize> = Vec::new();
    for &r in &t.replies {
        if apologises(&t.lines[r]) {
            total += 1;
            run.push(r);
        } else {
            close_run(t, &mut run, &mut loop_replies);
        }
    }
    close_run(t, &mut run, &mut loop_replies);
    Apologies {
        total,
        loop_replies,
    }
}

/// A run of two or more apologising replies is a loop when a later one makes no progress.
fn close_run(t: &Transcript, run: &mut Vec<usize>, out: &mut Vec<usize>) {
    if run.len() >= 2 && run[1..].iter().any(|&r| !progresses(t, r)) {
        out.extend(run.iter().copied());
    }
    run.clear();
}

/// One user message's mood.
#[derive(Debug, Clone, Copy, Default)]
struct Mood {
    /// -1..1.
    score: f64,
    frustrated: bool,
}

fn shouts(raw: &str) -> bool {
    let mut shouted_words = 0;
    let (mut letters, mut upper) = (0usize, 0usize);
    for word in raw.split_whitespace() {
        let mut n = 0;
        let mut all_upper = true;
        for c in word.chars().filter(|c| c.is_alphabetic()) {
            n += 1;
            letters += 1;
            if c.is_uppercase() {
                upper += 1;
            } else {
                all_upper = false;
            }
        }
        if n >= 4 && all_upper {
            shouted_words += 1;
        }
    }
    shouted_words >= 2 || (letters >= 12 && upper * 10 > letters * 7)
}

fn mood(line: &Line) -> Mood {
    let mut sum = 0i32;
    let mut strong = false;
    let mut negated_until = 0usize;
    for (i, word) in line.words.iter().enumerate() {
        if NEGATORS.contains(word) {
            negated_until = i + 3;
            continue;
        }
        let Some(&weight) = SENTIMENT_MAP.get(word) else {
            continue;
        };
        let weight = i32::from(weight);
        if i < negated_until {
            // "not helpful" is negative; "not bad" is nothing.
            if weight > 0 {
                sum -= 1;
            }
        } else {
            sum += weight;
            strong |= weight <= -2;
        }
    }
    for (phrase, weight) in SENTIMENT_PHRASES {
        if line.lower.contains(phrase) {
            sum += i32::from(*weight);
            strong |= *weight <= -2;
        }
    }
    let shouting = shouts(line.raw);
    if shouting {
        sum -= 2;
    }
    if line.raw.contains("!!") || line.raw.contains("?!") {
        sum -= 1;
    }
    Mood {
        score: (f64::from(sum) / 2.0).clamp(-1.0, 1.0),
        frustrated: strong || shouting || sum <= -3,
    }
}

/// The mention of a record the user did not identify, and the reply that acted on it
/// without asking.
struct MissingDetail {
    user: usize,
    reply: usize,
    noun: &'static str,
}

fn missing_detail(t: &Transcript) -> Option<MissingDetail> {
    let mut identified = false;
    let mut mention: Option<(usize, &'static str)> = None;
    for exchange in &t.exchanges {
        for &u in &exchange.users {
            let line = &t.lines[u];
            if has_identifier(line.raw) {
                identified = true;
            }
            if !identified && mention.is_none() {
                mention = mentioned_reference(&line.words).map(|noun| (u, noun));
            }
        }
        let (Some((user, noun)), Some(reply)) = (mention, exchange.reply) else {
            continue;
        };
        if identified {
            return None;
        }
        let line = &t.lines[reply];
        if asks_for_detail(line) || hands_over(line) {
            // Asked, or passed to a person: whatever follows is not a guess.
            return None;
        }
        if is_refusal(line) || is_deflection(line) {
            // Did not act at all (counted as its own issue); look at the next reply.
            continue;
        }
        return Some(MissingDetail { user, reply, noun });
    }
    None
}

/// "my order", "my last purchase": a reference noun up to two words after "my".
fn mentioned_reference(words: &[&str]) -> Option<&'static str> {
    words.iter().enumerate().find_map(|(i, w)| {
        if *w != "my" {
            return None;
        }
        words[i + 1..words.len().min(i + 4)]
            .iter()
            .find_map(|next| REFERENCE_NOUNS.iter().copied().find(|n| n == next))
    })
}

/// Numbers and dates in the assistant's text that no source (prompt, user, system, tools)
/// mentions, and guarantees the prompt does not make.
struct Claims {
    replies: Vec<usize>,
    facts: usize,
    guarantees: usize,
    examples: Vec<String>,
}

fn add_source_words(text: &str, out: &mut HashSet<&'static str>, numbers: &mut HashSet<String>) {
    for word in tokenize(text) {
        let word = ordinal(word);
        if is_number(word) {
            if numbers.len() < 10_000 {
                numbers.insert(word.to_owned());
            }
        } else if let Some(date) = DATE_WORDS.iter().find(|d| **d == word) {
            out.insert(date);
        }
    }
}

fn add_source_value(
    value: &Value,
    depth: usize,
    dates: &mut HashSet<&'static str>,
    numbers: &mut HashSet<String>,
) {
    if depth > 32 {
        return;
    }
    match value {
        Value::String(s) => add_source_words(&normalise(capped(s)), dates, numbers),
        Value::Number(n) => add_source_words(&n.to_string(), dates, numbers),
        Value::Array(items) => items
            .iter()
            .take(1_000)
            .for_each(|v| add_source_value(v, depth + 1, dates, numbers)),
        Value::Object(map) => map
            .values()
            .take(1_000)
            .for_each(|v| add_source_value(v, depth + 1, dates, numbers)),
        Value::Null | Value::Bool(_) => {}
    }
}

/// "14th" → "14".
fn ordinal(word: &str) -> &str {
    for suffix in ["st", "nd", "rd", "th"] {
        if let Some(number) = word.strip_suffix(suffix) {
            if is_number(number) {
                return number;
            }
        }
    }
    word
}

/// A one-digit number right before "." or ")" and a space: a list marker, not a claim.
fn is_list_marker(lower: &str, word: &str) -> bool {
    if word.len() != 1 {
        return false;
    }
    // `word` is a slice of `lower`: its offset locates what follows it.
    let Some(offset) = (word.as_ptr() as usize).checked_sub(lower.as_ptr() as usize) else {
        return false;
    };
    let rest = lower.as_bytes().get(offset + 1..).unwrap_or_default();
    matches!(rest.first(), Some(b'.') | Some(b')'))
        && rest.get(1).is_none_or(|b| b.is_ascii_whitespace())
}

fn unsupported_claims(t: &Transcript, prompt_lower: &str) -> Claims {
    let mut dates: HashSet<&'static str> = HashSet::new();
    let mut numbers: HashSet<String> = HashSet::new();
    add_source_words(prompt_lower, &mut dates, &mut numbers);
    for (i, line) in t.lines.iter().enumerate() {
        if line.role != Role::Assistant {
            add_source_words(line.lower, &mut dates, &mut numbers);
        }
        for call in t.messages[i].tool_calls.iter().flatten() {
            add_source_value(&call.arguments, 0, &mut dates, &mut numbers);
            if let Some(result) = &call.result {
                add_source_value(result, 0, &mut dates, &mut numbers);
            }
        }
    }
    let mut claims = Claims {
        replies: Vec::new(),
        facts: 0,
        guarantees: 0,
        examples: Vec::new(),
    };
    let mut seen: Vec<&str> = Vec::new();
    for &r in &t.replies {
        let line = &t.lines[r];
        let mut found = false;
        for word in &line.words {
            let word = ordinal(word);
            let unsupported = if is_number(word) {
                !is_list_marker(line.lower, word) && !numbers.contains(word)
            } else {
                DATE_WORDS.contains(&word) && !dates.contains(word)
            };
            if unsupported && !seen.contains(&word) {
                seen.push(word);
                claims.facts += 1;
                found = true;
                if claims.examples.len() < 3 {
                    claims.examples.push(word.to_owned());
                }
            }
        }
        if let Some(g) = line.first(GUARANTEES) {
            if !prompt_lower.contains(g) {
                claims.guarantees += 1;
                found = true;
                if claims.examples.len() < 3 {
                    claims.examples.push(format!("\"{g}\""));
                }
            }
        }
        if found {
            claims.replies.push(r);
        }
    }
    claims
}

/// What followed each failed tool call.
struct ToolReading {
    calls: usize,
    failed: Vec<usize>,
    /// Failures the next reply passed over as if nothing happened.
    glossed: Vec<usize>,
    /// Failures neither handled (acknowledged with an alternative) nor fixed by a later
    /// successful call of the same tool.
    unresolved: usize,
    /// Replies that report an action done with no successful tool call before them.
    action_claims: Vec<usize>,
    /// "lookup_order (timeout after 30 s)", for the texts.
    failure_notes: Vec<String>,
}

fn read_tools(t: &Transcript, tool_steps: &[StepOutcome]) -> ToolReading {
    let mut reading = ToolReading {
        calls: tool_steps.len(),
        failed: Vec::new(),
        glossed: Vec::new(),
        unresolved: 0,
        action_claims: Vec::new(),
        failure_notes: Vec::new(),
    };
    for (k, step) in tool_steps.iter().enumerate() {
        if step.status != StepStatus::Failed {
            continue;
        }
        if !reading.failed.contains(&step.message_index) {
            reading.failed.push(step.message_index);
        }
        if reading.failure_notes.len() < 3 {
            let error = step.error.as_deref().unwrap_or("failed");
            reading
                .failure_notes
                .push(format!("{} ({})", step.name, short(error, 60)));
        }
        let reply = t.reply_from(step.message_index);
        let acknowledged =
            reply.is_some_and(|r| t.lines[r].has(FAILURE_ACKS) || apologises(&t.lines[r]));
        let handled = acknowledged && reply.is_some_and(|r| t.lines[r].has(ALTERNATIVES));
        if let Some(r) = reply {
            if !acknowledged && !reading.glossed.contains(&r) {
                reading.glossed.push(r);
            }
        }
        let fixed_later = tool_steps[k + 1..]
            .iter()
            .any(|s| s.name == step.name && s.status == StepStatus::Ok);
        if !handled && !fixed_later {
            reading.unresolved += 1;
        }
    }
    let first_success = tool_steps
        .iter()
        .filter(|s| s.status == StepStatus::Ok)
        .map(|s| s.message_index)
        .min();
    for &r in &t.replies {
        if t.lines[r].has(ACTION_CLAIMS) && first_success.is_none_or(|s| s > r) {
            reading.action_claims.push(r);
        }
    }
    reading
}

fn short(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", text[..end].trim_end()),
        None => text.to_owned(),
    }
}

struct Length {
    verbose: Vec<usize>,
    /// Mean penalty per reply, 0..70.
    mean_penalty: f64,
}

/// Each reply against the words of the user turn it answers.
fn read_length(t: &Transcript) -> Length {
    let mut verbose = Vec::new();
    let mut total = 0.0;
    let mut count = 0usize;
    for exchange in &t.exchanges {
        let Some(r) = exchange.reply else { continue };
        let asked: usize = exchange.users.iter().map(|&u| t.lines[u].words.len()).sum();
        let allowance = (3 * asked).max(40) as f64;
        let words = t.lines[r].words.len() as f64;
        let mut penalty = (50.0 * (words - allowance) / allowance).clamp(0.0, 70.0);
        if asked >= 10 && words < 3.0 {
            penalty += 20.0;
        }
        if words >= 100.0 && words > 2.0 * allowance {
            verbose.push(r);
        }
        total += penalty;
        count += 1;
    }
    Length {
        verbose,
        mean_penalty: if count == 0 {
            0.0
        } else {
            total / count as f64
        },
    }
}

struct Style {
    mean_sentence_words: f64,
    robotic: usize,
    robotic_example: Option<&'static str>,
    hedges: usize,
}

fn read_style(t: &Transcript) -> Style {
    let (mut words, mut sentences, mut robotic, mut hedges) = (0usize, 0usize, 0usize, 0usize);
    let mut robotic_example = None;
    for &r in &t.replies {
        let line = &t.lines[r];
        words += line.words.len();
        sentences += line
            .lower
            .split(['.', '!', '?', '\n'])
            .filter(|s| s.chars().any(char::is_alphanumeric))
            .count();
        if let Some(p) = line.first(ROBOTIC) {
            robotic += 1;
            robotic_example.get_or_insert(p);
        }
        hedges += HEDGES.iter().filter(|h| line.lower.contains(*h)).count();
    }
    Style {
        mean_sentence_words: if sentences == 0 {
            0.0
        } else {
            words as f64 / sentences as f64
        },
        robotic,
        robotic_example,
        hedges,
    }
}

struct Retention {
    reasks: usize,
    complaints: Vec<usize>,
}

fn read_retention(t: &Transcript) -> Retention {
    let mut identified = false;
    let mut reasks = 0;
    let mut complaints = Vec::new();
    for (i, line) in t.lines.iter().enumerate() {
        match line.role {
            Role::User => {
                if line.has(RETENTION_COMPLAINTS) {
                    complaints.push(i);
                }
                identified |= has_identifier(line.raw);
            }
            Role::Assistant if identified && asks_for_detail(line) => reasks += 1,
            _ => {}
        }
    }
    Retention { reasks, complaints }
}

fn topics_of(t: &Transcript) -> Vec<&'static str> {
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

fn keywords_of(t: &Transcript) -> Vec<String> {
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

fn title_of(t: &Transcript) -> String {
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

fn severity_points(severity: Severity) -> f64 {
    match severity {
        Severity::Low => 1.0,
        Severity::Medium => 2.0,
        Severity::High => 3.0,
        Severity::Critical => 5.0,
    }
}

fn round1(x: f64) -> f64 {
    (x.clamp(0.0, 100.0) * 10.0).round() / 10.0
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn indexes(list: &[usize]) -> String {
    list.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
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

    let turns = read_turns(&t);
    let repeated = repeated_replies(&t);
    let apologies = apology_loops(&t);
    let claims = unsupported_claims(&t, &prompt_lower);
    let tool_steps = steps::tool_steps(messages);
    let tools = read_tools(&t, &tool_steps);
    let length = read_length(&t);
    let style = read_style(&t);
    let retention = read_retention(&t);
    let missing = missing_detail(&t);

    // The user's mood, message by message.
    let moods: Vec<(usize, Mood)> = t.users().map(|(i, l)| (i, mood(l))).collect();
    let frustrated: Vec<usize> = moods
        .iter()
        .filter(|(_, m)| m.frustrated)
        .map(|(i, _)| *i)
        .collect();
    let (mut weighted, mut weights) = (0.0, 0.0);
    for (k, (_, m)) in moods.iter().enumerate() {
        let w = (k + 1) as f64 * if k + 1 == moods.len() { 2.0 } else { 1.0 };
        weighted += w * m.score;
        weights += w;
    }
    let polarity = if weights > 0.0 {
        weighted / weights
    } else {
        0.0
    };
    let sentiment_score = ((polarity + 1.0) / 2.0).clamp(0.0, 1.0);
    let sentiment = if polarity > 0.15 {
        Sentiment::Positive
    } else if polarity < -0.15 {
        Sentiment::Negative
    } else {
        Sentiment::Neutral
    };

    // Requests for a human, and whether one was handed over.
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

    let has_reply = !t.replies.is_empty();
    let last_user = moods.last().copied();
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
    let unresolved = (!human_requests.is_empty() && !handed_over)
        || tools.unresolved > 0
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

    // ----- issues -----
    let mut issues: Vec<DetectedIssue> = Vec::new();
    let mut push = |kind: IssueKind, severity: Severity, description: String, at: Vec<usize>| {
        issues.push(DetectedIssue {
            kind,
            title: kind.title().to_owned(),
            description,
            severity,
            message_indexes: at,
        });
    };
    if !turns.refusals.is_empty() {
        let n = turns.refusals.len();
        let severity = if n >= 2 || last_reply.is_some_and(|r| turns.refusals.contains(&r)) {
            Severity::High
        } else {
            Severity::Medium
        };
        push(
            IssueKind::Refusal,
            severity,
            format!(
                "The assistant declined {} (message {}).",
                plural(n, "time", "times"),
                indexes(&turns.refusals)
            ),
            turns.refusals.clone(),
        );
    }
    if !repeated.is_empty() {
        let severity = if repeated.len() >= 2 {
            Severity::High
        } else {
            Severity::Medium
        };
        push(
            IssueKind::RepeatedAnswer,
            severity,
            format!(
                "{} repeated an earlier reply almost word for word (message {}).",
                plural(repeated.len(), "reply", "replies"),
                indexes(&repeated)
            ),
            repeated.clone(),
        );
    }
    if !apologies.loop_replies.is_empty() {
        let n = apologies.loop_replies.len();
        push(
            IssueKind::ApologyLoop,
            if n >= 3 {
                Severity::Medium
            } else {
                Severity::Low
            },
            format!(
                "{n} replies in a row apologised, and at least one added nothing new (message {}).",
                indexes(&apologies.loop_replies)
            ),
            apologies.loop_replies.clone(),
        );
    }
    if !turns.unanswered.is_empty() {
        let n = turns.unanswered.len();
        let last_failed = last_exchange_failed
            && turns
                .unanswered
                .last()
                .is_some_and(|(_, r)| Some(*r) == last_reply);
        let mut at: Vec<usize> = turns
            .unanswered
            .iter()
            .flat_map(|(q, r)| [*q, *r])
            .collect();
        at.dedup();
        push(
            IssueKind::UnansweredQuestion,
            if n >= 2 || last_failed {
                Severity::High
            } else {
                Severity::Medium
            },
            format!(
                "{} got a reply that shares no content with it or deflects (question at message {}).",
                plural(n, "user question", "user questions"),
                indexes(&turns.unanswered.iter().map(|(q, _)| *q).collect::<Vec<_>>())
            ),
            at,
        );
    }
    if !tools.failed.is_empty() {
        let failures = tool_steps
            .iter()
            .filter(|s| s.status == StepStatus::Failed)
            .count();
        let successes = tools.calls - failures;
        let severity = if failures >= 2 && successes == 0 && !task_completed {
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
        push(
            IssueKind::FailedToolCall,
            severity,
            description,
            tools.failed.clone(),
        );
    }
    if !human_requests.is_empty() {
        let n = human_requests.len();
        let (severity, outcome) = if handed_over {
            (Severity::Low, "and was handed over")
        } else if n >= 2 {
            (Severity::Critical, "and was never handed over")
        } else {
            (Severity::High, "and was not handed over")
        };
        push(
            IssueKind::HumanRequested,
            severity,
            format!(
                "The user asked for a human {} (message {}) {outcome}.",
                plural(n, "time", "times"),
                indexes(&human_requests)
            ),
            human_requests.clone(),
        );
    }
    if !frustrated.is_empty() {
        let ends_frustrated = last_user.is_some_and(|(i, _)| frustrated.last() == Some(&i));
        let severity = if ends_frustrated || frustrated.len() >= 3 {
            Severity::High
        } else {
            Severity::Medium
        };
        push(
            IssueKind::Frustration,
            severity,
            format!(
                "{} read as frustrated (angry words, shouting or \"!!\"; message {}){}.",
                plural(frustrated.len(), "user message", "user messages"),
                indexes(&frustrated),
                if ends_frustrated {
                    ", including the last one"
                } else {
                    ""
                }
            ),
            frustrated.clone(),
        );
    }
    if !length.verbose.is_empty() {
        let share = length.verbose.len() as f64 / t.replies.len().max(1) as f64;
        push(
            IssueKind::Verbose,
            if share >= 0.5 {
                Severity::Medium
            } else {
                Severity::Low
            },
            format!(
                "{} ran over twice the length the question warranted (message {}).",
                plural(length.verbose.len(), "reply", "replies"),
                indexes(&length.verbose)
            ),
            length.verbose.clone(),
        );
    }
    if let Some(m) = &missing {
        push(
            IssueKind::MissingDetails,
            Severity::Medium,
            format!(
                "The user mentioned their {} without identifying it (message {}) and the assistant went ahead without asking for it (message {}).",
                m.noun, m.user, m.reply
            ),
            vec![m.user, m.reply],
        );
    }
    if claims.facts + claims.guarantees > 0 {
        let severity = if claims.facts >= 3 || claims.guarantees > 0 {
            Severity::High
        } else {
            Severity::Medium
        };
        push(
            IssueKind::UnsupportedClaim,
            severity,
            format!(
                "The assistant stated {}{} that neither the prompt, the user nor a tool provided ({}).",
                plural(claims.facts, "number or date", "numbers or dates"),
                if claims.guarantees > 0 {
                    format!(" and {}", plural(claims.guarantees, "guarantee", "guarantees"))
                } else {
                    String::new()
                },
                claims.examples.join(", ")
            ),
            claims.replies.clone(),
        );
    }
    issues.sort_by_key(|i| Reverse(i.severity));
    let critical = issues.iter().any(|i| i.severity == Severity::Critical);

    // ----- metrics -----
    let points: f64 = issues.iter().map(|i| severity_points(i.severity)).sum();
    let replies = t.replies.len();
    let mut metrics = MetricScores::default();
    let base = if task_completed { 100.0 } else { 40.0 };
    metrics.set(Metric::SuccessScore, round1(base - 4.0 * points));
    let relevancy = if turns.evaluated > 0 {
        100.0 * turns.relevant as f64 / turns.evaluated as f64
    } else if has_reply {
        100.0
    } else {
        0.0
    };
    metrics.set(Metric::AiRelevancy, round1(relevancy));
    metrics.set(Metric::Sentiment, round1(100.0 * sentiment_score));
    metrics.set(
        Metric::HallucinationScore,
        round1(100.0 - 15.0 * claims.facts as f64 - 20.0 * claims.guarantees as f64),
    );
    let extra_apologies = apologies.loop_replies.len().saturating_sub(1);
    metrics.set(
        Metric::RepetitionScore,
        round1(100.0 - 30.0 * repeated.len() as f64 - 15.0 * extra_apologies as f64),
    );
    metrics.set(
        Metric::ConsistencyScore,
        round1(100.0 - 30.0 * tools.glossed.len() as f64 - 20.0 * tools.action_claims.len() as f64),
    );
    let shouted_replies = t
        .replies
        .iter()
        .filter(|&&r| shouts(t.lines[r].raw))
        .count();
    let sentence = style.mean_sentence_words;
    let sentence_penalty = if replies == 0 {
        0.0
    } else if sentence > 22.0 {
        2.0 * (sentence - 22.0)
    } else if sentence < 5.0 {
        2.0 * (5.0 - sentence)
    } else {
        0.0
    };
    metrics.set(
        Metric::NaturalLanguageScore,
        round1(
            100.0 - sentence_penalty - 15.0 * style.robotic as f64 - 10.0 * shouted_replies as f64,
        ),
    );
    metrics.set(
        Metric::ContextRetentionScore,
        round1(100.0 - 25.0 * retention.reasks as f64 - 20.0 * retention.complaints.len() as f64),
    );
    metrics.set(Metric::VerbosityScore, round1(100.0 - length.mean_penalty));
    let completion = if task_completed {
        if closing_positive {
            100.0
        } else {
            85.0
        }
    } else if !has_reply {
        0.0
    } else if closing_negative {
        10.0
    } else {
        30.0
    };
    metrics.set(Metric::TaskCompletion, completion);
    let hedge_rate = (style.hedges as f64 / replies.max(1) as f64).min(4.0);
    let verbose_share = length.verbose.len() as f64 / replies.max(1) as f64;
    metrics.set(
        Metric::Clarity,
        round1(
            100.0
                - 2.5 * (sentence - 18.0).max(0.0)
                - 8.0 * hedge_rate
                - 15.0 * turns.unanswered.len() as f64
                - 20.0 * verbose_share,
        ),
    );
    let quality_score = round1(metrics.overall());
    let gated_score = if !task_completed || critical {
        quality_score.min(GATE_CAP)
    } else {
        quality_score
    };

    // ----- words for people -----
    let topics = topics_of(&t);
    let keywords = keywords_of(&t);
    let title = title_of(&t);
    let money = topics
        .iter()
        .any(|t| matches!(*t, "billing" | "refunds" | "cancellation" | "pricing"));
    let objective_multiplier = if money && !task_completed { 1.25 } else { 1.0 };

    let mut additional_concerns = Vec::new();
    if let Some(q) = turns.trailing_question {
        additional_concerns.push(format!(
            "The conversation ends on a user question (message {q}) with no reply."
        ));
    }
    if !has_reply {
        additional_concerns.push("The assistant never replied in this conversation.".to_owned());
    }
    let slow = messages
        .iter()
        .filter(|m| m.latency_ms.is_some_and(|l| l > SLOW_TURN_MS))
        .count();
    if slow > 0 {
        additional_concerns.push(format!(
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
        additional_concerns.push(format!(
            "High token use: {tokens} tokens over the conversation."
        ));
    }
    if apologies.total >= 3 && apologies.loop_replies.is_empty() {
        additional_concerns.push(format!(
            "The assistant apologised {} times.",
            apologies.total
        ));
    }
    if let Some(example) = style.robotic_example {
        additional_concerns.push(format!(
            "{} sound robotic (\"{example}\").",
            plural(style.robotic, "reply", "replies")
        ));
    }
    if style.hedges >= 3 {
        additional_concerns.push(format!(
            "{} hedges (\"maybe\", \"might\"…) in the replies.",
            style.hedges
        ));
    }
    if retention.reasks > 0 {
        additional_concerns.push(format!(
            "The assistant asked again for a detail the user had already given ({}).",
            plural(retention.reasks, "time", "times")
        ));
    }
    if !tools.action_claims.is_empty() {
        additional_concerns.push(format!(
            "The assistant reported an action as done with no successful tool call behind it (message {}).",
            indexes(&tools.action_claims)
        ));
    }
    if messages.len() > 40 {
        additional_concerns.push(format!("A long conversation: {} messages.", messages.len()));
    }
    if t.truncated {
        additional_concerns.push(format!(
            "Messages over {} KiB were read only up to that length.",
            MAX_ANALYSED_BYTES / 1024
        ));
    }

    let next_steps: Vec<String> = issues
        .iter()
        .map(|issue| next_step(issue.kind, &tools, missing.as_ref(), handed_over, &claims))
        .collect();

    let topic = topics.first().copied().unwrap_or("other");
    let topic_phrase = if topic == "other" {
        "general".to_owned()
    } else {
        topic.to_owned()
    };
    let user_count = moods.len();
    let issue_list = issues
        .iter()
        .take(3)
        .map(|i| lower_first(i.kind.title()))
        .collect::<Vec<_>>()
        .join("; ");
    let executive_summary = format!(
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
    );
    let mut summary = format!(
        "{} messages ({} from the user, {} replies from the assistant) about {}.",
        messages.len(),
        user_count,
        replies,
        topics.join(", ")
    );
    if tools.calls > 0 && tools.failed.is_empty() {
        summary.push_str(&format!(
            " The assistant made {}, all of which succeeded.",
            plural(tools.calls, "tool call", "tool calls")
        ));
    }
    for issue in &issues {
        summary.push(' ');
        summary.push_str(&issue.description);
    }
    if let (Some(first), Some(last)) = (moods.first(), moods.last()) {
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
    let user_facing_summary = (user_count > 0).then(|| {
        format!(
            "You asked about {}. {}",
            if topic == "other" {
                format!("\"{title}\"")
            } else {
                topic.to_owned()
            },
            if task_completed {
                "The request was resolved."
            } else if !human_requests.is_empty() && !handed_over {
                "The request was not resolved and you were not handed over to a person."
            } else {
                "The request was not resolved in this conversation."
            }
        )
    });
    let business_impact = (!task_completed).then(|| {
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
        if !human_requests.is_empty() && !handed_over {
            text.push_str(" The user asked for a human and was not handed over.");
        }
        if closing_negative {
            text.push_str(" The user left unhappy.");
        }
        text
    });

    ConversationAnalysis {
        title,
        executive_summary,
        summary,
        user_facing_summary,
        metrics,
        quality_score,
        gated_score,
        objective_multiplier,
        issues,
        additional_concerns,
        next_steps,
        keywords,
        topics: topics.into_iter().map(str::to_owned).collect(),
        sentiment,
        sentiment_score: (sentiment_score * 1000.0).round() / 1000.0,
        task_completed,
        business_impact,
        steps: steps::assemble(tool_steps, &turns.failed_turns),
        engine_tokens: 0,
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use converra_api::conversations::ToolCall;
    use serde_json::json;

    fn msg(role: Role, content: &str) -> Message {
        Message::new(role, content)
    }

    fn user(content: &str) -> Message {
        msg(Role::User, content)
    }

    fn bot(content: &str) -> Message {
        msg(Role::Assistant, content)
    }

    fn with_call(
        mut m: Message,
        name: &str,
        result: Option<Value>,
        error: Option<&str>,
    ) -> Message {
        m.tool_calls = Some(vec![ToolCall {
            id: None,
            name: name.to_owned(),
            arguments: json!({"orderId": "48213"}),
            result,
            error: error.map(str::to_owned),
            nested_trace: None,
        }]);
        m
    }

    fn kinds(a: &ConversationAnalysis) -> Vec<IssueKind> {
        a.issues.iter().map(|i| i.kind).collect()
    }

    fn issue(a: &ConversationAnalysis, kind: IssueKind) -> &DetectedIssue {
        a.issues
            .iter()
            .find(|i| i.kind == kind)
            .unwrap_or_else(|| panic!("no {kind:?} in {:?}", kinds(a)))
    }

    fn clean() -> Vec<Message> {
        vec![
            user("Hi, where is my order 48213? It was supposed to arrive yesterday."),
            with_call(
                bot("Your order 48213 shipped with DHL and is due on Thursday."),
                "lookup_order",
                Some(json!({"status": "shipped", "carrier": "DHL", "eta": "Thursday"})),
                None,
            ),
            user("Great, thanks, that solved it!"),
        ]
    }

    fn troubled() -> Vec<Message> {
        vec![
            user("Hi, where is my order 48213? It was supposed to arrive yesterday."),
            with_call(
                bot("Your order is on its way and will arrive within 2 business days."),
                "lookup_order",
                None,
                Some("upstream timeout after 30 s"),
            ),
            user("That's what you said last week. This is ridiculous!!"),
            bot("I apologize for the inconvenience. Your order is on its way."),
            user("Useless. Forget it."),
        ]
    }

    #[test]
    fn same_input_same_analysis() {
        let a = analyze(&troubled(), Some("You are a support agent."));
        let b = analyze(&troubled(), Some("You are a support agent."));
        assert_eq!(a, b);
    }

    #[test]
    fn a_failed_tool_and_a_frustrated_user_score_below_a_clean_conversation() {
        let good = analyze(&clean(), None);
        let bad = analyze(&troubled(), None);
        assert!(good.issues.is_empty(), "{:?}", good.issues);
        assert!(good.task_completed);
        assert_eq!(good.sentiment, Sentiment::Positive);
        assert!(!bad.task_completed);
        assert_eq!(bad.sentiment, Sentiment::Negative);
        assert!(
            bad.quality_score + 20.0 < good.quality_score,
            "{} vs {}",
            bad.quality_score,
            good.quality_score
        );
        assert!(bad.gated_score <= GATE_CAP);
        for metric in [
            Metric::SuccessScore,
            Metric::Sentiment,
            Metric::HallucinationScore,
            Metric::ConsistencyScore,
            Metric::TaskCompletion,
        ] {
            assert!(
                bad.metrics.get(metric) < good.metrics.get(metric),
                "{metric:?}: {} vs {}",
                bad.metrics.get(metric),
                good.metrics.get(metric)
            );
        }
        assert_eq!(issue(&bad, IssueKind::FailedToolCall).message_indexes, [1]);
        assert_eq!(issue(&bad, IssueKind::Frustration).message_indexes, [2, 4]);
        assert_eq!(issue(&bad, IssueKind::Frustration).severity, Severity::High);
        assert!(bad.business_impact.is_some() && good.business_impact.is_none());
        assert_eq!(bad.steps.len(), 1);
        assert_eq!(bad.steps[0].status, StepStatus::Failed);
        assert_eq!(bad.next_steps.len(), bad.issues.len());
    }

    #[test]
    fn steps_match_diagnose_steps() {
        for messages in [clean(), troubled()] {
            assert_eq!(
                analyze(&messages, None).steps,
                steps::diagnose_steps(&messages)
            );
        }
    }

    #[test]
    fn detects_a_refusal() {
        let a = analyze(
            &[
                user("Can I get a refund for order 48213?"),
                bot("I'm sorry, but I can't help with refunds."),
            ],
            None,
        );
        let found = issue(&a, IssueKind::Refusal);
        assert_eq!(found.message_indexes, [1]);
        assert_eq!(found.severity, Severity::High);
        assert_eq!(a.steps[0].name, "turn:1");
        // A failed lookup is not a refusal.
        let b = analyze(
            &[
                user("Where is order 48213?"),
                bot("I'm unable to find that order. Could you check the number?"),
            ],
            None,
        );
        assert!(!kinds(&b).contains(&IssueKind::Refusal), "{:?}", kinds(&b));
    }

    #[test]
    fn detects_repeated_answers() {
        let same = "Please restart the app and clear the cache, then try the export again.";
        let a = analyze(
            &[
                user("Export crashes."),
                bot(same),
                user("Still crashes."),
                bot(same),
                user("Again?"),
            ],
            None,
        );
        assert_eq!(issue(&a, IssueKind::RepeatedAnswer).message_indexes, [3]);
        assert!(a.metrics.get(Metric::RepetitionScore) <= 70.0);
    }

    #[test]
    fn detects_an_apology_loop_but_not_apologies_with_progress() {
        let a = analyze(
            &[
                user("My export fails."),
                bot("I'm sorry to hear that. Let me look into it."),
                user("And?"),
                bot("I apologize for the inconvenience. Let me look into it further."),
            ],
            None,
        );
        assert_eq!(issue(&a, IssueKind::ApologyLoop).message_indexes, [1, 3]);
        let b = analyze(
            &[
                user("My export fails."),
                bot("I'm sorry to hear that. Which version of the app are you on?"),
                user("4.2.1"),
                bot("Sorry for the trouble: version 4.2.1 has a known bug. Updating fixes it, or I can open a ticket."),
            ],
            None,
        );
        assert!(
            !kinds(&b).contains(&IssueKind::ApologyLoop),
            "{:?}",
            b.issues
        );
    }

    #[test]
    fn detects_an_unanswered_question() {
        let a = analyze(
            &[
                user("How much does the Pro plan cost?"),
                bot("That's a great question! There are many factors involved."),
            ],
            None,
        );
        let found = issue(&a, IssueKind::UnansweredQuestion);
        assert_eq!(found.message_indexes, [0, 1]);
        assert!(a.metrics.get(Metric::AiRelevancy) < 1.0);
        let b = analyze(
            &[
                user("How much does the Pro plan cost?"),
                bot("The Pro plan is billed per seat; the pricing page lists the current cost."),
            ],
            None,
        );
        assert!(!kinds(&b).contains(&IssueKind::UnansweredQuestion));
        assert_eq!(b.metrics.get(Metric::AiRelevancy), 100.0);
    }

    #[test]
    fn detects_a_request_for_a_human_and_whether_it_was_honoured() {
        let refused = analyze(
            &[
                user("I want to speak to a real person."),
                bot("I'm unable to transfer you, but I can help."),
                user("Get me a HUMAN now."),
                bot("I can help you here."),
            ],
            None,
        );
        let found = issue(&refused, IssueKind::HumanRequested);
        assert_eq!(found.message_indexes, [0, 2]);
        assert_eq!(found.severity, Severity::Critical);
        assert!(!refused.task_completed);
        let honoured = analyze(
            &[
                user("Can I talk to a human please?"),
                bot("Of course, I'm transferring you to a human colleague now."),
                user("Thank you!"),
            ],
            None,
        );
        assert_eq!(
            issue(&honoured, IssueKind::HumanRequested).severity,
            Severity::Low
        );
        assert!(honoured.task_completed);
    }

    #[test]
    fn reads_sentiment_with_negation_and_shouting() {
        let a = analyze(
            &[
                user("This is NOT WORKING AT ALL"),
                bot("Sorry, which page?"),
                user("not helpful"),
            ],
            None,
        );
        assert_eq!(a.sentiment, Sentiment::Negative);
        assert_eq!(issue(&a, IssueKind::Frustration).message_indexes, [0]);
        let b = analyze(
            &[
                user("The app is slow."),
                bot("Restart it."),
                user("Thanks, great, works now!"),
            ],
            None,
        );
        assert_eq!(b.sentiment, Sentiment::Positive);
        assert!(b.sentiment_score > 0.6);
    }

    #[test]
    fn detects_verbose_answers() {
        let long = "This is a long answer with many words that go on and on. ".repeat(12);
        let a = analyze(&[user("What time is it?"), bot(&long)], None);
        assert_eq!(issue(&a, IssueKind::Verbose).message_indexes, [1]);
        assert!(a.metrics.get(Metric::VerbosityScore) < 50.0);
    }

    #[test]
    fn detects_missing_details() {
        let a = analyze(
            &[
                user("Where is my order?"),
                bot("Orders usually arrive soon, keep an eye on your inbox."),
            ],
            None,
        );
        assert_eq!(issue(&a, IssueKind::MissingDetails).message_indexes, [0, 1]);
        let b = analyze(
            &[
                user("Where is my order?"),
                bot("Could you share your order number?"),
            ],
            None,
        );
        assert!(!kinds(&b).contains(&IssueKind::MissingDetails));
        let c = analyze(&[user("Where is my order #A17?"), bot("It shipped.")], None);
        assert!(!kinds(&c).contains(&IssueKind::MissingDetails));
    }

    #[test]
    fn detects_unsupported_claims_but_not_sourced_ones() {
        let a = analyze(
            &[
                user("When will my refund for order 48213 arrive?"),
                bot("Within 5 business days, guaranteed."),
            ],
            Some("You handle refunds."),
        );
        let found = issue(&a, IssueKind::UnsupportedClaim);
        assert_eq!(found.message_indexes, [1]);
        assert_eq!(found.severity, Severity::High);
        assert!(a.metrics.get(Metric::HallucinationScore) <= 65.0);
        let b = analyze(
            &[
                user("When will my refund for order 48213 arrive?"),
                bot("Refunds take 5 business days."),
            ],
            Some("Refunds take 5 business days."),
        );
        assert!(!kinds(&b).contains(&IssueKind::UnsupportedClaim));
        let c = analyze(
            &[user("Steps?"), bot("1. Open settings.\n2. Click export.")],
            None,
        );
        assert!(
            !kinds(&c).contains(&IssueKind::UnsupportedClaim),
            "{:?}",
            c.issues
        );
    }

    #[test]
    fn topics_keywords_and_title() {
        let a = analyze(&clean(), None);
        assert_eq!(a.topics.first().map(String::as_str), Some("shipping"));
        assert!(a.keywords.contains(&"order".to_owned()), "{:?}", a.keywords);
        assert!(a.keywords.len() <= 8);
        assert_eq!(
            a.title,
            "Hi, where is my order 48213? It was supposed to arrive…"
        );
        assert!(a.title.chars().count() <= 60);
        let b = analyze(&[user("hello"), bot("hi")], None);
        assert_eq!(b.topics, ["other"]);
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let huge = "ünïcödé ".repeat(50_000);
        let cases: Vec<Vec<Message>> = vec![
            vec![],
            vec![msg(Role::Tool, "{\"error\": \"boom\"}")],
            vec![msg(Role::System, "You are nice.")],
            vec![user(&huge), bot(&huge)],
            vec![
                user("¿Dónde está mi pedido? 🙂"),
                bot("Está en camino 🚚 1) ok"),
            ],
            vec![user(""), bot(""), user("   ")],
            vec![bot("Hello! How can I help?")],
        ];
        for messages in cases {
            let a = analyze(&messages, Some(&huge));
            for value in a.metrics.0 {
                assert!((0.0..=100.0).contains(&value), "{value}");
            }
            assert!(a.quality_score.is_finite() && (0.0..=1.0).contains(&a.sentiment_score));
            assert!(a.title.chars().count() <= 60);
        }
        let empty = analyze(&[], None);
        assert!(!empty.task_completed);
        assert!(empty.gated_score <= GATE_CAP);
    }

    #[test]
    fn analysis_is_fast_enough_for_the_benchmark() {
        // A smoke test, not a timed assertion: prints the time per analysis.
        let mut messages = troubled();
        messages.extend(clean());
        messages.extend(troubled().into_iter().take(2));
        assert!(messages.len() >= 10);
        let rounds = 500;
        let start = std::time::Instant::now();
        let mut total = 0.0;
        for _ in 0..rounds {
            total += analyze(
                &messages,
                Some("You are a support agent for an online shop."),
            )
            .quality_score;
        }
        let per = start.elapsed() / rounds;
        eprintln!(
            "analyze: {per:?} per {}-message conversation",
            messages.len()
        );
        assert!(total > 0.0);
    }
}
