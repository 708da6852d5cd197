//! The word diff: the pure function on edge cases, and `<WordDiff/>` in a real browser.
#![cfg(target_arch = "wasm32")]

use converra_dashboard::components::diff::{
    collapse_unchanged, summarize, word_diff, DiffPiece, DiffSpan, WordDiff,
};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

fn same(t: &str) -> DiffSpan {
    DiffSpan::Same(t.to_owned())
}
fn added(t: &str) -> DiffSpan {
    DiffSpan::Added(t.to_owned())
}
fn removed(t: &str) -> DiffSpan {
    DiffSpan::Removed(t.to_owned())
}

/// The old and the new text, put back together from the spans.
fn rebuild(spans: &[DiffSpan]) -> (String, String) {
    let (mut old, mut new) = (String::new(), String::new());
    for span in spans {
        match span {
            DiffSpan::Same(t) => {
                old.push_str(t);
                new.push_str(t);
            }
            DiffSpan::Removed(t) => old.push_str(t),
            DiffSpan::Added(t) => new.push_str(t),
        }
    }
    (old, new)
}

#[wasm_bindgen_test]
fn empty_texts_have_no_spans() {
    assert_eq!(word_diff("", ""), Vec::<DiffSpan>::new());
    assert_eq!(summarize(&word_diff("", "")).describe(), "No differences");
}

#[wasm_bindgen_test]
fn from_empty_everything_is_added_and_to_empty_everything_is_removed() {
    assert_eq!(word_diff("", "Be brief."), vec![added("Be brief.")]);
    assert_eq!(word_diff("Be brief.", ""), vec![removed("Be brief.")]);
    assert_eq!(
        summarize(&word_diff("", "Be brief.")).describe(),
        "2 words added, 0 removed"
    );
}

#[wasm_bindgen_test]
fn identical_texts_are_one_unchanged_span() {
    let text = "You are a helpful assistant.\n\nBe concise.";
    assert_eq!(word_diff(text, text), vec![same(text)]);
    assert_eq!(
        summarize(&word_diff(text, text)).describe(),
        "No differences"
    );
}

#[wasm_bindgen_test]
fn an_inserted_word_keeps_the_whitespace_around_it() {
    assert_eq!(
        word_diff("Be friendly and concise.", "Be very friendly and concise."),
        vec![same("Be "), added("very "), same("friendly and concise.")]
    );
}

#[wasm_bindgen_test]
fn a_replaced_run_reads_as_removed_then_added() {
    assert_eq!(
        word_diff("keep a b c end", "keep x y z end"),
        vec![
            same("keep "),
            removed("a b c"),
            added("x y z"),
            same(" end")
        ]
    );
    let summary = summarize(&word_diff("keep a b c end", "keep x y z end"));
    assert_eq!((summary.added_words, summary.removed_words), (3, 3));
    assert_eq!(summary.describe(), "3 words added, 3 removed");
}

#[wasm_bindgen_test]
fn unicode_words_are_compared_whole() {
    let old = "Réponds en français, s'il te plaît 🙂 — merci";
    let new = "Réponds en español, s'il te plaît 🙂 — 谢谢";
    let spans = word_diff(old, new);
    assert_eq!(rebuild(&spans), (old.to_owned(), new.to_owned()));
    assert!(spans.contains(&removed("français,")));
    assert!(spans.contains(&added("español,")));
    assert!(spans.contains(&removed("merci")));
    assert!(spans.contains(&added("谢谢")));
    assert_eq!(summarize(&spans).describe(), "2 words added, 2 removed");
}

#[wasm_bindgen_test]
fn a_whitespace_only_change_says_so() {
    let spans = word_diff("one two", "one\n\ntwo");
    assert_eq!(
        rebuild(&spans),
        ("one two".to_owned(), "one\n\ntwo".to_owned())
    );
    assert_eq!(summarize(&spans).describe(), "Only whitespace changed");
}

