//! Where a search matched: the server's snippet, its matching words marked.

use converra_api::conversations::SearchSnippet;
use leptos::prelude::*;

/// The snippet's text in runs, each marked or not. Ranges that overlap, run backwards or
/// fall outside the text are skipped rather than trusted.
pub fn snippet_parts(snippet: &SearchSnippet) -> Vec<(String, bool)> {
    let chars: Vec<char> = snippet.text.chars().collect();
    let mut parts = Vec::new();
    let mut at = 0;
    for range in &snippet.highlights {
        let (start, end) = (range.start as usize, range.end as usize);
        if start < at || end <= start || end > chars.len() {
            continue;
        }
        if start > at {
            parts.push((chars[at..start].iter().collect(), false));
        }
        parts.push((chars[start..end].iter().collect(), true));
        at = end;
    }
    if at < chars.len() {
        parts.push((chars[at..].iter().collect(), false));
    }
    parts
}

#[component]
pub fn SnippetText(snippet: SearchSnippet) -> impl IntoView {
    view! {
        <p class="search-snippet">
            {snippet_parts(&snippet).into_iter().map(|(text, marked)| {
                if marked {
                    view! { <mark>{text}</mark> }.into_any()
                } else {
                    text.into_any()
                }
            }).collect_view()}
        </p>
    }
}
