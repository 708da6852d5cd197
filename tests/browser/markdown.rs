//! Assistant Markdown in a real browser: structure renders as elements, raw HTML as text,
//! and only safe links become links.
#![cfg(target_arch = "wasm32")]

use converra_dashboard::components::markdown::{
    parse_markdown, plain_text, safe_href, Markdown, MdNode, MAX_NESTING,
};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

async fn render(text: &str) -> web_sys::HtmlElement {
    let document = document();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    let text = text.to_owned();
    let handle = leptos::mount::mount_to(
        host.clone(),
        move || view! { <Markdown text=text.clone()/> },
    );
    // The view stays mounted for the rest of the test.
    handle.forget();
    leptos::task::tick().await;
    host
}

fn count(host: &web_sys::HtmlElement, selector: &str) -> u32 {
    host.query_selector_all(selector).unwrap().length()
}

fn text_of(host: &web_sys::HtmlElement, selector: &str) -> String {
    host.query_selector(selector)
        .unwrap()
        .and_then(|e| e.text_content())
        .unwrap_or_default()
}

#[wasm_bindgen_test]
async fn headings_lists_emphasis_and_code_render_as_elements() {
    let host = render(
        "# Title\n\nSome **bold** and *em* text.\n\n- one\n- two\n\n1. first\n2. second\n\n```rust\nfn main() {}\n```\n\nInline `code`.",
    )
    .await;
    // Headings start at h3 under the page's own headings.
    assert_eq!(text_of(&host, "h3"), "Title");
    assert_eq!(text_of(&host, "strong"), "bold");
    assert_eq!(text_of(&host, "em"), "em");
    assert_eq!(count(&host, "ul > li"), 2);
    assert_eq!(count(&host, "ol > li"), 2);
    assert_eq!(text_of(&host, "pre code.language-rust"), "fn main() {}\n");
    assert_eq!(text_of(&host, "p > code"), "code");
}

#[wasm_bindgen_test]
async fn safe_links_open_with_rel_and_others_stay_text() {
    let host = render(
        "[docs](https://example.com/a?b=c) [mail](mailto:x@example.com) [bad](javascript:alert(1)) [data](data:text/html,hi) [rel](/local)",
    )
    .await;
    let links = host.query_selector_all("a").unwrap();
    assert_eq!(links.length(), 2);
    let first: web_sys::Element = links.get(0).unwrap().unchecked_into();
    assert_eq!(
        first.get_attribute("href").as_deref(),
        Some("https://example.com/a?b=c")
    );
    assert_eq!(
        first.get_attribute("rel").as_deref(),
        Some("noopener noreferrer nofollow")
    );
    assert!(host.text_content().unwrap().contains("bad"));
    assert_eq!(count(&host, "a[href^='javascript']"), 0);
    assert_eq!(count(&host, ".md-blocked-link"), 3);
}

#[wasm_bindgen_test]
async fn raw_html_is_shown_as_text_and_creates_no_element() {
    let host = render(
        "<script>alert(1)</script>\n\nHello <img src=x onerror=\"window.__md_xss=1\"> world <b>bold?</b>\n\n<div onclick=\"x()\">block</div>",
    )
    .await;
    assert_eq!(count(&host, "script"), 0);
    assert_eq!(count(&host, "img"), 0);
    assert_eq!(count(&host, "b"), 0);
    assert_eq!(count(&host, "div[onclick]"), 0);
    let text = host.text_content().unwrap();
    assert!(text.contains("<script>alert(1)</script>"), "{text}");
    assert!(
        text.contains("<img src=x onerror=\"window.__md_xss=1\">"),
        "{text}"
    );
    assert!(text.contains("<div onclick=\"x()\">block</div>"), "{text}");
    leptos::task::tick().await;
    let flagged = js_sys_get("__md_xss");
    assert!(flagged.is_undefined());
}

fn js_sys_get(name: &str) -> wasm_bindgen::JsValue {
    wasm_bindgen_futures::js_sys::Reflect::get(&window(), &name.into()).unwrap()
}

#[wasm_bindgen_test]
async fn images_are_never_loaded() {
    let host = render("![a cat](https://example.com/cat.png) ![x](javascript:evil)").await;
    assert_eq!(count(&host, "img"), 0);
    let text = host.text_content().unwrap();
    assert!(text.contains("[image: a cat]"), "{text}");
    assert_eq!(
        host.query_selector(".md-image a")
            .unwrap()
            .unwrap()
            .get_attribute("href")
            .as_deref(),
        Some("https://example.com/cat.png")
    );
    assert!(text.contains("javascript:evil"));
    assert_eq!(count(&host, "a[href^='javascript']"), 0);
}

#[wasm_bindgen_test]
async fn tables_render_with_header_cells() {
    let host = render("| a | b |\n|---|---|\n| 1 | 2 |\n").await;
    assert_eq!(count(&host, "table thead th"), 2);
    assert_eq!(count(&host, "table tr td"), 2);
}

#[wasm_bindgen_test]
fn only_http_https_and_mailto_are_safe() {
    assert!(safe_href("https://x.y").is_some());
    assert!(safe_href(" HTTP://x.y ").is_some());
    assert!(safe_href("mailto:a@b.c").is_some());
    assert!(safe_href("javascript:alert(1)").is_none());
    assert!(safe_href("JaVaScRiPt:alert(1)").is_none());
    assert!(safe_href("vbscript:x").is_none());
    assert!(safe_href("data:text/html,x").is_none());
    assert!(safe_href("//evil.example").is_none());
    assert!(safe_href("/relative").is_none());
    assert!(parse_markdown("").is_empty());
}

fn depth(nodes: &[MdNode]) -> usize {
    nodes
        .iter()
        .map(|node| match node {
            MdNode::Link { children, .. } | MdNode::Element { children, .. } => 1 + depth(children),
            _ => 0,
        })
        .max()
        .unwrap_or(0)
}

#[wasm_bindgen_test]
fn nesting_past_the_limit_is_flattened_and_its_text_kept() {
    let deep = format!("{} the bottom", ">".repeat(2_000));
    let nodes = parse_markdown(&deep);
    assert!(depth(&nodes) <= MAX_NESTING, "{}", depth(&nodes));
    assert!(plain_text(&nodes).contains("the bottom"));
    let emphasis = format!("{}x{}", "*a ".repeat(500), " b*".repeat(500));
    assert!(depth(&parse_markdown(&emphasis)) <= MAX_NESTING);
    // Shallow documents keep their structure.
    assert_eq!(depth(&parse_markdown("> > quoted *twice*")), 4);
}

/// Seeded random Markdown made of the constructs that nest, escape or link: whatever comes,
/// parsing neither panics nor yields more text than it was given, nor a deeper tree than
/// the limit.
#[wasm_bindgen_test]
fn random_markdown_is_parsed_within_its_bounds() {
    const PIECES: [&str; 22] = [
        "> ",
        "- ",
        "1. ",
        "* ",
        "**",
        "_",
        "`",
        "```\n",
        "[a](",
        "javascript:x)",
        "](",
        "![i](",
        "<b>",
        "</b>",
        "| a | b |\n|---|---|\n",
        "\n",
        "\n\n",
        "# ",
        "~~",
        "[^1]",
        "word ",
        "\\",
    ];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..300 {
        let len = (next() % 200) as usize;
        let text: String = (0..len)
            .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
            .collect();
        let nodes = parse_markdown(&text);
        assert!(depth(&nodes) <= MAX_NESTING, "{text:?}");
        assert!(
            plain_text(&nodes).chars().count() <= text.chars().count(),
            "{text:?}"
        );
    }
}
