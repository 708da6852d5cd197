//! A timestamp from the API (RFC 3339, UTC) as people read it: `2024-05-01 14:03 UTC` or
//! "3 h ago", with the exact value in a `<time datetime>` for machines.

use leptos::prelude::*;

use crate::format;

/// `2024-05-01T14:03:22.123Z` → `2024-05-01 14:03 UTC`; anything unexpected passes as is.
pub fn readable_timestamp(rfc3339: &str) -> String {
    let bytes = rfc3339.as_bytes();
    let shaped = bytes.len() >= 16
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && matches!(bytes[10], b'T' | b't' | b' ')
        && bytes[13] == b':';
    let utc = rfc3339.ends_with('Z') || rfc3339.ends_with("+00:00");
    match (shaped, rfc3339.get(..10), rfc3339.get(11..16)) {
        (true, Some(day), Some(time)) if utc => format!("{day} {time} UTC"),
        (true, Some(day), Some(time)) => format!("{day} {time}"),
        _ => rfc3339.to_owned(),
    }
}

#[component]
pub fn Timestamp(
    /// The API's RFC 3339 timestamp.
    #[prop(into)]
    value: String,
    /// Leaves out the ` UTC` suffix (for a column whose header already says UTC).
    #[prop(optional)]
    no_zone: bool,
) -> impl IntoView {
    let mut text = readable_timestamp(&value);
    if no_zone {
        if let Some(stripped) = text.strip_suffix(" UTC") {
            text = stripped.to_owned();
        }
    }
    view! { <time datetime=value.clone() title=value>{text}</time> }
}

/// The current time, for "3 h ago".
pub fn now_ms() -> f64 {
    web_sys::js_sys::Date::now()
}

/// A time as "3 h ago" (or a date, past a month), with the exact UTC time on hover and
/// for machines.
#[component]
pub fn RelativeTime(#[prop(into)] at: String) -> impl IntoView {
    let text = format::relative_time(&at, now_ms());
    let exact = format::date_time(&at);
    view! { <time datetime=at title=exact>{text}</time> }
}
