//! What the offline engine counts in a transcript: repeated replies, apology loops, the
//! user's mood, details acted on without asking, claims without a source, what followed
//! failed tools, reply length, style and retention.

use std::collections::HashSet;

use converra_api::conversations::Role;
use converra_api::insights::StepStatus;
use serde_json::Value;

use super::guarantees::{unbacked_guarantee, Backing};
use super::lexicon::{
    ACTION_CLAIMS, ALTERNATIVES, APOLOGY_WORDS, DATE_WORDS, DETAIL_NOUNS, FAILURE_ACKS, HEDGES,
    NEGATORS, REFERENCE_NOUNS, RETENTION_COMPLAINTS, ROBOTIC, SENTIMENT_MAP, SENTIMENT_PHRASES,
};
use crate::engine::offline::negation::first_affirmed;
use crate::engine::reading::text::{capped, is_number, normalise, tokenize};
use crate::engine::reading::transcript::{Line, Transcript};
use crate::engine::reading::turns::{hands_over, is_deflection, is_refusal};
use crate::engine::StepOutcome;

/// A reply is compared with this many earlier replies for repetition.
const REPEAT_WINDOW: usize = 6;
/// Word-trigram Jaccard similarity from which two replies count as the same answer.
const REPEAT_SIMILARITY: f64 = 0.6;

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

/// A question (a sentence ending in "?") that names a detail: "What's your order number?".
fn asks_for_detail(line: &Line) -> bool {
    line.asks()
        && line
            .lower
            .split_inclusive(['.', '!', '?', '\n'])
            .filter(|sentence| sentence.ends_with('?'))
            .any(|question| tokenize(question).iter().any(|w| DETAIL_NOUNS.contains(w)))
}

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
pub(super) fn repeated_replies(t: &Transcript) -> Vec<usize> {
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

pub(super) struct Apologies {
    pub(super) total: usize,
    /// Replies in runs of apologies where a later one made no progress.
    pub(super) loop_replies: Vec<usize>,
}

pub(super) fn apology_loops(t: &Transcript) -> Apologies {
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
pub(super) struct Mood {
    /// -1..1.
    pub(super) score: f64,
    pub(super) frustrated: bool,
}

pub(super) fn shouts(raw: &str) -> bool {
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

pub(super) fn mood(line: &Line) -> Mood {
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
pub(super) struct MissingDetail {
    pub(super) user: usize,
    pub(super) reply: usize,
    pub(super) noun: &'static str,
}

pub(super) fn missing_detail(t: &Transcript) -> Option<MissingDetail> {
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
/// mentions, and guarantees the prompt does not make ([`super::guarantees`]).
pub(super) struct Claims {
    pub(super) replies: Vec<usize>,
    pub(super) facts: usize,
    pub(super) guarantees: usize,
    pub(super) examples: Vec<String>,
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

pub(super) fn unsupported_claims(t: &Transcript, prompt_lower: &str) -> Claims {
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
    let backing = Backing::of(prompt_lower);
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
        if let Some(g) = unbacked_guarantee(line.lower, &backing) {
            claims.guarantees += 1;
            found = true;
            if claims.examples.len() < 3 {
                claims.examples.push(format!("\"{g}\""));
            }
        }
        if found {
            claims.replies.push(r);
        }
    }
    claims
}

/// What followed each failed tool call.
pub(super) struct ToolReading {
    pub(super) calls: usize,
    pub(super) failed: Vec<usize>,
    /// Failures the next reply passed over as if nothing happened.
    pub(super) glossed: Vec<usize>,
    /// Failures neither handled (acknowledged with an alternative) nor fixed by a later
    /// successful call of the same tool.
    pub(super) unresolved: usize,
    /// Replies that report an action done with no successful tool call before them.
    pub(super) action_claims: Vec<usize>,
    /// "lookup_order (timeout after 30 s)", for the texts.
    pub(super) failure_notes: Vec<String>,
}

pub(super) fn read_tools(t: &Transcript, tool_steps: &[StepOutcome]) -> ToolReading {
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
        let claims_action = first_affirmed(t.lines[r].lower, ACTION_CLAIMS).is_some();
        if claims_action && first_success.is_none_or(|s| s > r) {
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

pub(super) struct Length {
    pub(super) verbose: Vec<usize>,
    /// Mean penalty per reply, 0..70.
    pub(super) mean_penalty: f64,
}

/// Each reply against the words of the user turn it answers.
pub(super) fn read_length(t: &Transcript) -> Length {
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

pub(super) struct Style {
    pub(super) mean_sentence_words: f64,
    pub(super) robotic: usize,
    pub(super) robotic_example: Option<&'static str>,
    pub(super) hedges: usize,
}

pub(super) fn read_style(t: &Transcript) -> Style {
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

pub(super) struct Retention {
    pub(super) reasks: usize,
    pub(super) complaints: Vec<usize>,
}

pub(super) fn read_retention(t: &Transcript) -> Retention {
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
