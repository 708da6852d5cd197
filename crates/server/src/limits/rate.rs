//! The per-account rate-limit windows (fixed one-minute windows on the server's clock: in
//! memory on SQLite, in the shared database on PostgreSQL, see `store/rate_windows.rs`) and
//! the request counts behind `/usage`, kept in memory and written to the database in batches. It knows nothing of HTTP state, so `AppState` can hold it.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use axum::http::{HeaderMap, HeaderValue};

use crate::clock::DAY_MS;
use crate::store::usage::{self, UsageDelta};
use crate::store::Store;

/// The length of a rate-limit window.
pub const WINDOW_MS: i64 = 60_000;

/// Windows kept before stale ones are dropped; the threshold doubles with the number of
/// accounts active in one minute, so pruning stays amortized O(1) per request.
const MIN_PRUNE_AT: usize = 1_024;

/// The in-memory side of the plans: one window per account, and requests counted but not
/// yet written to the database.
pub struct RateLimiter {
    state: Mutex<LimiterState>,
    /// Held while a flush moves counts from memory to the database, so a reader that takes
    /// it sees each request exactly once, in one place or the other.
    flush_turn: tokio::sync::Mutex<()>,
}

struct LimiterState {
    windows: HashMap<String, Window>,
    prune_at: usize,
    /// (account id, UTC day number since the epoch) -> requests not yet in `usage_daily`.
    unflushed: HashMap<(String, i64), i64>,
}

struct Window {
    start_ms: i64,
    admitted: u32,
}

/// The verdict on one request, and what its rate-limit headers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// When the window resets, ms since the epoch.
    pub reset_ms: i64,
    /// Whole seconds until then, at least 1: the `Retry-After` of a 429.
    pub retry_after_secs: u64,
}

/// The start of the window `now_ms` falls in.
pub fn window_start(now_ms: i64) -> i64 {
    now_ms - now_ms.rem_euclid(WINDOW_MS)
}

impl RateDecision {
    /// The verdict on a request at `now_ms`, once the window holds `admitted` requests (this
    /// one included when `allowed`).
    pub fn new(allowed: bool, limit: u32, admitted: u32, now_ms: i64) -> RateDecision {
        let reset_ms = window_start(now_ms) + WINDOW_MS;
        let wait_ms = u64::try_from(reset_ms - now_ms).unwrap_or(0);
        RateDecision {
            allowed,
            limit,
            remaining: limit.saturating_sub(admitted),
            reset_ms,
            retry_after_secs: wait_ms.div_ceil(1000).max(1),
        }
    }

    /// `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (Unix seconds).
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        headers.insert("x-ratelimit-limit", HeaderValue::from(self.limit));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(self.remaining));
        headers.insert(
            "x-ratelimit-reset",
            HeaderValue::from(self.reset_ms.div_euclid(1000)),
        );
    }
}

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter::new()
    }
}

