//! Usage counters per account per UTC day (`usage_daily`, a row per counter slot:
//! [`super::slots`]), and the billing period (the calendar month in UTC) they roll up into.
//! Counters only ever grow by upserts made as things happen; nothing here scans
//! conversations or agents' histories.

use std::collections::HashMap;

use sqlx::{AnyConnection, Row};
use time::{Date, Duration};

use super::slots::Slot;
use super::sql::Backend;
use super::Store;
use crate::clock::{day_of, day_text, utc_date};

/// What one event adds to an account's counters for its day.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct UsageDelta {
    pub requests: i64,
    pub conversations: i64,
    pub optimizations: i64,
    pub benchmarks: i64,
    pub tokens: i64,
}

impl UsageDelta {
    pub fn is_zero(&self) -> bool {
        *self == UsageDelta::default()
    }

    fn add(&mut self, other: UsageDelta) {
        // Saturating, like the SQL that adds these to a day's row.
        self.requests = self.requests.saturating_add(other.requests);
        self.conversations = self.conversations.saturating_add(other.conversations);
        self.optimizations = self.optimizations.saturating_add(other.optimizations);
        self.benchmarks = self.benchmarks.saturating_add(other.benchmarks);
        self.tokens = self.tokens.saturating_add(other.tokens);
    }
}

/// One UTC day of counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayUsage {
    /// `YYYY-MM-DD`.
    pub date: String,
    pub usage: UsageDelta,
}

/// The counters of one billing period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodUsage {
    /// Inclusive, ms since the epoch.
    pub start_ms: i64,
    /// Exclusive: the first instant of the next month.
    pub end_ms: i64,
    pub totals: UsageDelta,
    /// Every day from the period's first up to today (or the last day with counts, if
    /// later), quiet days as zeros, oldest first: a chart gets a continuous axis.
    pub by_day: Vec<DayUsage>,
}

/// What `GET /usage` reads from the database, in one snapshot.
#[derive(Debug, Clone)]
pub struct AccountUsage {
    pub period: PeriodUsage,
    /// Agents that count against the plan: all but archived ones.
    pub agents: i64,
    pub running_optimizations: i64,
}

fn midnight_ms(date: Date) -> i64 {
    date.midnight().assume_utc().unix_timestamp() * 1000
}

/// The billing period holding `now_ms`: the calendar month in UTC, as (start inclusive,
/// end exclusive) in ms since the epoch.
pub fn billing_period(now_ms: i64) -> (i64, i64) {
    let date = utc_date(now_ms);
    let start = date.replace_day(1).unwrap_or(date);
    let days = i64::from(date.month().length(date.year()));
    // Only the last month of the year 9999 has no next month.
    let end = start.checked_add(Duration::days(days)).unwrap_or(Date::MAX);
    (midnight_ms(start), midnight_ms(end))
}

/// Adds `delta` to the account's counters for the UTC day of `now_ms`. Runs on the
/// caller's connection, so inside its transaction the count commits (or rolls back)
/// together with the thing counted.
pub async fn add_usage(
    conn: &mut AnyConnection,
    account_id: &str,
    now_ms: i64,
    delta: UsageDelta,
) -> sqlx::Result<()> {
    add_usage_in(conn, account_id, now_ms, delta, Slot::SHARED).await
}

