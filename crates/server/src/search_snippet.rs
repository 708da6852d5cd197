//! Where a search matched a conversation: a short window of its text around the first
//! match, each matching word marked. The word index is contentless, so the words are found
//! again in the text, read as the index reads them: case and diacritics folded, every word
//! whole but the last, which may be a prefix.

use converra_api::conversations::{ConversationFilter, SearchSnippet, TextRange};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Characters of context kept before the first match.
const CONTEXT_BEFORE: usize = 40;
/// The most characters a snippet's text holds, ellipses aside.
const MAX_CHARS: usize = 160;
const ELLIPSIS: char = '…';

/// A word of the text: its characters `start..end` and how the index reads it.
struct Token {
    start: usize,
    end: usize,
    folded: String,
}

/// Lower case without diacritics, as the index's `remove_diacritics 2` reads a word.
pub fn fold(word: &str) -> String {
    word.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// `text` as the words the index keeps, folded and joined by spaces: what PostgreSQL's
/// `to_tsvector('simple', …)` is given, so it reads words as SQLite's index does.
pub fn folded_words(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let words: Vec<String> = tokens(&chars).into_iter().map(|t| t.folded).collect();
    words.join(" ")
}

fn tokens(chars: &[char]) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut start = None;
    for (i, c) in chars.iter().enumerate() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                tokens.push(token(chars, s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        tokens.push(token(chars, s, chars.len()));
    }
    tokens
}

fn token(chars: &[char], start: usize, end: usize) -> Token {
    Token {
        start,
        end,
        folded: fold(&chars[start..end].iter().collect::<String>()),
    }
}

/// The window of `text` around the first word `q` matches, or `None` when no word does.
pub fn snippet(text: &str, q: &str) -> Option<SearchSnippet> {
    let words: Vec<String> = ConversationFilter::search_words(q)
        .take(16)
        .map(fold)
        .collect();
    let (last, whole) = words.split_last()?;
    let last_is_prefix = last.chars().count() >= ConversationFilter::MIN_PREFIX_CHARS;
    let matches = |t: &Token| {
        whole.contains(&t.folded)
            || if last_is_prefix {
                t.folded.starts_with(last.as_str())
            } else {
                t.folded == *last
            }
    };
    let mut chars: Vec<char> = text.chars().collect();
    // The indexed text ends each part with a line break; a snippet has no trailing space.
    while chars.last().is_some_and(|c| c.is_whitespace()) {
        chars.pop();
    }
    let tokens = tokens(&chars);
    let first = tokens.iter().find(|t| matches(t))?;

    // Start a little before the match, at a word's start; end at a word's end.
    let earliest = first.start.saturating_sub(CONTEXT_BEFORE);
    let start = tokens
        .iter()
        .find(|t| t.start >= earliest)
        .map_or(first.start, |t| t.start.min(first.start));
    let latest = start + MAX_CHARS;
    let end = if latest >= chars.len() {
        chars.len()
    } else {
        tokens
            .iter()
            .filter(|t| t.end <= latest)
            .map(|t| t.end)
            .max()
            .unwrap_or(latest)
            .max(first.end)
    };

    let mut out = String::new();
    let lead = usize::from(start > 0);
    if start > 0 {
        out.push(ELLIPSIS);
    }
    // One line: every whitespace character becomes a space, so offsets stay one to one.
    out.extend(
        chars[start..end]
            .iter()
            .map(|c| if c.is_whitespace() { ' ' } else { *c }),
    );
    if end < chars.len() {
        out.push(ELLIPSIS);
    }
    let offset = |i: usize| u32::try_from(i - start + lead).unwrap_or(u32::MAX);
    let highlights = tokens
        .iter()
        .filter(|t| t.start >= start && t.end <= end && matches(t))
        .map(|t| TextRange {
            start: offset(t.start),
            end: offset(t.end),
        })
        .collect();
    Some(SearchSnippet {
        text: out,
        highlights,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The snippet with each highlight in brackets, to read a test at a glance.
    fn marked(text: &str, q: &str) -> Option<String> {
        let snippet = snippet(text, q)?;
        let chars: Vec<char> = snippet.text.chars().collect();
        let mut out = String::new();
        let mut at = 0;
        for range in &snippet.highlights {
            let (s, e) = (range.start as usize, range.end as usize);
            out.extend(&chars[at..s]);
            out.push('[');
            out.extend(&chars[s..e]);
            out.push(']');
            at = e;
        }
        out.extend(&chars[at..]);
        Some(out)
    }

    #[test]
    fn marks_whole_words_and_the_last_as_a_prefix_case_and_accents_folded() {
        assert_eq!(
            marked(
                "Is the backpack Waterproof?\nIt is water-resistant.",
                "waterpr"
            )
            .as_deref(),
            Some("Is the backpack [Waterproof]? It is water-resistant.")
        );
        assert_eq!(
            marked("Je veux un CAFÉ, pas un café au lait", "cafe lait").as_deref(),
            Some("Je veux un [CAFÉ], pas un [café] au [lait]")
        );
        // A word before the last is whole: "refund" does not match "refunded".
        assert_eq!(
            marked("It was refunded. Refund policy", "refund policy").as_deref(),
            Some("It was refunded. [Refund] [policy]")
        );
        assert_eq!(marked("Nothing here", "parcel"), None);
        assert_eq!(marked("Anything", ""), None);
    }

    #[test]
    fn a_long_text_is_cut_around_the_first_match_at_word_boundaries() {
        let text = format!(
            "{} the parcel was lost {}",
            "word ".repeat(60),
            "tail ".repeat(60)
        );
        let snippet = snippet(&text, "parcel").unwrap();
        assert!(snippet.text.starts_with("…word"), "{}", snippet.text);
        assert!(snippet.text.ends_with("tail…"), "{}", snippet.text);
        assert!(snippet.text.chars().count() <= MAX_CHARS + 2);
        let [range] = snippet.highlights[..] else {
            panic!("one match: {:?}", snippet.highlights)
        };
        let marked: String = snippet
            .text
            .chars()
            .skip(range.start as usize)
            .take((range.end - range.start) as usize)
            .collect();
        assert_eq!(marked, "parcel");
        // The context before the match stays within its budget.
        assert!(range.start as usize <= CONTEXT_BEFORE + 1);
    }

    #[test]
    fn offsets_count_characters_not_bytes() {
        let snippet = snippet("ééé — naïve émoji 🙂 parcel", "parcel").unwrap();
        let chars: Vec<char> = snippet.text.chars().collect();
        let range = snippet.highlights[0];
        let word: String = chars[range.start as usize..range.end as usize]
            .iter()
            .collect();
        assert_eq!(word, "parcel");
    }
}
