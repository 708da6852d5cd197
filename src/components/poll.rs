//! Polling while something may still change on its own (a queued run, a pending analysis,
//! a delivery being attempted): one backoff for every page, and a [`Poll`] that a page's
//! resource tracks to ask again.

use std::time::Duration;

use leptos::prelude::*;

/// How long to wait before the `attempt`-th poll (0-based) of something running: quick at
/// first, then backing off to at most eight seconds.
pub fn poll_delay(attempt: u32) -> Duration {
    let millis = 750.0 * 1.5f64.powi(attempt.min(20) as i32);
    Duration::from_millis(millis.min(8_000.0) as u64)
}

/// Polls something that may still change: a tick the resource asking again tracks, and
/// the number of polls since the backoff last started over. Made before the resource (which
/// tracks it), then started with [`Poll::while_live`] once the resource exists.
#[derive(Debug, Clone, Copy)]
pub struct Poll {
    tick: RwSignal<u32>,
    attempts: RwSignal<u32>,
}

impl Default for Poll {
    fn default() -> Self {
        Self::new()
    }
}

impl Poll {
    pub fn new() -> Self {
        Poll {
            tick: RwSignal::new(0),
            attempts: RwSignal::new(0),
        }
    }

    /// Makes the calling resource (or effect) run again at every poll.
    pub fn track(&self) {
        self.tick.track();
    }

    /// Polls since the backoff last started over (tracked).
    pub fn attempts(&self) -> u32 {
        self.attempts.get()
    }

    /// Starts the backoff over at its first, short wait (a new view, a new request).
    pub fn restart(&self) {
        self.attempts.try_set(0);
    }

    /// Polls while `live` says something may still change, at most `max_attempts` times in
    /// a row, waiting [`poll_delay`] between polls. `live` should read the resource that
    /// tracks this poll, so each answer schedules the next. Leaving the page cancels the
    /// pending poll.
    pub fn while_live(self, live: impl Fn() -> bool + Send + Sync + 'static, max_attempts: u32) {
        let poll = self;
        Effect::new(move |_| {
            let attempt = poll.attempts.get_untracked();
            if !live() || attempt >= max_attempts {
                return;
            }
            let next = set_timeout_with_handle(
                move || {
                    poll.attempts.try_update(|n| *n += 1);
                    poll.tick.try_update(|n| *n = n.wrapping_add(1));
                },
                poll_delay(attempt),
            );
            if let Ok(handle) = next {
                on_cleanup(move || handle.clear());
            }
        });
    }
}
