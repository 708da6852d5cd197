//! The browser tab's title. Each page names itself, so tabs, history and bookmarks say
//! where they lead rather than all reading "Converra".

use leptos::prelude::*;

/// `"Agents · Converra"`; a blank name gives the product's name alone.
pub fn full_title(name: &str) -> String {
    match name.trim() {
        "" => "Converra".to_owned(),
        name => format!("{name} · Converra"),
    }
}

/// Titles the tab from `name` while the calling page is shown, following it as data loads
/// (an agent's name once it arrives); the next page titles it anew.
pub fn use_page_title(name: impl Fn() -> String + 'static) {
    Effect::new(move |_| document().set_title(&full_title(&name())));
}
