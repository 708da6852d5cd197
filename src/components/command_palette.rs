//! The command palette (Ctrl+K): type to jump to any page, agent or conversation. Pages
//! and agents are matched here as the user types; conversations are found by the API's
//! full-text search, a moment after the typing stops.

use converra_api::agents::AgentFilter;
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;

use crate::api::agents::list_all_agents;
use crate::api::conversations::list_conversations;
use crate::components::confirm::Dialog;
use crate::query::ConversationQuery;
use crate::signed_in::use_signed_in;

/// Where an entry leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Page,
    Agent,
    Conversation,
}

impl EntryKind {
    fn label(self) -> &'static str {
        match self {
            EntryKind::Page => "Page",
            EntryKind::Agent => "Agent",
            EntryKind::Conversation => "Conversation",
        }
    }
}

/// One place the palette can go to.
#[derive(Debug, Clone, PartialEq)]
pub struct PaletteEntry {
    pub kind: EntryKind,
    pub label: String,
    pub href: String,
}

impl PaletteEntry {
    fn new(kind: EntryKind, label: impl Into<String>, href: impl Into<String>) -> Self {
        Self {
            kind,
            label: label.into(),
            href: href.into(),
        }
    }
}

/// The dashboard's pages, in the order the palette offers them before anything is typed.
pub fn page_entries() -> Vec<PaletteEntry> {
    [
        ("Agents", "/agents"),
        ("Conversations", "/conversations"),
        ("Optimizations", "/optimizations"),
        ("Start an optimization", "/optimizations/new"),
        ("Fleet", "/fleet"),
        ("Benchmarks", "/benchmarks"),
        ("Usage", "/usage"),
        ("Settings", "/settings"),
    ]
    .into_iter()
    .map(|(label, href)| PaletteEntry::new(EntryKind::Page, label, href))
    .collect()
}

/// How well `label` matches what was typed (lower is better): the start of the label,
/// the start of a word, anywhere, or the letters in order. `None`: no match.
pub fn match_rank(query: &str, label: &str) -> Option<u8> {
    let query = query.trim().to_lowercase();
    let label = label.to_lowercase();
    if query.is_empty() || label.starts_with(&query) {
        return Some(0);
    }
    if label
        .split(|c: char| !c.is_alphanumeric())
        .any(|word| word.starts_with(&query))
    {
        return Some(1);
    }
    if label.contains(&query) {
        return Some(2);
    }
    let mut letters = label.chars();
    query
        .chars()
        .filter(|c| !c.is_whitespace())
        .all(|wanted| letters.any(|c| c == wanted))
        .then_some(3)
}

/// The most entries the palette lists.
pub const MAX_RESULTS: usize = 12;

/// The entries that match, best first (ties keep their order), then the conversations
/// the server found (already matched by it).
pub fn palette_results(
    query: &str,
    local: &[PaletteEntry],
    conversations: &[PaletteEntry],
) -> Vec<PaletteEntry> {
    let mut ranked: Vec<(u8, &PaletteEntry)> = local
        .iter()
        .filter_map(|entry| match_rank(query, &entry.label).map(|rank| (rank, entry)))
        .collect();
    ranked.sort_by_key(|(rank, _)| *rank);
    ranked
        .into_iter()
        .map(|(_, entry)| entry)
        .chain(conversations)
        .take(MAX_RESULTS)
        .cloned()
        .collect()
}

/// Waits this long after the last key before asking the server for conversations.
const SEARCH_DELAY_MS: u32 = 250;
/// Conversations are searched once the query is this long.
const SEARCH_MIN_CHARS: usize = 2;