impl RateLimiter {
    pub fn new() -> RateLimiter {
        RateLimiter {
            state: Mutex::new(LimiterState {
                windows: HashMap::new(),
                prune_at: MIN_PRUNE_AT,
                unflushed: HashMap::new(),
            }),
            flush_turn: tokio::sync::Mutex::new(()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, LimiterState> {
        // Nothing panics while holding the lock; if something did, the counters are
        // still whole numbers worth keeping.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Admits or refuses one request of `account_id`, whose plan allows `limit` a minute.
    /// An admitted request is also counted for the account's day.
    pub fn admit(&self, account_id: &str, limit: u32, now_ms: i64) -> RateDecision {
        let start_ms = window_start(now_ms);
        let mut state = self.lock();
        if state.windows.len() >= state.prune_at {
            state.windows.retain(|_, w| w.start_ms == start_ms);
            state.prune_at = (state.windows.len() * 2).max(MIN_PRUNE_AT);
        }
        let window = state
            .windows
            .entry(account_id.to_owned())
            .or_insert(Window {
                start_ms,
                admitted: 0,
            });
        if window.start_ms != start_ms {
            *window = Window {
                start_ms,
                admitted: 0,
            };
        }
        let allowed = window.admitted < limit;
        if allowed {
            window.admitted += 1;
        }
        let admitted = window.admitted;
        if allowed {
            count_into(&mut state, account_id, now_ms);
        }
        RateDecision::new(allowed, limit, admitted, now_ms)
    }

    /// Counts an admitted request for the account's day, when the window lives elsewhere.
    pub fn count_request(&self, account_id: &str, now_ms: i64) {
        count_into(&mut self.lock(), account_id, now_ms);
    }

    /// The account's requests counted but not yet in the database: (UTC midnight of the
    /// day in ms, requests). Read it under [`RateLimiter::hold_flushes`] together with the
    /// database to count each request once.
    pub fn unflushed_requests(&self, account_id: &str) -> Vec<(i64, i64)> {
        let state = self.lock();
        state
            .unflushed
            .iter()
            .filter(|((account, _), _)| account == account_id)
            .map(|((_, day), n)| (day * DAY_MS, *n))
            .collect()
    }

    /// Keeps flushes out until the guard drops.
    pub async fn hold_flushes(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.flush_turn.lock().await
    }

    /// Writes the counted requests to `usage_daily` in one transaction. On failure the
    /// counts go back to memory for the next flush, so none is lost.
    pub async fn flush(&self, store: &Store) -> anyhow::Result<()> {
        let _turn = self.flush_turn.lock().await;
        let batch = std::mem::take(&mut self.lock().unflushed);
        if batch.is_empty() {
            return Ok(());
        }
        if let Err(err) = write_requests(store, &batch).await {
            let mut state = self.lock();
            for (key, n) in batch {
                *state.unflushed.entry(key).or_default() += n;
            }
            return Err(anyhow::Error::new(err).context("writing counted requests"));
        }
        Ok(())
    }
}

fn count_into(state: &mut LimiterState, account_id: &str, now_ms: i64) {
    *state
        .unflushed
        .entry((account_id.to_owned(), now_ms.div_euclid(DAY_MS)))
        .or_default() += 1;
}

async fn write_requests(store: &Store, batch: &HashMap<(String, i64), i64>) -> sqlx::Result<()> {
    let mut tx = store.begin_write().await?;
    for ((account_id, day), requests) in batch {
        let delta = UsageDelta {
            requests: *requests,
            ..UsageDelta::default()
        };
        usage::add_usage(&mut tx, account_id, day * DAY_MS, delta).await?;
    }
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-28T00:00:00Z, the start of a window.
    const T0: i64 = 1_795_824_000_000;

    #[test]
    fn a_window_admits_exactly_the_limit_then_resets() {
        let limiter = RateLimiter::new();
        for i in 1..=3 {
            let d = limiter.admit("acct_a", 3, T0 + i);
            assert!(d.allowed);
            assert_eq!(d.remaining, 3 - i as u32);
        }
        let refused = limiter.admit("acct_a", 3, T0 + 20_500);
        assert!(!refused.allowed);
        assert_eq!((refused.remaining, refused.retry_after_secs), (0, 40));
        assert_eq!(refused.reset_ms, T0 + WINDOW_MS);
        assert!(limiter.admit("acct_a", 3, T0 + WINDOW_MS).allowed);
        // Refused requests are not counted as used.
        assert_eq!(limiter.unflushed_requests("acct_a"), vec![(T0, 4)]);
    }

    #[test]
    fn stale_windows_are_pruned() {
        let limiter = RateLimiter::new();
        for i in 0..MIN_PRUNE_AT {
            limiter.admit(&format!("acct_{i}"), 10, T0);
        }
        limiter.admit("acct_late", 10, T0 + WINDOW_MS);
        assert_eq!(limiter.lock().windows.len(), 1);
    }
}
