//! The colour theme: follow the system, or force light or dark. The choice lives in
//! localStorage (`converra.theme`) and shows as `data-theme` on `<html>`, which
//! `style/main.css` honours over `prefers-color-scheme`.

use leptos::prelude::*;

const STORAGE_KEY: &str = "converra.theme";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    System,
    Light,
    Dark,
}

impl Theme {
    /// The next one in the button's cycle: System → Light → Dark → System.
    pub fn next(self) -> Theme {
        match self {
            Theme::System => Theme::Light,
            Theme::Light => Theme::Dark,
            Theme::Dark => Theme::System,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Theme::System => "System",
            Theme::Light => "Light",
            Theme::Dark => "Dark",
        }
    }

    /// The `data-theme` value and the stored one; `None` for System.
    fn attribute(self) -> Option<&'static str> {
        match self {
            Theme::System => None,
            Theme::Light => Some("light"),
            Theme::Dark => Some("dark"),
        }
    }

    fn parse(stored: &str) -> Theme {
        match stored {
            "light" => Theme::Light,
            "dark" => Theme::Dark,
            _ => Theme::System,
        }
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The stored choice; System when none.
pub fn stored_theme() -> Theme {
    storage()
        .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
        .map(|value| Theme::parse(&value))
        .unwrap_or(Theme::System)
}

/// Sets `data-theme` on `<html>` (or removes it for System).
pub fn apply_theme(theme: Theme) {
    let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    else {
        return;
    };
    // Setting an attribute on <html> cannot fail for a valid name like this one.
    let _ = match theme.attribute() {
        Some(value) => root.set_attribute("data-theme", value),
        None => root.remove_attribute("data-theme"),
    };
}

/// Applies the stored theme; call it before mounting so the first paint has the right colours.
pub fn apply_stored_theme() {
    apply_theme(stored_theme());
}

fn store_theme(theme: Theme) {
    if let Some(storage) = storage() {
        // Without storage the choice lasts until the page is reloaded.
        let _ = match theme.attribute() {
            Some(value) => storage.set_item(STORAGE_KEY, value),
            None => storage.remove_item(STORAGE_KEY),
        };
    }
}

/// A header button that cycles System → Light → Dark.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let theme = RwSignal::new(stored_theme());
    apply_theme(theme.get_untracked());
    let cycle = move |_| {
        let next = theme.get_untracked().next();
        store_theme(next);
        apply_theme(next);
        theme.set(next);
    };
    view! {
        <button type="button" class="secondary theme-toggle" on:click=cycle
            data-testid="theme-toggle"
            title=move || format!("Colour theme: {}. Click for {}.", theme.get().label(), theme.get().next().label())>
            {move || format!("Theme: {}", theme.get().label())}
        </button>
    }
}