#[wasm_bindgen_test]
fn five_thousand_word_prompts_diff_fast() {
    let words: Vec<String> = (0..5_000)
        .map(|i| format!("w{}", (i * 7_919) % 1_500))
        .collect();
    let old = words.join(" ");
    let mut edited = words.clone();
    for k in 0..20 {
        edited[k * 240 + 3] = format!("changed{k}");
    }
    let new = edited.join(" ");
    let started = web_sys::js_sys::Date::now();
    let spans = word_diff(&old, &new);
    let elapsed = web_sys::js_sys::Date::now() - started;
    assert_eq!(rebuild(&spans), (old.clone(), new));
    assert_eq!(summarize(&spans).describe(), "20 words added, 20 removed");
    // Generous: a debug build on a busy machine; a release build takes a few ms.
    assert!(elapsed < 1_000.0, "took {elapsed} ms");

    // Two unrelated texts of that size stay correct; the work budget bounds their time,
    // which depends on the build and the machine, so it is not pinned here.
    let other: Vec<String> = (0..5_000).map(|i| format!("x{i}")).collect();
    let other = other.join(" ");
    let spans = word_diff(&old, &other);
    assert_eq!(rebuild(&spans), (old, other));
}

#[wasm_bindgen_test]
fn collapsing_keeps_context_beside_each_change() {
    let old = "one two three four five six seven eight nine ten";
    let new = "one two three four five SIX seven eight nine ten";
    let pieces = collapse_unchanged(&word_diff(old, new), 2);
    assert_eq!(
        pieces,
        vec![
            DiffPiece::Skipped { words: 3 },
            DiffPiece::Span(same(" four five ")),
            DiffPiece::Span(removed("six")),
            DiffPiece::Span(added("SIX")),
            DiffPiece::Span(same(" seven eight ")),
            DiffPiece::Skipped { words: 2 },
        ]
    );
    // Nothing changed: nothing to show but the count.
    assert_eq!(
        collapse_unchanged(&word_diff(old, old), 2),
        vec![DiffPiece::Skipped { words: 10 }]
    );
}

fn mount(view_fn: impl FnOnce() -> AnyView + 'static) -> web_sys::HtmlElement {
    let document = document();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    let handle = leptos::mount::mount_to(host.clone(), view_fn);
    handle.forget();
    host
}

fn texts(host: &web_sys::HtmlElement, selector: &str) -> Vec<String> {
    let list = host.query_selector_all(selector).unwrap();
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.text_content())
        .collect()
}

#[wasm_bindgen_test]
async fn the_component_marks_insertions_and_deletions_for_everyone() {
    let host = mount(|| {
        view! { <WordDiff old="Be friendly and concise." new="Be friendly and brief. Cite sources."/> }
            .into_any()
    });
    leptos::task::tick().await;
    assert_eq!(texts(&host, ".diff-summary"), ["3 words added, 1 removed"]);
    // Screen readers hear "[added: …]"; sighted readers see the ins/del styling.
    assert_eq!(texts(&host, "del"), ["[removed: concise.]"]);
    assert_eq!(texts(&host, "ins"), ["[added: brief. Cite sources.]"]);
    assert_eq!(texts(&host, "ins .visually-hidden"), ["[added: ", "]"]);
    let body = host.query_selector(".diff-body").unwrap().unwrap();
    assert!(body.text_content().unwrap().starts_with("Be friendly and "));
}

#[wasm_bindgen_test]
async fn the_component_renders_markup_in_prompts_as_text() {
    let host = mount(|| {
        view! { <WordDiff old="Say hi." new="Say <b>hi</b> <script>alert(1)</script>"/> }.into_any()
    });
    leptos::task::tick().await;
    assert!(host.query_selector("b").unwrap().is_none());
    assert!(host.query_selector("script").unwrap().is_none());
    assert!(texts(&host, "ins")[0].contains("<b>hi</b>"));
}

#[wasm_bindgen_test]
async fn differences_only_collapses_and_follows_its_signal() {
    let only = RwSignal::new(false);
    let old: String = (1..=40).map(|i| format!("w{i} ")).collect();
    let new = old.replace("w20 ", "twenty ");
    let host = mount(move || {
        view! { <WordDiff old=old.clone() new=new.clone() differences_only=only/> }.into_any()
    });
    leptos::task::tick().await;
    assert!(host.query_selector(".diff-skip").unwrap().is_none());
    only.set(true);
    leptos::task::tick().await;
    let skipped = texts(&host, ".diff-skip");
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert_eq!(skipped[0], "… 13 unchanged words …");
    assert_eq!(texts(&host, "ins"), ["[added: twenty]"]);
}
