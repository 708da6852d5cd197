//! Saved views: named filter sets of a list page, kept in this browser's localStorage, and
//! the page's permalink (its URL, which already holds every filter) to copy and share.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};

use crate::components::copy_button::write_to_clipboard;

/// A named view: the list page's query string (`?a=b`, without paging).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedView {
    pub name: String,
    pub query: String,
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The views saved under `storage_key`; none when nothing (or something unreadable) is there.
pub fn load_views(storage_key: &str) -> Vec<SavedView> {
    storage()
        .and_then(|s| s.get_item(storage_key).ok().flatten())
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default()
}

/// Saves the views under `storage_key`.
pub fn store_views(storage_key: &str, views: &[SavedView]) -> Result<(), String> {
    let json = serde_json::to_string(views).map_err(|e| e.to_string())?;
    storage()
        .ok_or("this browser keeps no local storage")?
        .set_item(storage_key, &json)
        .map_err(|_| "the browser's storage is full or disabled".to_owned())
}

/// `views` with `name` set to `query` (replacing a view of the same name), sorted by name.
pub fn with_view(mut views: Vec<SavedView>, name: &str, query: &str) -> Vec<SavedView> {
    let name = name.trim();
    views.retain(|v| v.name != name);
    views.push(SavedView {
        name: name.to_owned(),
        query: query.to_owned(),
    });
    views.sort_by_key(|v| v.name.to_lowercase());
    views
}

/// `views` without the one called `name`.
pub fn without_view(mut views: Vec<SavedView>, name: &str) -> Vec<SavedView> {
    views.retain(|v| v.name != name);
    views
}

/// An id fragment from a storage key (`converra.savedViews.x` → `converra-savedViews-x`).
fn id_fragment(storage_key: &str) -> String {
    storage_key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// The saved views of one list page: pick one to open it, name and save the current one,
/// delete the one that is open, and copy the page's link.
#[component]
pub fn SavedViews(
    /// Where the views are kept, e.g. `converra.savedViews.conversations`.
    #[prop(into)]
    storage_key: String,
    /// The current view's query string (`?a=b`, or empty for the default), without paging.
    #[prop(into)]
    current: Signal<String>,
    /// Opens a view; receives its query string.
    on_apply: Callback<String>,
) -> impl IntoView {
    let key = StoredValue::new(storage_key.clone());
    let ids = id_fragment(&storage_key);
    let select_id = format!("{ids}-select");
    let name_id = format!("{ids}-name");
    let views = RwSignal::new(load_views(&storage_key));
    let name = RwSignal::new(String::new());
    let status = RwSignal::new(None::<String>);
    let link_fallback = RwSignal::new(None::<String>);

    let open_view = Memo::new(move |_| {
        let current = current.get();
        views.with(|vs| {
            vs.iter()
                .find(|v| v.query == current)
                .map(|v| v.name.clone())
        })
    });

    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let chosen = name.get_untracked().trim().to_owned();
        if chosen.is_empty() {
            status.set(Some("Name the view first.".to_owned()));
            return;
        }
        let next = with_view(views.get_untracked(), &chosen, &current.get_untracked());
        match store_views(&key.get_value(), &next) {
            Ok(()) => {
                views.set(next);
                name.set(String::new());
                status.set(Some(format!("Saved the view “{chosen}”.")));
            }
            Err(err) => status.set(Some(format!("The view was not saved: {err}."))),
        }
    };
    let delete = move |_| {
        let Some(open) = open_view.get_untracked() else {
            return;
        };
        let next = without_view(views.get_untracked(), &open);
        match store_views(&key.get_value(), &next) {
            Ok(()) => {
                views.set(next);
                status.set(Some(format!("Deleted the view “{open}”.")));
            }
            Err(err) => status.set(Some(format!("The view was not deleted: {err}."))),
        }
    };
    let apply = move |ev: leptos::ev::Event| {
        let chosen = event_target_value(&ev);
        let query = views.with_untracked(|vs| {
            vs.iter()
                .find(|v| v.name == chosen)
                .map(|v| v.query.clone())
        });
        if let Some(query) = query {
            status.set(None);
            on_apply.run(query);
        }
    };
    let copy_link = move |_| {
        let href = window().location().href().unwrap_or_default();
        spawn_local(async move {
            if write_to_clipboard(&href).await {
                link_fallback.set(None);
                status.set(Some("Link copied.".to_owned()));
            } else {
                status.set(Some("Copy the link below.".to_owned()));
                link_fallback.set(Some(href));
            }
        });
    };

    view! {
        <div class="saved-views">
            <div class="field">
                <label for=select_id.clone()>"Saved view"</label>
                <select id=select_id on:change=apply>
                    <option value="" selected=move || open_view.get().is_none()>
                        {move || if views.with(Vec::is_empty) { "No saved views yet" } else { "Choose a view…" }}
                    </option>
                    <For each=move || views.get() key=|v| (v.name.clone(), v.query.clone()) let(saved)>
                        {
                            let value = saved.name.clone();
                            let this = saved.name.clone();
                            view! {
                                <option value=value selected=move || open_view.get().as_deref() == Some(this.as_str())>
                                    {saved.name}
                                </option>
                            }
                        }
                    </For>
                </select>
            </div>
            <form class="save-view" on:submit=save>
                <div class="field">
                    <label for=name_id.clone()>"Name this view"</label>
                    <input id=name_id type="text" maxlength="80" autocomplete="off"
                        prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev))/>
                </div>
                <button type="submit" class="secondary">"Save view"</button>
            </form>
            <div class="view-actions">
                <Show when=move || open_view.get().is_some()>
                    <button type="button" class="secondary" on:click=delete>"Delete view"</button>
                </Show>
                <button type="button" class="secondary" on:click=copy_link>"Copy link"</button>
            </div>
            <p class="saved-views-status" role="status" aria-live="polite">{move || status.get()}</p>
            {move || link_fallback.get().map(|href| view! {
                <input class="link-fallback" type="text" readonly aria-label="Link to this view" prop:value=href/>
            })}
        </div>
    }
}
