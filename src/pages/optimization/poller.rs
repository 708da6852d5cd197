//! Follows one optimization: fetches it and its variants, then again with the poll
//! backoff while it may still change, filling signals only with what changed.

use converra_api::optimizations::{Optimization, OptimizationStatus, Variant};
use leptos::prelude::*;

use crate::api::optimizations::{get_optimization, list_variants};
use crate::api::{ApiClient, ClientError};
use crate::components::optimization_progress::is_live;
use crate::components::poll::poll_delay;

/// Polls after a stop while the runner may still evaluate what was simulated.
const POLLS_AFTER_STOP: u32 = 4;

/// Whether the page keeps polling `optimization`: while it is live, and for a few polls
/// after a stop that has no results yet (the runner evaluates what was simulated).
pub fn keep_following(optimization: &Optimization, polls_after_stop: u32) -> bool {
    is_live(optimization)
        || (optimization.status == OptimizationStatus::Stopped
            && optimization.results.is_none()
            && optimization.progress.simulations_completed > 0
            && polls_after_stop < POLLS_AFTER_STOP)
}

/// Sets `signal` only when the value differs, so a poll that changed nothing redraws nothing.
fn set_if_changed<T: PartialEq + Send + Sync + 'static>(signal: RwSignal<T>, value: T) {
    if signal.try_with_untracked(|current| *current != value) == Some(true) {
        signal.try_set(value);
    }
}

/// What the poller fills in.
#[derive(Clone, Copy)]
pub(super) struct Followed {
    pub(super) optimization: RwSignal<Option<Optimization>>,
    pub(super) variants: RwSignal<Vec<Variant>>,
    pub(super) error: RwSignal<Option<ClientError>>,
    /// The current follower's number; a follower whose number is no longer current (or
    /// whose page is gone) stops.
    pub(super) current: StoredValue<u64>,
}

/// Fetches the optimization and its variants, then again after each [`poll_delay`] while
/// [`keep_following`] says so.
pub(super) async fn follow(client: ApiClient, id: String, token: u64, into: Followed) {
    let still = move || into.current.try_get_value() == Some(token);
    let mut attempt = 0;
    let mut polls_after_stop = 0;
    loop {
        let fetched = get_optimization(&client, &id).await;
        if !still() {
            return;
        }
        let optimization = match fetched {
            Ok(o) => o,
            Err(error) => {
                into.error.try_set(Some(error));
                return;
            }
        };
        let variants = list_variants(&client, &id).await;
        if !still() {
            return;
        }
        match variants {
            Ok(variants) => set_if_changed(into.variants, variants),
            Err(error) => {
                into.error.try_set(Some(error));
                return;
            }
        }
        let keep = keep_following(&optimization, polls_after_stop);
        if optimization.status == OptimizationStatus::Stopped {
            polls_after_stop += 1;
        }
        set_if_changed(into.optimization, Some(optimization));
        if !keep {
            return;
        }
        gloo_timers::future::sleep(poll_delay(attempt)).await;
        attempt += 1;
        if !still() {
            return;
        }
    }
}
