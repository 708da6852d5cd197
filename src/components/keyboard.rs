//! Keyboard review across the dashboard: `j`/`k` through the rows of the page's list (the
//! row's link takes focus, so `Enter` opens it the browser's own way), `/` to the page's
//! search box, `?` for the cheat sheet, Ctrl+K (⌘K) for the command palette.
//!
//! The shortcuts are single letters, so they stay quiet while the user types in a field.

use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::components::confirm::Dialog;

/// What a key press asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shortcut {
    NextRow,
    PreviousRow,
    FocusSearch,
    CheatSheet,
    CommandPalette,
}

/// A key press as the shortcuts see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPress<'a> {
    pub key: &'a str,
    /// Ctrl, or ⌘ on a Mac.
    pub command: bool,
    pub alt: bool,
    /// Focus is in a text field, a select or an editable element.
    pub in_field: bool,
}

/// The shortcut a key press means, if any.
pub fn shortcut_for(press: KeyPress<'_>) -> Option<Shortcut> {
    if press.command && !press.alt && press.key.eq_ignore_ascii_case("k") {
        return Some(Shortcut::CommandPalette);
    }
    if press.command || press.alt || press.in_field {
        return None;
    }
    match press.key {
        "j" => Some(Shortcut::NextRow),
        "k" => Some(Shortcut::PreviousRow),
        "/" => Some(Shortcut::FocusSearch),
        "?" => Some(Shortcut::CheatSheet),
        _ => None,
    }
}

/// The row to go to from `current` (none yet: before the first) among `count` rows,
/// stopping at either end.
pub fn next_row(current: Option<usize>, count: usize, forward: bool) -> Option<usize> {
    let last = count.checked_sub(1)?;
    Some(match (current, forward) {
        (None, _) => 0,
        (Some(row), true) => (row + 1).min(last),
        (Some(row), false) => row.saturating_sub(1).min(last),
    })
}

/// The row `j`/`k` select: the next or previous from the focused row; with no row focused,
/// the one last selected on this list (`remembered`: Back to the list resumes there), else
/// the first.
pub fn resume_row(
    current: Option<usize>,
    remembered: Option<usize>,
    count: usize,
    forward: bool,
) -> Option<usize> {
    match (current, remembered) {
        (None, Some(row)) if row < count => Some(row),
        _ => next_row(current, count, forward),
    }
}

/// The shortcuts, listed in the cheat sheet.
pub const CHEAT_SHEET: &[(&str, &str)] = &[
    ("j", "Next row of the list"),
    ("k", "Previous row of the list"),
    ("Enter", "Open the selected row"),
    ("/", "Search this page"),
    (
        "Ctrl K",
        "Command palette: go to any page, agent or conversation",
    ),
    ("?", "This cheat sheet"),
    ("Esc", "Close a dialog"),
];

/// Listens for the shortcuts while the shell is mounted; opens the palette and the cheat
/// sheet through the signals it is given.
pub fn install_shortcuts(palette_open: RwSignal<bool>, cheat_sheet_open: RwSignal<bool>) {
    let handle = window_event_listener(ev::keydown, move |event| {
        if event.default_prevented() {
            return;
        }
        let key = event.key();
        let press = KeyPress {
            key: &key,
            command: event.ctrl_key() || event.meta_key(),
            alt: event.alt_key(),
            in_field: focus_is_in_field(),
        };
        let Some(shortcut) = shortcut_for(press) else {
            return;
        };
        // Not while a dialog is open: it owns the keyboard until it closes.
        if shortcut != Shortcut::CommandPalette && modal_is_open() {
            return;
        }
        event.prevent_default();
        match shortcut {
            Shortcut::NextRow => move_through_rows(true),
            Shortcut::PreviousRow => move_through_rows(false),
            Shortcut::FocusSearch => focus_search(),
            Shortcut::CheatSheet => cheat_sheet_open.set(true),
            Shortcut::CommandPalette => {
                cheat_sheet_open.set(false);
                palette_open.update(|open| *open = !*open);
            }
        }
    });
    on_cleanup(move || handle.remove());
}

