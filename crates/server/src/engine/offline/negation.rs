//! Whether a phrase found in lowercase text is said or denied. The offline engine matches
//! phrases by substring; without this, "You are an AI, not a human" would read as an
//! escalation policy and "I can't guarantee that" as a guarantee.
//!
//! A phrase is negated when a negator stands shortly before it in the same clause ("never
//! promise refunds", "no refund has been processed"), or when the rest of its clause forbids
//! it ("escalation is not allowed"). Words that cancel a negator ("don't hesitate to",
//! "not only") leave the phrase affirmed. A phrase that carries its own negator ("do not
//! invent") is an instruction in its own right: only what stands before it can deny it.
//! These are rules, not a parser: double negatives and negation across clauses are not read.

use crate::engine::reading::text::tokenize;

const NEGATORS: &[&str] = &[
    "not",
    "no",
    "never",
    "don't",
    "doesn't",
    "didn't",
    "isn't",
    "wasn't",
    "aren't",
    "won't",
    "can't",
    "cannot",
    "couldn't",
    "shouldn't",
    "mustn't",
    "haven't",
    "hasn't",
    "nor",
    "without",
    "nothing",
    "none",
];

/// After a negator, these words turn it into an encouragement or a widening.
const CANCELLERS: &[&str] = &["hesitate", "only", "just", "forget", "fail"];

/// Words between a negator and the phrase it still governs: "never (ever) promise",
/// "don't (ever try to) escalate".
const SCOPE_WORDS: usize = 3;

/// The rest of a clause that forbids what came before it.
const FORBIDDING_TAILS: &[&str] = &[
    "not allowed",
    "never allowed",
    "not permitted",
    "not an option",
    "forbidden",
    "prohibited",
    "off limits",
    "off-limits",
];

fn is_clause_break(c: char) -> bool {
    matches!(c, ',' | ';' | ':' | '.' | '!' | '?' | '\n' | '(' | ')')
}

/// Whether the occurrence of a phrase at `start..end` of `text` is denied.
fn negated_at(text: &str, start: usize, end: usize) -> bool {
    let clause_start = text[..start].rfind(is_clause_break).map_or(0, |i| i + 1);
    let before = &text[clause_start..start];
    // "X but Y": a negator before "but" does not reach Y.
    let before = before.rfind(" but ").map_or(before, |i| &before[i + 5..]);
    let words = tokenize(before);
    let window = words.len().saturating_sub(SCOPE_WORDS + 1);
    let negated_before = words.iter().enumerate().skip(window).any(|(i, w)| {
        NEGATORS.contains(w)
            && words
                .get(i + 1)
                .is_none_or(|next| !CANCELLERS.contains(next))
    });
    if negated_before {
        return true;
    }
    let clause_end = text[end..]
        .find(is_clause_break)
        .map_or(text.len(), |i| end + i);
    let after = &text[end..clause_end];
    FORBIDDING_TAILS.iter().any(|tail| after.contains(tail))
}

/// Whether `text` (lowercase) says `phrase` at least once without denying it.
pub(crate) fn affirms(text: &str, phrase: &str) -> bool {
    if phrase.is_empty() {
        return false;
    }
    text.match_indices(phrase)
        .any(|(start, found)| !negated_at(text, start, start + found.len()))
}

/// The first of `phrases` that `text` (lowercase) says without denying it.
pub(crate) fn first_affirmed(text: &str, phrases: &[&'static str]) -> Option<&'static str> {
    phrases.iter().copied().find(|p| affirms(text, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phrase_said_plainly_is_affirmed() {
        assert!(affirms("escalate to a human when asked.", "a human"));
        assert!(affirms("within 5 days, guaranteed.", "guarantee"));
        assert!(affirms(
            "your refund has been processed.",
            "has been processed"
        ));
    }

    #[test]
    fn a_negator_before_the_phrase_denies_it() {
        assert!(!affirms("you are an ai, not a human.", "a human"));
        assert!(!affirms("never promise refunds.", "promise"));
        assert!(!affirms(
            "i can't guarantee that it arrives friday.",
            "guarantee"
        ));
        assert!(!affirms(
            "no refund has been processed yet.",
            "has been processed"
        ));
        assert!(!affirms("don't ever try to escalate.", "escalat"));
        assert!(!affirms("refunds are never guaranteed.", "guarantee"));
    }

    #[test]
    fn a_forbidding_tail_denies_the_phrase() {
        assert!(!affirms(
            "escalation to a supervisor is not allowed.",
            "supervisor"
        ));
        assert!(!affirms("handing over is prohibited", "handing over"));
        // The tail belongs to another clause: the phrase stands.
        assert!(affirms(
            "offer a supervisor; refunds are not allowed.",
            "supervisor"
        ));
    }

    #[test]
    fn negation_ends_with_its_clause() {
        assert!(affirms(
            "you are an ai, not a human, but hand over to a human when asked",
            "a human"
        ));
        assert!(affirms("do not argue, escalate to a human", "a human"));
        assert!(affirms("not in writing but i guarantee it", "guarantee"));
        assert!(affirms(
            "if no order number is given, ask for it",
            "ask for it"
        ));
    }

    #[test]
    fn a_negator_far_before_the_phrase_does_not_reach_it() {
        assert!(affirms(
            "never say you are a bot and always hand over when asked",
            "hand over"
        ));
    }

    #[test]
    fn cancelled_negators_encourage() {
        assert!(affirms(
            "do not hesitate to escalate to a human.",
            "a human"
        ));
        assert!(affirms(
            "not only answer, but escalate when stuck.",
            "escalat"
        ));
        assert!(affirms("don't forget to escalate.", "escalat"));
    }

    #[test]
    fn a_phrase_with_its_own_negator_stands() {
        assert!(affirms("do not invent facts.", "do not invent"));
        assert!(affirms("you must never repeat yourself.", "never repeat"));
    }

    #[test]
    fn any_affirmed_occurrence_counts() {
        let text = "you are an ai, not a human. offer a human when asked.";
        assert!(affirms(text, "a human"));
        assert_eq!(
            first_affirmed(text, &["a person", "a human"]),
            Some("a human")
        );
        assert_eq!(first_affirmed("not a human.", &["a human"]), None);
        assert!(!affirms("anything", ""));
    }
}
