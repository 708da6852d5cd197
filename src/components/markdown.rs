//! Markdown from a model, rendered safely: pulldown-cmark's events become a small tree and
//! the tree becomes Leptos views, so no string is ever parsed as HTML. Raw HTML shows as
//! text, links go only to http, https and mailto, and images are never loaded (their alt
//! text and address show instead).

use leptos::prelude::*;
use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag};

/// A node of rendered Markdown.
#[derive(Debug, Clone, PartialEq)]
pub enum MdNode {
    Text(String),
    /// Inline code.
    Code(String),
    /// Raw HTML from the source, kept as text.
    Html(String),
    SoftBreak,
    HardBreak,
    Rule,
    /// A task list's box: checked or not.
    TaskMarker(bool),
    CodeBlock {
        language: Option<String>,
        text: String,
    },
    /// `href` is `None` when the destination's scheme is not allowed.
    Link {
        href: Option<String>,
        destination: String,
        children: Vec<MdNode>,
    },
    /// Never loaded: shown as its alt text and a link to its address.
    Image {
        alt: String,
        destination: String,
    },
    Element {
        kind: MdElement,
        children: Vec<MdNode>,
    },
}

/// The Markdown elements that only wrap other nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MdElement {
    Paragraph,
    /// 1..=6, as written.
    Heading(u8),
    BlockQuote,
    /// A raw HTML block: shown as preformatted text.
    HtmlBlock,
    /// `Some(start)` for an ordered list.
    List(Option<u64>),
    Item,
    Table,
    TableHead,
    TableRow,
    TableCell,
    Emphasis,
    Strong,
    Strikethrough,
    Superscript,
    Subscript,
    /// Anything else the parser might report (footnotes, definition lists): just a group.
    Group,
}

/// Only these destinations become clickable links.
pub fn safe_href(destination: &str) -> Option<String> {
    let trimmed = destination.trim();
    let lower = trimmed.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("mailto:"))
        .then(|| trimmed.to_owned())
}

/// An open element while the tree is built.
enum Frame {
    Element(MdElement),
    Link { destination: String },
    Image { destination: String },
    CodeBlock { language: Option<String> },
}

/// Elements nested deeper than this are flattened into their ancestor at this depth: their
/// text stays, their markup goes. Rendering and `plain_text` recurse over the tree, so a
/// reply of a thousand nested quotes must not make a thousand-deep tree.
pub const MAX_NESTING: usize = 32;

/// Parses Markdown (CommonMark with tables, strikethrough and task lists) into a tree at most
/// [`MAX_NESTING`] elements deep.
pub fn parse_markdown(text: &str) -> Vec<MdNode> {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    // The root is a group; each open element carries the children gathered so far.
    let mut stack: Vec<(Frame, Vec<MdNode>)> = vec![(Frame::Element(MdElement::Group), Vec::new())];
    // Elements opened past the depth limit: their events are skipped, their contents kept.
    let mut flattened = 0usize;
    for event in Parser::new_ext(text, options) {
        match event {
            Event::Start(_) if stack.len() > MAX_NESTING => flattened += 1,
            Event::Start(tag) => stack.push((frame_for(tag), Vec::new())),
            Event::End(_) if flattened > 0 => flattened -= 1,
            Event::End(_) => {
                // Start and end events are balanced; the root is never popped.
                if stack.len() > 1 {
                    if let Some((frame, children)) = stack.pop() {
                        let node = close(frame, children);
                        push(&mut stack, node);
                    }
                }
            }
            Event::Text(text) => push(&mut stack, MdNode::Text(text.into_string())),
            Event::Code(code) => push(&mut stack, MdNode::Code(code.into_string())),
            Event::InlineMath(math) | Event::DisplayMath(math) => {
                push(&mut stack, MdNode::Code(math.into_string()))
            }
            Event::Html(html) | Event::InlineHtml(html) => {
                push(&mut stack, MdNode::Html(html.into_string()))
            }
            Event::FootnoteReference(label) => {
                push(&mut stack, MdNode::Text(format!("[^{label}]")))
            }
            Event::SoftBreak => push(&mut stack, MdNode::SoftBreak),
            Event::HardBreak => push(&mut stack, MdNode::HardBreak),
            Event::Rule => push(&mut stack, MdNode::Rule),
            Event::TaskListMarker(checked) => push(&mut stack, MdNode::TaskMarker(checked)),
        }
    }
    // Close anything left open (the parser balances its events, so only the root remains).
    while stack.len() > 1 {
        if let Some((frame, children)) = stack.pop() {
            let node = close(frame, children);
            push(&mut stack, node);
        }
    }
    stack
        .pop()
        .map(|(_, children)| children)
        .unwrap_or_default()
}