fn focus_is_in_field() -> bool {
    let Some(active) = document().active_element() else {
        return false;
    };
    let tag = active.tag_name().to_ascii_lowercase();
    let text_input = tag == "input"
        && !matches!(
            active.get_attribute("type").as_deref(),
            Some("checkbox" | "radio" | "button" | "submit" | "reset")
        );
    text_input
        || tag == "textarea"
        || tag == "select"
        || active
            .dyn_ref::<web_sys::HtmlElement>()
            .is_some_and(|e| e.is_content_editable())
}

fn modal_is_open() -> bool {
    document()
        .query_selector("dialog[open]")
        .ok()
        .flatten()
        .is_some()
}

/// The rows `j`/`k` walk: the body rows of the tables in the page's main area.
const ROWS: &str = "main table tbody tr";

fn move_through_rows(forward: bool) {
    let Ok(rows) = document().query_selector_all(ROWS) else {
        return;
    };
    let rows: Vec<web_sys::Element> = (0..rows.length())
        .filter_map(|i| rows.item(i))
        .filter_map(|node| node.dyn_into::<web_sys::Element>().ok())
        .filter(|row| row_link(row).is_some())
        .collect();
    let active = document().active_element();
    let current = active
        .as_ref()
        .and_then(|active| rows.iter().position(|row| row.contains(Some(active))));
    let remembered = remembered_row().and_then(|href| {
        rows.iter().position(|row| {
            row_link(row)
                .and_then(|link| link.get_attribute("href"))
                .as_deref()
                == Some(&href)
        })
    });
    let Some(target) =
        resume_row(current, remembered, rows.len(), forward).and_then(|i| rows.get(i))
    else {
        return;
    };
    if let Some(link) = row_link(target) {
        let _ = link.focus();
        if let Some(href) = link.get_attribute("href") {
            remember_row(&href);
        }
    }
}

/// Where the selected row of this list (path and query) is kept for the tab's session.
fn selected_row_key() -> Option<String> {
    let location = web_sys::window()?.location();
    Some(format!(
        "converra.selected-row:{}{}",
        location.pathname().ok()?,
        location.search().ok()?
    ))
}

fn remembered_row() -> Option<String> {
    let storage = web_sys::window()?.session_storage().ok()??;
    storage.get_item(&selected_row_key()?).ok()?
}

fn remember_row(href: &str) {
    let storage = web_sys::window().and_then(|w| w.session_storage().ok().flatten());
    if let (Some(storage), Some(key)) = (storage, selected_row_key()) {
        // Storage full or refused: Back then starts from the top, as before.
        let _ = storage.set_item(&key, href);
    }
}

/// A row's own link: the one marked `.row-link`, else its first link.
fn row_link(row: &web_sys::Element) -> Option<web_sys::HtmlElement> {
    row.query_selector("a.row-link")
        .ok()
        .flatten()
        .or_else(|| row.query_selector("a[href]").ok().flatten())
        .and_then(|link| link.dyn_into::<web_sys::HtmlElement>().ok())
}

/// Focuses the page's search box: the search field of its `role="search"` form, else the
/// first search input.
fn focus_search() {
    let field = document()
        .query_selector("main [role=search] input[type=search], main input[type=search]")
        .ok()
        .flatten()
        .and_then(|field| field.dyn_into::<web_sys::HtmlInputElement>().ok());
    if let Some(field) = field {
        let _ = field.focus();
        field.select();
    }
}

/// The shortcuts as a dialog (`?`).
#[component]
pub fn CheatSheet(open: RwSignal<bool>) -> impl IntoView {
    view! {
        <Dialog open=open title="Keyboard shortcuts" on_close=move |_| open.set(false) class="cheat-sheet">
            <dl class="shortcut-list">
                {CHEAT_SHEET.iter().map(|(keys, what)| view! {
                    <div class="shortcut">
                        <dt><kbd>{*keys}</kbd></dt>
                        <dd>{*what}</dd>
                    </div>
                }).collect_view()}
            </dl>
            <div class="dialog-actions">
                <button type="button" autofocus=true on:click=move |_| open.set(false)>"Close"</button>
            </div>
        </Dialog>
    }
}
