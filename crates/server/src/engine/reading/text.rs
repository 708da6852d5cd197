//! Text as both engines compare it: capped, lowercased, split into words and crude stems.

use super::lexicon::STOPWORD_SET;

/// Each message is read up to this many bytes; longer ones are cut (on a char boundary).
pub(crate) const MAX_ANALYSED_BYTES: usize = 16 * 1024;

pub(crate) fn capped(text: &str) -> &str {
    if text.len() <= MAX_ANALYSED_BYTES {
        return text;
    }
    let mut end = MAX_ANALYSED_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Lowercase, with typographic apostrophes made plain.
pub(crate) fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{2018}' | '\u{2019}' | '\u{02bc}' => out.push('\''),
            c if c.is_ascii() => out.push(c.to_ascii_lowercase()),
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// Runs of letters and digits (apostrophes kept inside words: "can't").
pub(crate) fn tokenize(text: &str) -> Vec<&str> {
    let mut words = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        let inside = c.is_alphanumeric() || (c == '\'' && start.is_some());
        match (inside, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                push_word(&mut words, &text[s..i]);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        push_word(&mut words, &text[s..]);
    }
    words
}

fn push_word<'a>(words: &mut Vec<&'a str>, word: &'a str) {
    let word = word.trim_end_matches('\'');
    if !word.is_empty() {
        words.push(word);
    }
}

pub(crate) fn is_number(word: &str) -> bool {
    !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit())
}

pub(crate) fn is_content(word: &str) -> bool {
    word.len() >= 3 && !is_number(word) && !STOPWORD_SET.contains(word)
}

/// A crude stem, enough to match "arrive", "arrived" and "arriving".
fn stem(word: &str) -> &str {
    for suffix in ["ing", "ed", "es", "s", "e"] {
        if word.len() > suffix.len() + 3 && word.ends_with(suffix) {
            // The suffix is ASCII, so the cut falls on a char boundary.
            return &word[..word.len() - suffix.len()];
        }
    }
    word
}

pub(crate) fn content_stems<'w>(words: &[&'w str], out: &mut Vec<&'w str>) {
    for word in words {
        if is_content(word) {
            let s = stem(word);
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
}
