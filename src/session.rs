//! Where the dashboard keeps the API key and the API base URL: the browser's localStorage.
//! Nothing else is stored, and the key never goes into a URL.

const KEY_API_KEY: &str = "converra.apiKey";
const KEY_BASE_URL: &str = "converra.baseUrl";

/// The connection the user signed in with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub base_url: String,
    pub api_key: String,
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// This page's origin (`https://host:port`).
pub fn page_origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// The API under this page's own origin: what a dashboard served by the server talks to.
pub fn default_base_url() -> String {
    format!("{}/api/v1", page_origin())
}

/// The stored base URL, or the default one.
pub fn stored_base_url() -> String {
    storage()
        .and_then(|s| s.get_item(KEY_BASE_URL).ok().flatten())
        .filter(|url| !url.is_empty())
        .unwrap_or_else(default_base_url)
}

/// The stored credentials, if a key was saved.
pub fn load() -> Option<Credentials> {
    let api_key = storage()?.get_item(KEY_API_KEY).ok().flatten()?;
    (!api_key.is_empty()).then(|| Credentials {
        base_url: stored_base_url(),
        api_key,
    })
}

pub fn save(credentials: &Credentials) {
    if let Some(storage) = storage() {
        // A full or disabled storage only means the user signs in again next time.
        let _ = storage.set_item(KEY_API_KEY, &credentials.api_key);
        let _ = storage.set_item(KEY_BASE_URL, &credentials.base_url);
    }
}

/// Forgets the key (signing out); the base URL stays, as a convenience for signing back in.
pub fn forget_key() {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(KEY_API_KEY);
    }
}
