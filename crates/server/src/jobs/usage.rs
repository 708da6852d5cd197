//! The usage flusher: writes the requests the rate limiter counted in memory to
//! `usage_daily` every few seconds, and once more when stopped, so a clean shutdown loses none.

use std::sync::Arc;
use std::time::Duration;

use super::{BackgroundTask, StopSignal};
use crate::clock::SharedClock;
use crate::limits::rate::{window_start, RateLimiter, WINDOW_MS};
use crate::state::AppState;
use crate::store::{Backend, Store};

/// How often counted requests are written to `usage_daily`.
pub const FLUSH_EVERY: Duration = Duration::from_secs(5);

/// Starts the task that flushes counted requests every [`FLUSH_EVERY`] and once more when
/// stopped (or dropped); stop it once no request is in flight.
pub fn start_flusher(state: &AppState) -> BackgroundTask {
    let limiter = state.limiter.clone();
    let store = state.store.clone();
    let clock = state.clock.clone();
    BackgroundTask::spawn("usage flusher", |stopped| {
        flush_periodically(limiter, store, clock, stopped)
    })
}

async fn flush_periodically(
    limiter: Arc<RateLimiter>,
    store: Store,
    clock: SharedClock,
    mut stopped: StopSignal,
) {
    let mut ticks =
        tokio::time::interval_at(tokio::time::Instant::now() + FLUSH_EVERY, FLUSH_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {
                flush_logged(&limiter, &store).await;
                prune_rate_windows(&store, clock.now_ms()).await;
            }
            // A send or a dropped sender both end the loop.
            _ = &mut stopped => break,
        }
    }
    flush_logged(&limiter, &store).await;
}

/// Drops shared rate-limit windows older than the last one (PostgreSQL only).
async fn prune_rate_windows(store: &Store, now_ms: i64) {
    if store.backend() != Backend::Postgres {
        return;
    }
    let before = window_start(now_ms) - WINDOW_MS;
    if let Err(err) = store.prune_rate_windows(before).await {
        tracing::warn!(error = %err, "pruning old rate-limit windows failed; will retry");
    }
}

async fn flush_logged(limiter: &RateLimiter, store: &Store) {
    if let Err(err) = limiter.flush(store).await {
        tracing::error!(
            error = format!("{err:#}"),
            "flushing request counts failed; will retry"
        );
    }
}
