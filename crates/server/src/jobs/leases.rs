//! The lease keeper: renews this process's leases on the jobs it runs (and the insights it
//! reads; those need no taking over: a claim takes any whose lease ran out), and, on PostgreSQL,
//! queues again the jobs of processes that died (their leases ran out) for any process to
//! take. At the start of a SQLite server, the only process, every job left running is
//! queued again at once; a clean stop gives this process's jobs back.

use std::time::Duration;

use super::{BackgroundTask, StopSignal};
use crate::state::AppState;
use crate::store::leases::{Abandoned, LeasedQueue, LEASE_MS};
use crate::store::Backend;

/// How often leases are renewed and expired ones looked for: a third of a lease, so one
/// late renewal never loses it.
const RENEW_EVERY: Duration = Duration::from_millis((LEASE_MS / 3) as u64);

/// Queues again what no live process holds: on SQLite everything left running by the
/// previous process, on PostgreSQL the jobs whose lease ran out.
pub async fn requeue_abandoned(state: &AppState) -> anyhow::Result<()> {
    let which = match state.store.backend() {
        Backend::Sqlite => Abandoned::AllRunning,
        Backend::Postgres => Abandoned::LeaseExpired,
    };
    if which == Abandoned::AllRunning {
        state.store.release_insights_leases(None).await?;
    }
    for queue in LeasedQueue::ALL {
        let ids = state
            .store
            .requeue_unowned(queue, which, state.clock.now_ms())
            .await?;
        for id in &ids {
            tracing::info!(?queue, job = %id, "a job its process left running is queued again");
        }
        if !ids.is_empty() {
            state.wake(queue.channel());
        }
    }
    Ok(())
}

/// Starts the keeper; stopping it gives this process's running jobs back to the queue.
pub fn start(state: &AppState) -> BackgroundTask {
    let state = state.clone();
    BackgroundTask::spawn("lease keeper", move |stopped| keep_leases(state, stopped))
}

async fn keep_leases(state: AppState, mut stopped: StopSignal) {
    let mut ticks =
        tokio::time::interval_at(tokio::time::Instant::now() + RENEW_EVERY, RENEW_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => renew_and_take_over(&state).await,
            _ = &mut stopped => break,
        }
    }
    for queue in LeasedQueue::ALL {
        match state
            .store
            .release_leases(queue, state.clock.now_ms())
            .await
        {
            Ok(0) => {}
            Ok(released) => {
                tracing::info!(?queue, released, "running jobs given back at stop");
                // Awaited, not spawned: the process is about to end.
                if let Err(error) = state.store.announce(queue.channel()).await {
                    tracing::warn!(%error, "announcing the jobs given back failed; others find them at their next poll");
                }
            }
            Err(err) => {
                tracing::warn!(?queue, error = %err, "giving jobs back at stop failed; their leases will run out")
            }
        }
    }
    if let Err(err) = state
        .store
        .release_insights_leases(Some(state.store.instance_id()))
        .await
    {
        tracing::warn!(error = %err, "giving queued insights back at stop failed; their leases will run out");
    }
}

async fn renew_and_take_over(state: &AppState) {
    for queue in LeasedQueue::ALL {
        if let Err(err) = state.store.renew_leases(queue, state.clock.now_ms()).await {
            tracing::warn!(?queue, error = %err, "renewing leases failed; will retry");
        }
    }
    if let Err(err) = state
        .store
        .renew_insights_leases(state.clock.now_ms())
        .await
    {
        tracing::warn!(error = %err, "renewing insights leases failed; will retry");
    }
    if state.store.backend() == Backend::Postgres {
        if let Err(err) = requeue_abandoned(state).await {
            tracing::warn!(error = %format!("{err:#}"), "taking over expired leases failed; will retry")
        }
    }
}