/// [`add_usage`] in the counter slot of a conversation ([`Slot::of`] its id): for the
/// writes every create or append makes, which would otherwise queue on one row.
pub async fn add_usage_in(
    conn: &mut AnyConnection,
    account_id: &str,
    now_ms: i64,
    delta: UsageDelta,
    slot: Slot,
) -> sqlx::Result<()> {
    if delta.is_zero() {
        return Ok(());
    }
    // Tokens saturate instead of overflowing (SQLite would turn the sum into a REAL that no
    // longer reads as an integer); the other counters grow by one at a time.
    sqlx::query(
        "INSERT INTO usage_daily (account_id, day, slot, requests, conversations, optimizations, tokens, benchmarks) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (account_id, day, slot) DO UPDATE SET \
           requests = usage_daily.requests + excluded.requests, \
           conversations = usage_daily.conversations + excluded.conversations, \
           optimizations = usage_daily.optimizations + excluded.optimizations, \
           benchmarks = usage_daily.benchmarks + excluded.benchmarks, \
           tokens = CASE WHEN usage_daily.tokens > 9223372036854775807 - excluded.tokens \
                    THEN 9223372036854775807 ELSE usage_daily.tokens + excluded.tokens END",
    )
    .bind(account_id)
    .bind(day_of(now_ms))
    .bind(slot.index())
    .bind(delta.requests)
    .bind(delta.conversations)
    .bind(delta.optimizations)
    .bind(delta.tokens)
    .bind(delta.benchmarks)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The account's totals for the billing period holding `now_ms`: what the monthly quotas
/// are checked against.
pub async fn period_totals(
    conn: &mut AnyConnection,
    account_id: &str,
    now_ms: i64,
) -> sqlx::Result<UsageDelta> {
    let (start, end) = billing_period(now_ms);
    let (start, end) = (day_of(start), day_of(end));
    if Backend::of(conn) == Backend::Postgres {
        // A month there is up to 31 days × 32 slots of rows: summed in the database (into a
        // NUMERIC, which cannot overflow) and saturated like every other count.
        let row = sqlx::query(
            "SELECT CAST(LEAST(COALESCE(SUM(requests), 0), 9223372036854775807) AS BIGINT) AS requests, \
                    CAST(LEAST(COALESCE(SUM(conversations), 0), 9223372036854775807) AS BIGINT) AS conversations, \
                    CAST(LEAST(COALESCE(SUM(optimizations), 0), 9223372036854775807) AS BIGINT) AS optimizations, \
                    CAST(LEAST(COALESCE(SUM(benchmarks), 0), 9223372036854775807) AS BIGINT) AS benchmarks, \
                    CAST(LEAST(COALESCE(SUM(tokens), 0), 9223372036854775807) AS BIGINT) AS tokens \
             FROM usage_daily WHERE account_id = $1 AND day >= $2 AND day < $3",
        )
        .bind(account_id)
        .bind(start)
        .bind(end)
        .fetch_one(&mut *conn)
        .await?;
        return delta_from_row(&row);
    }
    // SQLite counts in one slot, so a month is at most 31 rows; added up here rather than
    // with SUM, which fails there on overflow.
    let rows = sqlx::query(
        "SELECT requests, conversations, optimizations, benchmarks, tokens \
         FROM usage_daily WHERE account_id = $1 AND day >= $2 AND day < $3",
    )
    .bind(account_id)
    .bind(start)
    .bind(end)
    .fetch_all(&mut *conn)
    .await?;
    let mut totals = UsageDelta::default();
    for row in &rows {
        totals.add(delta_from_row(row)?);
    }
    Ok(totals)
}

fn delta_from_row(row: &sqlx::any::AnyRow) -> sqlx::Result<UsageDelta> {
    Ok(UsageDelta {
        requests: row.try_get("requests")?,
        conversations: row.try_get("conversations")?,
        optimizations: row.try_get("optimizations")?,
        benchmarks: row.try_get("benchmarks")?,
        tokens: row.try_get("tokens")?,
    })
}

/// The period holding `now_ms`, totalled and day by day.
pub async fn period_usage(
    conn: &mut AnyConnection,
    account_id: &str,
    now_ms: i64,
) -> sqlx::Result<PeriodUsage> {
    let (start_ms, end_ms) = billing_period(now_ms);
    let rows = sqlx::query(
        "SELECT day, requests, conversations, optimizations, benchmarks, tokens FROM usage_daily \
         WHERE account_id = $1 AND day >= $2 AND day < $3 ORDER BY day",
    )
    .bind(account_id)
    .bind(day_of(start_ms))
    .bind(day_of(end_ms))
    .fetch_all(&mut *conn)
    .await?;
    let mut counted = HashMap::with_capacity(rows.len());
    let mut totals = UsageDelta::default();
    let mut last_day = day_of(now_ms);
    for row in &rows {
        let day: String = row.try_get("day")?;
        let usage = delta_from_row(row)?;
        totals.add(usage);
        if day > last_day {
            last_day = day.clone();
        }
        // A day has a row per counter slot.
        counted
            .entry(day)
            .or_insert_with(UsageDelta::default)
            .add(usage);
    }
    let mut by_day = Vec::new();
    let mut date = utc_date(start_ms);
    loop {
        let text = day_text(date);
        if text > last_day {
            break;
        }
        let usage = counted.get(&text).copied().unwrap_or_default();
        by_day.push(DayUsage { date: text, usage });
        match date.next_day() {
            Some(next) if midnight_ms(next) < end_ms => date = next,
            _ => break,
        }
    }
    Ok(PeriodUsage {
        start_ms,
        end_ms,
        totals,
        by_day,
    })
}

/// Agents that count against the plan's agent limit: archiving one frees its place.
pub async fn count_agents(conn: &mut AnyConnection, account_id: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM agents WHERE account_id = $1 AND status <> 'archived'")
        .bind(account_id)
        .fetch_one(&mut *conn)
        .await
}

/// Optimizations of the account running now.
/// The account's benchmarks queued or running.
pub async fn count_running_benchmarks(
    conn: &mut AnyConnection,
    account_id: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM benchmarks WHERE account_id = $1 AND status IN ('queued', 'running')",
    )
    .bind(account_id)
    .fetch_one(&mut *conn)
    .await
}

pub async fn count_running_optimizations(
    conn: &mut AnyConnection,
    account_id: &str,
) -> sqlx::Result<i64> {
    // Queued runs hold their slot too: the runner starts them as soon as it can.
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM optimizations WHERE account_id = $1 AND status IN ('queued', 'running')",
    )
    .bind(account_id)
    .fetch_one(&mut *conn)
    .await
}

impl Store {
    /// Everything `GET /usage` reads from the database, from one consistent snapshot.
    pub async fn account_usage(&self, account_id: &str, now_ms: i64) -> sqlx::Result<AccountUsage> {
        let mut tx = self.pool().begin().await?;
        let period = period_usage(&mut tx, account_id, now_ms).await?;
        let agents = count_agents(&mut tx, account_id).await?;
        let running_optimizations = count_running_optimizations(&mut tx, account_id).await?;
        tx.commit().await?;
        Ok(AccountUsage {
            period,
            agents,
            running_optimizations,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::DAY_MS;

    /// 2026-11-28T00:00:00Z.
    const NOV_28: i64 = 1_795_824_000_000;

    #[test]
    fn the_billing_period_is_the_utc_calendar_month() {
        let (start, end) = billing_period(NOV_28 + 5 * 3_600_000);
        assert_eq!(crate::clock::rfc3339(start), "2026-11-01T00:00:00.000Z");
        assert_eq!(crate::clock::rfc3339(end), "2026-12-01T00:00:00.000Z");
        // The last millisecond of November is still November; the next is December.
        assert_eq!(billing_period(end - 1), (start, end));
        let (dec_start, jan_start) = billing_period(end);
        assert_eq!(dec_start, end);
        assert_eq!(crate::clock::rfc3339(jan_start), "2027-01-01T00:00:00.000Z");
        let (feb_start, feb_end) =
            billing_period(crate::clock::parse_rfc3339("2028-02-29T12:00:00Z").unwrap());
        assert_eq!((feb_end - feb_start) / DAY_MS, 29);
    }
}
