//! A list page's filters live in the URL's query string, so back, forward, reload and a
//! shared link all restore the same view. This module maps that query string to typed
//! filter state and on to the API's query string; everything here is pure and tested.

use converra_api::conversations::{
    ConversationFilter as Filter, ConversationSort, ConversationSource, ConversationStatus,
};
use converra_api::FieldError;

/// Percent-encodes one query-string key or value: RFC 3986 unreserved characters stay,
/// every other byte of the UTF-8 becomes `%XX` (a space too, so `+` is never ambiguous).
pub fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Decodes one query-string key or value: `+` is a space, `%XX` a byte; a malformed escape
/// stays as it was written and invalid UTF-8 becomes U+FFFD rather than an error.
pub fn decode_component(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => match (
                bytes.get(i + 1).and_then(|b| hex_digit(*b)),
                bytes.get(i + 2).and_then(|b| hex_digit(*b)),
            ) {
                (Some(high), Some(low)) => {
                    out.push(high * 16 + low);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_digit(byte: u8) -> Option<u8> {
    char::from(byte)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Splits a query string (with or without its leading `?`) into decoded pairs, in order.
/// A key without `=` has the empty value; empty segments (`a=1&&b=2`) are skipped.
pub fn parse_query(search: &str) -> Vec<(String, String)> {
    search
        .strip_prefix('?')
        .unwrap_or(search)
        .split('&')
        .filter(|segment| !segment.is_empty())
        .map(|segment| match segment.split_once('=') {
            Some((key, value)) => (decode_component(key), decode_component(value)),
            None => (decode_component(segment), String::new()),
        })
        .collect()
}

/// `?a=b&c=d` from pairs, encoded; the empty string when there are none.
pub fn build_query<K: AsRef<str>, V: AsRef<str>>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> String {
    let joined = pairs
        .into_iter()
        .map(|(key, value)| {
            format!(
                "{}={}",
                encode_component(key.as_ref()),
                encode_component(value.as_ref())
            )
        })
        .collect::<Vec<_>>()
        .join("&");
    if joined.is_empty() {
        joined
    } else {
        format!("?{joined}")
    }
}

/// The last value given for `key` (a repeated key means the later one wins, as in a form).
pub fn query_value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// A view whose state lives in the query string: read from the URL's search part (tests,
/// links) or from the router's query map (pages), both through one `from_lookup`.
pub trait QueryState: Sized {
    /// The view the values under each key describe (`None`: the key is absent).
    fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self;

    /// The view a query string (`?a=b&c=d`) describes.
    fn from_search(search: &str) -> Self {
        let pairs = parse_query(search);
        Self::from_lookup(|key| query_value(&pairs, key).map(str::to_owned))
    }

    /// The view the router's query map describes.
    fn from_params(params: &leptos_router::params::ParamsMap) -> Self {
        Self::from_lookup(|key| params.get(key))
    }
}

/// A day as the URL keeps it (`2024-05-01`), checked against the calendar.
fn parse_day(text: &str) -> Option<(i64, u32, u32)> {
    let mut parts = text.splitn(3, '-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    if year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return None;
    }
    let (year, month, day) = (
        year.parse::<i64>().ok()?,
        month.parse::<u32>().ok()?,
        day.parse::<u32>().ok()?,
    );
    ((1..=12).contains(&month) && (1..=days_in_month(year, month)).contains(&day))
        .then_some((year, month, day))
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The day after `YYYY-MM-DD`, or `None` when it is not a calendar day.
pub fn next_day(text: &str) -> Option<String> {
    let (mut year, mut month, mut day) = parse_day(text)?;
    day += 1;
    if day > days_in_month(year, month) {
        day = 1;
        month += 1;
        if month > 12 {
            month = 1;
            year += 1;
        }
    }
    Some(format!("{year:04}-{month:02}-{day:02}"))
}

/// A date filter as the URL may hold it: a calendar day (what the date inputs produce) or
/// a whole RFC 3339 timestamp (what an API user may paste).
fn valid_date_filter(text: &str) -> Option<String> {
    let text = text.trim();
    if parse_day(text).is_some() {
        return Some(text.to_owned());
    }
    let (day, time) = text.split_once(['T', 't'])?;
    (parse_day(day).is_some() && time.len() >= 5 && time.as_bytes()[2] == b':')
        .then(|| text.to_owned())
}

/// The calendar-day part of a date filter, for an `<input type="date">`.
pub fn day_part(filter: &str) -> &str {
    filter.get(..10).unwrap_or(filter)
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

const QUALITY_RANGE: &str = "Quality runs from 0 to 100.";

/// A quality filter as typed: `Ok(None)` when empty, the number when it is one from 0 to
/// 100, otherwise what to say beside the field.
pub fn typed_quality(text: &str) -> Result<Option<f64>, &'static str> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match parse_quality(text) {
        Some(q) if (0.0..=100.0).contains(&q) => Ok(Some(q)),
        Some(_) => Err(QUALITY_RANGE),
        None => Err("Enter a number from 0 to 100."),
    }
}

fn parse_quality(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// The sort's name in the URL (short and readable; the default is left out).
pub fn sort_url_name(sort: ConversationSort) -> &'static str {
    match sort {
        ConversationSort::NewestFirst => "newest",
        ConversationSort::OldestFirst => "oldest",
        ConversationSort::BestFirst => "best",
        ConversationSort::WorstFirst => "worst",
    }
}

/// The sort as `GET /conversations` spells it.
pub fn sort_api_name(sort: ConversationSort) -> &'static str {
    match sort {
        ConversationSort::NewestFirst => "-createdAt",
        ConversationSort::OldestFirst => "createdAt",
        ConversationSort::BestFirst => "-qualityScore",
        ConversationSort::WorstFirst => "qualityScore",
    }
}

/// Reads a sort from either its URL name or its API name.
pub fn parse_sort(text: &str) -> Option<ConversationSort> {
    [
        ConversationSort::NewestFirst,
        ConversationSort::OldestFirst,
        ConversationSort::BestFirst,
        ConversationSort::WorstFirst,
    ]
    .into_iter()
    .find(|sort| sort_url_name(*sort) == text || sort_api_name(*sort) == text)
}

/// Whether pages of this sort are walked by cursor (time orders) or by offset (quality
/// orders, for which the server hands out no cursor).
pub fn sort_pages_by_cursor(sort: ConversationSort) -> bool {
    matches!(
        sort,
        ConversationSort::NewestFirst | ConversationSort::OldestFirst
    )
}

/// The conversations list's view: every filter, the sort and the page, as the URL holds it.
/// Keys are the API's (`agentId`, `minQuality`, …) so a URL reads like the API call it makes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConversationQuery {
    pub agent_id: Option<String>,
    pub status: Option<ConversationStatus>,
    /// How the conversations arrived: the SDK, the REST API or OpenTelemetry.
    pub source: Option<ConversationSource>,
    /// Created on or after: a day (`2024-05-01`, UTC) or an RFC 3339 timestamp.
    pub from: Option<String>,
    /// Created on or before this day (UTC), or before this RFC 3339 timestamp.
    pub to: Option<String>,
    pub min_quality: Option<f64>,
    pub max_quality: Option<f64>,
    pub has_issues: Option<bool>,
    pub has_failed_steps: Option<bool>,
    /// Full-text search, as typed.
    pub q: Option<String>,
    pub sort: ConversationSort,
    /// The page's keyset cursor (time orders).
    pub cursor: Option<String>,
    /// The page's offset (quality orders).
    pub offset: Option<u64>,
    /// One session's conversations.
    pub session_id: Option<String>,
    /// The cursors of the pages before this one, oldest first ("" for the first page): what
    /// "Previous page" goes back to in a time order, which pages by cursor forward only.
    pub earlier_cursors: Vec<String>,
}

/// The URL key of [`ConversationQuery::earlier_cursors`], comma-separated (cursors are hex).
const EARLIER_CURSORS: &str = "earlier";
/// The first page among the earlier cursors: it has none.
const FIRST_PAGE: &str = "-";

impl ConversationQuery {
    /// The view a query string describes; unknown keys and malformed values are ignored,
    /// so a hand-edited URL still opens a page rather than an error.
    pub fn from_search(search: &str) -> Self {
        Self::from_pairs(&parse_query(search))
    }

    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let text = |key: &str| {
            query_value(pairs, key)
                .filter(|v| !v.trim().is_empty())
                .map(str::to_owned)
        };
        ConversationQuery {
            agent_id: text(Filter::AGENT_ID).map(|v| v.trim().to_owned()),
            status: text(Filter::STATUS).and_then(|v| v.parse().ok()),
            source: text(Filter::SOURCE).and_then(|v| v.parse().ok()),
            from: text(Filter::FROM).and_then(|v| valid_date_filter(&v)),
            to: text(Filter::TO).and_then(|v| valid_date_filter(&v)),
            min_quality: text(Filter::MIN_QUALITY).and_then(|v| parse_quality(&v)),
            max_quality: text(Filter::MAX_QUALITY).and_then(|v| parse_quality(&v)),
            has_issues: text(Filter::HAS_ISSUES).and_then(|v| parse_bool(&v)),
            has_failed_steps: text(Filter::HAS_FAILED_STEPS).and_then(|v| parse_bool(&v)),
            q: text(Filter::Q),
            sort: text(Filter::SORT)
                .and_then(|v| parse_sort(&v))
                .unwrap_or_default(),
            cursor: text("cursor"),
            offset: text("offset")
                .and_then(|v| v.parse().ok())
                .filter(|v| *v > 0),
            session_id: text(Filter::SESSION_ID).map(|v| v.trim().to_owned()),
            earlier_cursors: text(EARLIER_CURSORS)
                .map(|v| {
                    v.split(',')
                        .map(|c| if c == FIRST_PAGE { "" } else { c }.to_owned())
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// The URL's pairs, in a fixed order, leaving out what is unset or the default.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = self.filter_pairs();
        if self.sort != ConversationSort::default() {
            pairs.push((Filter::SORT, sort_url_name(self.sort).to_owned()));
        }
        if let Some(cursor) = &self.cursor {
            pairs.push(("cursor", cursor.clone()));
        }
        if let Some(offset) = self.offset {
            pairs.push(("offset", offset.to_string()));
        }
        if !self.earlier_cursors.is_empty() {
            let cursors: Vec<&str> = self
                .earlier_cursors
                .iter()
                .map(|c| if c.is_empty() { FIRST_PAGE } else { c })
                .collect();
            pairs.push((EARLIER_CURSORS, cursors.join(",")));
        }
        pairs
    }

    fn filter_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        let mut push = |key: &'static str, value: Option<String>| {
            if let Some(value) = value {
                pairs.push((key, value));
            }
        };
        push(Filter::AGENT_ID, self.agent_id.clone());
        push(Filter::STATUS, self.status.map(|s| s.as_str().to_owned()));
        push(Filter::SOURCE, self.source.map(|s| s.as_str().to_owned()));
        push(Filter::FROM, self.from.clone());
        push(Filter::TO, self.to.clone());
        push(Filter::MIN_QUALITY, self.min_quality.map(|v| v.to_string()));
        push(Filter::MAX_QUALITY, self.max_quality.map(|v| v.to_string()));
        push(Filter::HAS_ISSUES, self.has_issues.map(|v| v.to_string()));
        push(
            Filter::HAS_FAILED_STEPS,
            self.has_failed_steps.map(|v| v.to_string()),
        );
        push(Filter::Q, self.q.clone());
        push(Filter::SESSION_ID, self.session_id.clone());
        pairs
    }

    /// `?agentId=…&status=…`: the page's own URL query (empty for the default view).
    pub fn to_url_query(&self) -> String {
        build_query(self.to_pairs())
    }

    /// Why no conversation can match this view, named by filter (`minQuality`, `maxQuality`,
    /// `to`): a quality outside 0–100, a minimum above the maximum, a start after the end.
    /// Empty when the view is possible.
    pub fn impossible(&self) -> Vec<FieldError> {
        let mut reasons = Vec::new();
        let mut say = |field: &str, message: &str| {
            reasons.push(FieldError {
                field: field.to_owned(),
                message: message.to_owned(),
            })
        };
        let out_of_range = |q: Option<f64>| q.is_some_and(|q| !(0.0..=100.0).contains(&q));
        if out_of_range(self.min_quality) {
            say(Filter::MIN_QUALITY, QUALITY_RANGE);
        }
        if out_of_range(self.max_quality) {
            say(Filter::MAX_QUALITY, QUALITY_RANGE);
        }
        if let (Some(min), Some(max)) = (self.min_quality, self.max_quality) {
            if min > max {
                say(
                    Filter::MAX_QUALITY,
                    "Max quality is below min quality, so nothing can match.",
                );
            }
        }
        if let (Some(from), Some(to)) = (&self.from, &self.to) {
            if day_part(from) > day_part(to) {
                say(Filter::TO, "To is before From, so nothing can match.");
            }
        }
        reasons
    }

    /// The same view on its first page: what a changed filter or a saved view starts from.
    pub fn first_page(&self) -> Self {
        ConversationQuery {
            cursor: None,
            offset: None,
            earlier_cursors: Vec::new(),
            ..self.clone()
        }
    }

    /// The page after this one, of `rows` rows, given the list's next cursor: a cursor in a
    /// time order (remembering this page's, to come back to), an offset in a quality order.
    pub fn next_page(&self, next_cursor: Option<&str>, rows: usize) -> Self {
        let mut next = self.clone();
        match next_cursor.filter(|_| sort_pages_by_cursor(self.sort)) {
            Some(cursor) => {
                next.earlier_cursors
                    .push(self.cursor.clone().unwrap_or_default());
                next.cursor = Some(cursor.to_owned());
                next.offset = None;
            }
            None => {
                next.cursor = None;
                next.offset = Some(self.offset.unwrap_or(0) + rows as u64);
            }
        }
        next
    }

    /// The page before this one, if it can be named: by offset (`page_size` back), or by
    /// the cursors remembered on the way here. A later page opened from a link has none,
    /// so it can only go back to the first.
    pub fn previous_page(&self, page_size: u32) -> Option<Self> {
        if let Some(offset) = self.offset {
            let back = offset.saturating_sub(u64::from(page_size));
            return Some(ConversationQuery {
                offset: (back > 0).then_some(back),
                ..self.clone()
            });
        }
        self.cursor.as_ref()?;
        let mut previous = self.clone();
        let cursor = previous.earlier_cursors.pop()?;
        previous.cursor = Some(cursor).filter(|c| !c.is_empty());
        Some(previous)
    }

    /// Whether any filter (not the sort or the page) is set.
    pub fn is_filtered(&self) -> bool {
        !self.filter_pairs().is_empty()
    }

    /// Whether this is a later page than the first.
    pub fn is_later_page(&self) -> bool {
        self.cursor.is_some() || self.offset.is_some()
    }

    /// The query string of `GET /conversations` for this view and page size: days become
    /// UTC timestamps (`to` a day is inclusive, so it becomes the next midnight), the search
    /// is trimmed, and a page is a cursor for time orders and an offset for quality orders.
    pub fn to_api_query(&self, limit: u32) -> String {
        let mut pairs: Vec<(&'static str, String)> = Vec::new();
        if let Some(agent_id) = &self.agent_id {
            pairs.push((Filter::AGENT_ID, agent_id.clone()));
        }
        if let Some(status) = self.status {
            pairs.push((Filter::STATUS, status.as_str().to_owned()));
        }
        if let Some(source) = self.source {
            pairs.push((Filter::SOURCE, source.as_str().to_owned()));
        }
        if let Some(from) = &self.from {
            pairs.push((Filter::FROM, api_timestamp(from, false)));
        }
        if let Some(to) = &self.to {
            pairs.push((Filter::TO, api_timestamp(to, true)));
        }
        if let Some(min) = self.min_quality {
            pairs.push((Filter::MIN_QUALITY, min.to_string()));
        }
        if let Some(max) = self.max_quality {
            pairs.push((Filter::MAX_QUALITY, max.to_string()));
        }
        if let Some(has_issues) = self.has_issues {
            pairs.push((Filter::HAS_ISSUES, has_issues.to_string()));
        }
        if let Some(failed) = self.has_failed_steps {
            pairs.push((Filter::HAS_FAILED_STEPS, failed.to_string()));
        }
        if let Some(q) = self.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            pairs.push((Filter::Q, q.to_owned()));
        }
        if let Some(session_id) = &self.session_id {
            pairs.push((Filter::SESSION_ID, session_id.clone()));
        }
        if self.sort != ConversationSort::default() {
            pairs.push((Filter::SORT, sort_api_name(self.sort).to_owned()));
        }
        pairs.push(("limit", limit.to_string()));
        match (&self.cursor, self.offset) {
            (Some(cursor), _) if sort_pages_by_cursor(self.sort) => {
                pairs.push(("cursor", cursor.clone()));
            }
            (_, Some(offset)) => pairs.push(("offset", offset.to_string())),
            _ => {}
        }
        build_query(pairs)
    }
}

/// A date filter as the API wants it: a day becomes its UTC midnight (for an inclusive
/// `to`, the next day's); a timestamp passes unchanged.
fn api_timestamp(filter: &str, end_of_day: bool) -> String {
    match (parse_day(filter), end_of_day) {
        (Some(_), false) => format!("{filter}T00:00:00Z"),
        (Some(_), true) => match next_day(filter) {
            Some(next) => format!("{next}T00:00:00Z"),
            None => format!("{filter}T23:59:59Z"),
        },
        (None, _) => filter.to_owned(),
    }
}