/// The palette, open while `open` is true.
#[component]
pub fn CommandPalette(open: RwSignal<bool>) -> impl IntoView {
    let signed_in = use_signed_in();
    let navigate = use_navigate();
    let query = RwSignal::new(String::new());
    let selected = RwSignal::new(0usize);
    let agents = RwSignal::new(Vec::<PaletteEntry>::new());
    let conversations = RwSignal::new(Vec::<PaletteEntry>::new());
    let status = RwSignal::new(None::<String>);
    // Answers to an older query are dropped when they arrive late.
    let search_generation = StoredValue::new(0u64);

    Effect::new(move |_| {
        if !open.get() {
            return;
        }
        query.set(String::new());
        selected.set(0);
        conversations.set(Vec::new());
        status.set(None);
        let Some(client) = signed_in.get_untracked().map(|s| s.client) else {
            return;
        };
        spawn_local(async move {
            match list_all_agents(&client, &AgentFilter::default()).await {
                Ok(list) => agents.set(
                    list.into_iter()
                        .map(|agent| {
                            let href = format!("/agents/{}", agent.id);
                            PaletteEntry::new(EntryKind::Agent, agent.name, href)
                        })
                        .collect(),
                ),
                Err(err) => status.set(Some(format!("Agents could not be listed: {err}"))),
            }
        });
    });

    let search_conversations = move |text: String| {
        let generation = search_generation.with_value(|g| g + 1);
        search_generation.set_value(generation);
        conversations.set(Vec::new());
        if text.trim().chars().count() < SEARCH_MIN_CHARS {
            status.set(None);
            return;
        }
        let Some(client) = signed_in.get_untracked().map(|s| s.client) else {
            return;
        };
        spawn_local(async move {
            TimeoutFuture::new(SEARCH_DELAY_MS).await;
            if search_generation.get_value() != generation {
                return;
            }
            status.set(Some("Searching conversations…".to_owned()));
            let filter = ConversationQuery {
                q: Some(text.trim().to_owned()),
                ..ConversationQuery::default()
            };
            let found = list_conversations(&client, &filter, 5).await;
            if search_generation.get_value() != generation {
                return;
            }
            match found {
                Ok(page) => {
                    status.set(None);
                    conversations.set(
                        page.data
                            .into_iter()
                            .map(|c| {
                                let label = format!(
                                    "{} · {}",
                                    c.title.unwrap_or_else(|| c.id.clone()),
                                    c.agent_name
                                );
                                let href = format!("/conversations/{}", c.id);
                                PaletteEntry::new(EntryKind::Conversation, label, href)
                            })
                            .collect(),
                    );
                }
                Err(err) => status.set(Some(format!("Conversations could not be searched: {err}"))),
            }
        });
    };

    let results = Memo::new(move |_| {
        let local: Vec<PaletteEntry> = page_entries().into_iter().chain(agents.get()).collect();
        query.with(|q| conversations.with(|found| palette_results(q, &local, found)))
    });

    let go = move |index: usize| {
        if let Some(entry) = results.with_untracked(|r| r.get(index).cloned()) {
            open.set(false);
            navigate(&entry.href, Default::default());
        }
    };
    let go_on_key = go.clone();
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let count = results.with_untracked(Vec::len);
        match ev.key().as_str() {
            "ArrowDown" if count > 0 => {
                ev.prevent_default();
                selected.update(|s| *s = (*s + 1) % count);
            }
            "ArrowUp" if count > 0 => {
                ev.prevent_default();
                selected.update(|s| *s = (*s + count - 1) % count);
            }
            "Enter" => {
                ev.prevent_default();
                go_on_key(selected.get_untracked());
            }
            _ => {}
        }
    };
    let on_input = move |ev| {
        let text = event_target_value(&ev);
        query.set(text.clone());
        selected.set(0);
        search_conversations(text);
    };

    view! {
        <Dialog open=open title="Go to" on_close=move |_| open.set(false) class="command-palette">
            <input type="text" class="palette-input" role="combobox" autofocus=true
                autocomplete="off" spellcheck="false"
                aria-label="A page, an agent or a conversation"
                aria-expanded="true" aria-controls="palette-results" aria-autocomplete="list"
                aria-activedescendant=move || format!("palette-option-{}", selected.get())
                placeholder="Type a page, an agent or words from a conversation"
                prop:value=move || query.get()
                on:input=on_input on:keydown=on_keydown/>
            <ul id="palette-results" class="palette-results" role="listbox" aria-label="Results">
                {move || results.get().into_iter().enumerate().map(|(index, entry)| {
                    let go = go.clone();
                    view! {
                        <li id=format!("palette-option-{index}") role="option"
                            class="palette-option"
                            aria-selected=move || (selected.get() == index).to_string()
                            on:mousemove=move |_| selected.set(index)
                            on:click=move |_| go(index)>
                            <span class="palette-kind">{entry.kind.label()}</span>
                            <span class="palette-label">{entry.label}</span>
                        </li>
                    }
                }).collect_view()}
            </ul>
            <p class="palette-status muted" role="status">
                {move || status.get().unwrap_or_else(|| {
                    if results.with(Vec::is_empty) { "Nothing matches.".to_owned() } else { String::new() }
                })}
            </p>
        </Dialog>
    }
}
