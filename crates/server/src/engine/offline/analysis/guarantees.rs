//! Guarantees in a reply, and whether the prompt backs them. A prompt that mentions the word
//! ("never guarantee delivery dates") backs nothing: a reply's guarantee is supported only
//! when the prompt itself makes a guarantee (not denied) about the same thing, judged by the
//! content words the two sentences share.

use super::lexicon::GUARANTEES;
use crate::engine::offline::negation::first_affirmed;
use crate::engine::reading::text::{content_stems, tokenize};

/// The part of a guarantee's content words a reply must repeat to be backed by it: a
/// guarantee of "delivery within 5 business days" backs "within 5 business days,
/// guaranteed", not "your refund is guaranteed".
const SHARED_SHARE: f64 = 0.5;

/// Sentences of lowercase text (delimiters dropped).
fn sentences(text: &str) -> impl Iterator<Item = &str> {
    text.split(['.', '!', '?', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Content stems of a sentence, without the words that make it a guarantee.
fn subject(sentence: &str) -> Vec<&str> {
    let mut guarantee_words = Vec::new();
    for phrase in GUARANTEES {
        content_stems(&tokenize(phrase), &mut guarantee_words);
    }
    let mut stems = Vec::new();
    content_stems(&tokenize(sentence), &mut stems);
    stems.retain(|s| !guarantee_words.contains(s));
    stems
}

/// What a prompt guarantees: the subjects of its sentences that make a guarantee.
pub(super) struct Backing<'p> {
    subjects: Vec<Vec<&'p str>>,
}

impl<'p> Backing<'p> {
    pub(super) fn of(prompt_lower: &'p str) -> Self {
        let subjects = sentences(prompt_lower)
            .filter(|s| first_affirmed(s, GUARANTEES).is_some())
            .map(subject)
            .filter(|stems| !stems.is_empty())
            .collect();
        Backing { subjects }
    }

    fn backs(&self, claim: &[&str]) -> bool {
        self.subjects.iter().any(|backed| {
            let shared = backed.iter().filter(|s| claim.contains(s)).count();
            shared > 0 && shared as f64 >= SHARED_SHARE * backed.len() as f64
        })
    }
}

/// The first guarantee a reply (lowercase) makes that the prompt does not back.
pub(super) fn unbacked_guarantee(reply_lower: &str, backing: &Backing) -> Option<&'static str> {
    sentences(reply_lower).find_map(|sentence| {
        let made = first_affirmed(sentence, GUARANTEES)?;
        (!backing.backs(&subject(sentence))).then_some(made)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unbacked(reply: &str, prompt: &str) -> Option<&'static str> {
        unbacked_guarantee(reply, &Backing::of(prompt))
    }

    #[test]
    fn a_prompt_that_only_mentions_guarantees_backs_none() {
        let reply = "your refund will be back within 3 days, guaranteed.";
        assert_eq!(unbacked(reply, ""), Some("guarantee"));
        assert_eq!(
            unbacked(reply, "never guarantee refund dates."),
            Some("guarantee")
        );
        assert_eq!(
            unbacked(reply, "you cannot guarantee anything about refunds."),
            Some("guarantee")
        );
        assert_eq!(
            unbacked(
                "i promise your refund is on its way.",
                "never promise refunds."
            ),
            Some("i promise")
        );
    }

    #[test]
    fn a_guarantee_the_prompt_makes_about_the_same_thing_is_backed() {
        let prompt = "we guarantee delivery within 5 business days.";
        assert_eq!(
            unbacked("within 5 business days, guaranteed.", prompt),
            None
        );
        // The prompt guarantees delivery, not refunds.
        assert_eq!(
            unbacked("your refund is guaranteed.", prompt),
            Some("guarantee")
        );
    }

    #[test]
    fn a_denied_guarantee_in_a_reply_is_no_claim() {
        assert_eq!(
            unbacked("i can't guarantee it will arrive friday.", ""),
            None
        );
        assert_eq!(unbacked("refunds are never guaranteed.", ""), None);
        assert_eq!(unbacked("it should arrive soon.", ""), None);
    }
}