fn push(stack: &mut [(Frame, Vec<MdNode>)], node: MdNode) {
    if let Some((_, children)) = stack.last_mut() {
        children.push(node);
    }
}

fn frame_for(tag: Tag<'_>) -> Frame {
    let element = match tag {
        Tag::Link { dest_url, .. } => {
            return Frame::Link {
                destination: dest_url.into_string(),
            }
        }
        Tag::Image { dest_url, .. } => {
            return Frame::Image {
                destination: dest_url.into_string(),
            }
        }
        Tag::CodeBlock(kind) => {
            let language = match kind {
                CodeBlockKind::Fenced(info) => info
                    .split_whitespace()
                    .next()
                    .map(str::to_owned)
                    .filter(|l| !l.is_empty()),
                CodeBlockKind::Indented => None,
            };
            return Frame::CodeBlock { language };
        }
        Tag::Paragraph => MdElement::Paragraph,
        Tag::Heading { level, .. } => MdElement::Heading(level as u8),
        Tag::BlockQuote(_) => MdElement::BlockQuote,
        Tag::HtmlBlock => MdElement::HtmlBlock,
        Tag::List(start) => MdElement::List(start),
        Tag::Item => MdElement::Item,
        Tag::Table(_) => MdElement::Table,
        Tag::TableHead => MdElement::TableHead,
        Tag::TableRow => MdElement::TableRow,
        Tag::TableCell => MdElement::TableCell,
        Tag::Emphasis => MdElement::Emphasis,
        Tag::Strong => MdElement::Strong,
        Tag::Strikethrough => MdElement::Strikethrough,
        Tag::Superscript => MdElement::Superscript,
        Tag::Subscript => MdElement::Subscript,
        _ => MdElement::Group,
    };
    Frame::Element(element)
}

fn close(frame: Frame, children: Vec<MdNode>) -> MdNode {
    match frame {
        Frame::Element(kind) => MdNode::Element { kind, children },
        Frame::Link { destination } => MdNode::Link {
            href: safe_href(&destination),
            destination,
            children,
        },
        Frame::Image { destination } => MdNode::Image {
            alt: plain_text(&children),
            destination,
        },
        Frame::CodeBlock { language } => MdNode::CodeBlock {
            language,
            text: plain_text(&children),
        },
    }
}

/// The text of nodes without their markup.
pub fn plain_text(nodes: &[MdNode]) -> String {
    let mut out = String::new();
    for node in nodes {
        match node {
            MdNode::Text(t) | MdNode::Code(t) | MdNode::Html(t) => out.push_str(t),
            MdNode::SoftBreak | MdNode::HardBreak => out.push(' '),
            MdNode::CodeBlock { text, .. } => out.push_str(text),
            MdNode::Image { alt, .. } => out.push_str(alt),
            MdNode::Link { children, .. } | MdNode::Element { children, .. } => {
                out.push_str(&plain_text(children))
            }
            MdNode::Rule | MdNode::TaskMarker(_) => {}
        }
    }
    out
}

const LINK_REL: &str = "noopener noreferrer nofollow";

fn render_all(nodes: Vec<MdNode>) -> Vec<AnyView> {
    nodes.into_iter().map(render_node).collect()
}

