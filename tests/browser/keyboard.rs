//! Keyboard review and the command palette: which key means what, where `j`/`k` land,
//! and how the palette ranks what the user typed.

use converra_dashboard::components::command_palette::{
    match_rank, page_entries, palette_results, EntryKind, PaletteEntry, MAX_RESULTS,
};
use converra_dashboard::components::keyboard::{
    next_row, resume_row, shortcut_for, KeyPress, Shortcut,
};
use wasm_bindgen_test::*;

fn press(key: &str) -> KeyPress<'_> {
    KeyPress {
        key,
        command: false,
        alt: false,
        in_field: false,
    }
}

#[wasm_bindgen_test]
fn letters_mean_shortcuts_only_outside_fields() {
    assert_eq!(shortcut_for(press("j")), Some(Shortcut::NextRow));
    assert_eq!(shortcut_for(press("k")), Some(Shortcut::PreviousRow));
    assert_eq!(shortcut_for(press("/")), Some(Shortcut::FocusSearch));
    assert_eq!(shortcut_for(press("?")), Some(Shortcut::CheatSheet));
    assert_eq!(shortcut_for(press("x")), None);
    let typing = KeyPress {
        in_field: true,
        ..press("j")
    };
    assert_eq!(shortcut_for(typing), None);
    let with_alt = KeyPress {
        alt: true,
        ..press("k")
    };
    assert_eq!(shortcut_for(with_alt), None);
}

#[wasm_bindgen_test]
fn ctrl_k_opens_the_palette_even_from_a_field() {
    let ctrl_k = KeyPress {
        command: true,
        in_field: true,
        ..press("k")
    };
    assert_eq!(shortcut_for(ctrl_k), Some(Shortcut::CommandPalette));
    let upper = KeyPress {
        command: true,
        ..press("K")
    };
    assert_eq!(shortcut_for(upper), Some(Shortcut::CommandPalette));
    let ctrl_j = KeyPress {
        command: true,
        ..press("j")
    };
    assert_eq!(shortcut_for(ctrl_j), None);
}

#[wasm_bindgen_test]
fn rows_start_at_the_first_and_stop_at_the_ends() {
    assert_eq!(next_row(None, 3, true), Some(0));
    assert_eq!(next_row(None, 3, false), Some(0));
    assert_eq!(next_row(Some(0), 3, true), Some(1));
    assert_eq!(next_row(Some(2), 3, true), Some(2));
    assert_eq!(next_row(Some(0), 3, false), Some(0));
    assert_eq!(next_row(Some(2), 3, false), Some(1));
    assert_eq!(next_row(None, 0, true), None);
    // Back on a list: no row focused, the one last selected there is selected again.
    assert_eq!(resume_row(None, Some(2), 3, true), Some(2));
    assert_eq!(resume_row(None, Some(2), 3, false), Some(2));
    assert_eq!(
        resume_row(Some(2), Some(0), 3, false),
        Some(1),
        "focus goes on from itself"
    );
    assert_eq!(
        resume_row(None, Some(5), 3, true),
        Some(0),
        "a row no longer listed"
    );
    assert_eq!(resume_row(None, None, 3, true), Some(0));
}

#[wasm_bindgen_test]
fn ranks_prefix_then_word_then_substring_then_letters() {
    assert_eq!(match_rank("", "Anything"), Some(0));
    assert_eq!(match_rank("conv", "Conversations"), Some(0));
    assert_eq!(match_rank("bot", "Support bot"), Some(1));
    assert_eq!(match_rank("port", "Support bot"), Some(2));
    assert_eq!(match_rank("sbt", "Support bot"), Some(3));
    assert_eq!(match_rank("zz", "Support bot"), None);
    assert_eq!(match_rank("  USAGE ", "Usage"), Some(0));
}

#[wasm_bindgen_test]
fn results_put_better_matches_first_then_found_conversations() {
    let mut local = page_entries();
    local.push(PaletteEntry {
        kind: EntryKind::Agent,
        label: "Settlement assistant".to_owned(),
        href: "/agents/a1".to_owned(),
    });
    let found = vec![PaletteEntry {
        kind: EntryKind::Conversation,
        label: "Refund for order 12 · Support bot".to_owned(),
        href: "/conversations/c1".to_owned(),
    }];
    let results = palette_results("sett", &local, &found);
    let hrefs: Vec<&str> = results.iter().map(|e| e.href.as_str()).collect();
    assert_eq!(hrefs, ["/settings", "/agents/a1", "/conversations/c1"]);

    let everything = palette_results("", &local, &found);
    assert_eq!(everything.first().map(|e| e.href.as_str()), Some("/agents"));
    assert!(everything.len() <= MAX_RESULTS);
}
