//! Durable background work. Each job keeps its state in the database, so whatever was
//! queued before a restart is picked up after it.

pub mod benchmarks;
pub mod insights;
pub mod leases;
pub mod optimizations;
pub mod usage;
pub mod wakeups;
pub mod webhooks;

use std::future::Future;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

use crate::state::AppState;
use crate::store::notify::Channel;

/// Resolves when the task's [`BackgroundTask`] is stopped or dropped: either ends the loop.
pub type StopSignal = oneshot::Receiver<()>;

/// A spawned background task and the signal that stops it. [`BackgroundTask::stop`] sends
/// the signal and waits until the task has finished; dropping the handle sends it too but
/// does not wait.
pub struct BackgroundTask {
    name: &'static str,
    stop: oneshot::Sender<()>,
    handle: JoinHandle<()>,
}

impl BackgroundTask {
    /// Spawns `task` with the signal that will tell it to stop.
    pub fn spawn<F, Fut>(name: &'static str, task: F) -> BackgroundTask
    where
        F: FnOnce(StopSignal) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (stop, stopped) = oneshot::channel();
        let handle = tokio::spawn(task(stopped));
        BackgroundTask { name, stop, handle }
    }

    /// Tells the task to stop and waits until it has.
    pub async fn stop(self) {
        // An error means the task ended already; joining it below reports how.
        let _ = self.stop.send(());
        if let Err(err) = self.handle.await {
            tracing::error!(task = self.name, error = %err, "a background task ended abnormally");
        }
    }
}

/// A background loop that runs `step` while it finds work, and otherwise waits for a
/// wake-up on `channel` ([`AppState::wake`]) or the idle poll (`ServerConfig::job_poll`).
/// Stopping drops the step in progress at its next await: its work stays in the database
/// and is resumed on the next start.
///
/// `step` returns whether it did some work (then it runs again at once).
pub fn spawn_worker<F, Fut>(
    name: &'static str,
    channel: Channel,
    state: AppState,
    mut step: F,
) -> BackgroundTask
where
    F: FnMut(AppState) -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<bool>> + Send,
{
    BackgroundTask::spawn(name, move |mut stopped| async move {
        loop {
            let wakeups = state.wakeups.clone();
            // Registered before the step, so a wake-up sent during it is not lost.
            let woken = wakeups.of(channel).notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let did_work = tokio::select! {
                _ = &mut stopped => return,
                result = step(state.clone()) => match result {
                    Ok(did_work) => did_work,
                    Err(err) => {
                        tracing::error!(worker = name, error = %format!("{err:#}"), "background step failed; retrying shortly");
                        false
                    }
                },
            };
            if did_work {
                continue;
            }
            tokio::select! {
                _ = &mut stopped => return,
                () = &mut woken => {},
                () = tokio::time::sleep(state.config.job_poll) => {},
            }
        }
    })
}

/// A job that panicked: the panic's message, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panicked(pub String);

/// Runs one job on a task of its own, so that a panic in it fails that job alone instead of
/// unwinding through its worker. Dropping the returned future (the worker stopping) aborts
/// the job at its next await, exactly as if it ran inline.
pub async fn isolated<T: Send + 'static>(
    job: impl Future<Output = T> + Send + 'static,
) -> Result<T, Panicked> {
    let mut task = JoinSet::new();
    task.spawn(job);
    match task.join_next().await {
        Some(Ok(output)) => Ok(output),
        Some(Err(err)) if err.is_panic() => {
            let payload = err.into_panic();
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_owned());
            Err(Panicked(message))
        }
        // Only an abort cancels the task, and only dropping `task` aborts it.
        Some(Err(_)) | None => Err(Panicked("the job's task was cancelled".to_owned())),
    }
}

/// The workers of a serving process, started and stopped together.
pub struct Workers(Vec<BackgroundTask>);

impl Workers {
    /// Starts every job worker, after queueing again the jobs no live process holds.
    pub async fn start(state: &AppState) -> anyhow::Result<Workers> {
        leases::requeue_abandoned(state).await?;
        let mut workers = vec![insights::start(state)];
        workers.extend(benchmarks::start(state));
        workers.extend(optimizations::start(state));
        // Last, so that it stops after the runners and gives back what they left running.
        workers.push(leases::start(state));
        Ok(Workers(workers))
    }

    /// Stops the workers, then (the lease keeper last) gives their running jobs back.
    pub async fn stop(self) {
        for worker in self.0 {
            worker.stop().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_panicking_job_is_caught_with_its_message_and_others_run_on() {
        let caught = isolated(async {
            if std::hint::black_box(true) {
                panic!("the engine broke");
            }
            1
        })
        .await;
        assert_eq!(caught, Err(Panicked("the engine broke".to_owned())));
        let formatted = isolated(async {
            if std::hint::black_box(true) {
                panic!("step {} broke", 3);
            }
        })
        .await;
        assert_eq!(formatted, Err(Panicked("step 3 broke".to_owned())));
        assert_eq!(isolated(async { 2 }).await, Ok(2));
    }

    #[tokio::test]
    async fn dropping_an_isolated_job_aborts_it() {
        let (tx, rx) = oneshot::channel::<()>();
        let job = isolated(async move {
            tokio::time::sleep(Duration::from_secs(3_600)).await;
            let _ = tx.send(());
        });
        // Polled once, so the task is running, then dropped.
        let _ = tokio::time::timeout(Duration::from_millis(10), job).await;
        // The sender is dropped with the aborted task, never used.
        assert!(rx.await.is_err());
    }
}