fn render_node(node: MdNode) -> AnyView {
    match node {
        MdNode::Text(text) => text.into_any(),
        MdNode::Code(code) => view! { <code>{code}</code> }.into_any(),
        MdNode::Html(html) => view! { <code class="md-html">{html}</code> }.into_any(),
        MdNode::SoftBreak => "\n".into_any(),
        MdNode::HardBreak => view! { <br/> }.into_any(),
        MdNode::Rule => view! { <hr/> }.into_any(),
        MdNode::TaskMarker(checked) => {
            let (mark, label) = if checked {
                ("☑ ", "done: ")
            } else {
                ("☐ ", "to do: ")
            };
            view! {
                <span class="md-task" aria-hidden="true">{mark}</span>
                <span class="visually-hidden">{label}</span>
            }
            .into_any()
        }
        MdNode::CodeBlock { language, text } => {
            let class = language.map(|l| format!("language-{l}"));
            view! { <pre class="md-code"><code class=class>{text}</code></pre> }.into_any()
        }
        MdNode::Link {
            href: Some(href),
            children,
            ..
        } => view! {
            <a href=href rel=LINK_REL target="_blank">{render_all(children)}</a>
        }
        .into_any(),
        MdNode::Link {
            href: None,
            destination,
            children,
        } => view! {
            <span class="md-blocked-link" title=format!("Link not followed: {destination}")>
                {render_all(children)}
            </span>
        }
        .into_any(),
        MdNode::Image { alt, destination } => {
            let alt = if alt.trim().is_empty() {
                "image".to_owned()
            } else {
                alt
            };
            let target = match safe_href(&destination) {
                Some(href) => view! {
                    <a href=href rel=LINK_REL target="_blank">{destination.clone()}</a>
                }
                .into_any(),
                None => view! { <code>{destination.clone()}</code> }.into_any(),
            };
            view! {
                <span class="md-image">"[image: " {alt} "] " {target}</span>
            }
            .into_any()
        }
        // Header cells are `th`; pulldown-cmark puts them straight under the head.
        MdNode::Element {
            kind: MdElement::TableHead,
            children,
        } => {
            let cells = children
                .into_iter()
                .map(|cell| match cell {
                    MdNode::Element {
                        kind: MdElement::TableCell,
                        children,
                    } => view! { <th scope="col">{render_all(children)}</th> }.into_any(),
                    other => render_node(other),
                })
                .collect::<Vec<_>>();
            view! { <thead><tr>{cells}</tr></thead> }.into_any()
        }
        MdNode::Element { kind, children } => render_element(kind, render_all(children)),
    }
}

fn render_element(kind: MdElement, children: Vec<AnyView>) -> AnyView {
    match kind {
        MdElement::Paragraph => view! { <p>{children}</p> }.into_any(),
        // A message sits under the page's h1 and the transcript's h2: its headings start at h3.
        MdElement::Heading(level) => match level {
            1 => view! { <h3 class="md-h1">{children}</h3> }.into_any(),
            2 => view! { <h4 class="md-h2">{children}</h4> }.into_any(),
            3 => view! { <h5 class="md-h3">{children}</h5> }.into_any(),
            _ => view! { <h6 class="md-h4">{children}</h6> }.into_any(),
        },
        MdElement::BlockQuote => view! { <blockquote>{children}</blockquote> }.into_any(),
        MdElement::HtmlBlock => view! { <pre class="md-html">{children}</pre> }.into_any(),
        MdElement::List(None) => view! { <ul>{children}</ul> }.into_any(),
        MdElement::List(Some(start)) => {
            view! { <ol start=start.to_string()>{children}</ol> }.into_any()
        }
        MdElement::Item => view! { <li>{children}</li> }.into_any(),
        MdElement::Table => view! {
            <div class="table-scroll"><table class="md-table">{children}</table></div>
        }
        .into_any(),
        MdElement::TableHead => view! { <thead><tr>{children}</tr></thead> }.into_any(),
        MdElement::TableRow => view! { <tr>{children}</tr> }.into_any(),
        MdElement::TableCell => view! { <td>{children}</td> }.into_any(),
        MdElement::Emphasis => view! { <em>{children}</em> }.into_any(),
        MdElement::Strong => view! { <strong>{children}</strong> }.into_any(),
        MdElement::Strikethrough => view! { <del>{children}</del> }.into_any(),
        MdElement::Superscript => view! { <sup>{children}</sup> }.into_any(),
        MdElement::Subscript => view! { <sub>{children}</sub> }.into_any(),
        MdElement::Group => children.into_any(),
    }
}

/// Markdown rendered as views (see the module docs for what is never rendered as markup).
#[component]
pub fn Markdown(
    /// The Markdown source.
    #[prop(into)]
    text: String,
) -> impl IntoView {
    let nodes = parse_markdown(&text);
    view! { <div class="markdown">{render_all(nodes)}</div> }
}
