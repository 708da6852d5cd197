//! A search result's snippet: its matching words marked, bad ranges never trusted.
#![cfg(target_arch = "wasm32")]

use converra_api::conversations::{SearchSnippet, TextRange};
use converra_dashboard::components::search_snippet::{snippet_parts, SnippetText};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

fn snippet(text: &str, ranges: &[(u32, u32)]) -> SearchSnippet {
    SearchSnippet {
        text: text.to_owned(),
        highlights: ranges
            .iter()
            .map(|&(start, end)| TextRange { start, end })
            .collect(),
    }
}

#[wasm_bindgen_test]
fn the_marked_words_are_cut_out_by_character() {
    let parts = snippet_parts(&snippet("…café au lait, naïve", &[(1, 5), (9, 13)]));
    let parts: Vec<(&str, bool)> = parts.iter().map(|(t, m)| (t.as_str(), *m)).collect();
    assert_eq!(
        parts,
        [
            ("…", false),
            ("café", true),
            (" au ", false),
            ("lait", true),
            (", naïve", false)
        ]
    );
    // Overlapping, backwards and outside ranges are skipped; the text stays whole.
    let odd = snippet_parts(&snippet(
        "refund policy",
        &[(0, 6), (3, 8), (9, 7), (10, 99)],
    ));
    let whole: String = odd.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(whole, "refund policy");
    assert_eq!(odd.iter().filter(|(_, m)| *m).count(), 1);
}

#[wasm_bindgen_test]
fn marks_render_as_mark_elements_with_the_text_escaped() {
    let host = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&host).unwrap();
    let text = "<b>refund</b> now";
    let _mounted = leptos::mount::mount_to(host.clone().unchecked_into(), move || {
        view! { <SnippetText snippet=snippet(text, &[(3, 9)])/> }
    });
    let marks = host.query_selector_all("mark").unwrap();
    assert_eq!(marks.length(), 1);
    assert_eq!(marks.get(0).unwrap().text_content().unwrap(), "refund");
    assert_eq!(host.text_content().unwrap(), text);
    assert!(host.query_selector("b").unwrap().is_none());
}
