//! Time as the server sees it. Injectable so that tests can step over a rate-limit window
//! instead of sleeping through it.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use time::{Date, OffsetDateTime};

/// Milliseconds in a UTC day.
pub const DAY_MS: i64 = 86_400_000;

/// Milliseconds since the Unix epoch.
pub trait Clock: Send + Sync + 'static {
    fn now_ms(&self) -> i64;
}

/// The wall clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
    }
}

/// A clock that only moves when told to.
#[derive(Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn new(start_ms: i64) -> Self {
        ManualClock(Arc::new(AtomicI64::new(start_ms)))
    }

    pub fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

pub type SharedClock = Arc<dyn Clock>;

/// RFC 3339 in UTC with milliseconds, fixed width, so that text order is time order.
pub fn rfc3339(ms: i64) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&format).ok())
        // Only a timestamp beyond year 9999 fails to format; the store never makes one.
        .unwrap_or_else(|| "9999-12-31T23:59:59.999Z".to_owned())
}

/// Parses an RFC 3339 timestamp (any offset) to milliseconds since the epoch.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let t =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// The UTC date of an instant.
pub fn utc_date(ms: i64) -> Date {
    OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .map(|t| t.date())
        // Only a clock outside the years ±9999 fails; neither clock of the server is one.
        .unwrap_or(OffsetDateTime::UNIX_EPOCH.date())
}

/// A date as `YYYY-MM-DD`.
pub fn day_text(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// The UTC day of an instant as `YYYY-MM-DD`: how usage counters and trends name a day.
pub fn day_of(ms: i64) -> String {
    day_text(utc_date(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_is_fixed_width_utc_and_round_trips() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_795_000_000_123), "2026-11-18T11:06:40.123Z");
        assert_eq!(
            parse_rfc3339("2026-11-18T11:06:40.123Z"),
            Some(1_795_000_000_123)
        );
        assert_eq!(
            parse_rfc3339("2026-11-18T12:06:40.123+01:00"),
            Some(1_795_000_000_123)
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn days_are_utc_dates() {
        // 2026-11-28T00:00:00Z.
        let nov_28 = 1_795_824_000_000;
        assert_eq!(day_of(nov_28), "2026-11-28");
        assert_eq!(day_of(nov_28 - 1), "2026-11-27");
        assert_eq!(day_of(0), "1970-01-01");
    }
}
