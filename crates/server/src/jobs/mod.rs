//! Durable background work. Each job keeps its state in the database, so whatever was
//! queued before a restart is picked up after it.

pub mod benchmarks;
pub mod insights;
pub mod optimizations;
pub mod webhooks;

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::state::AppState;

/// How long an idle worker sleeps before looking for due work it was not woken for
/// (retries whose time came).
const IDLE_POLL: Duration = Duration::from_millis(500);

/// A background loop that runs `step` while it finds work, and otherwise waits for
/// [`AppState::wake_jobs`] or the idle poll. Stopping drops the step in progress at its
/// next await: its work stays in the database and is resumed on the next start.
pub struct Worker {
    stop: watch::Sender<bool>,
    handle: JoinHandle<()>,
}

impl Worker {
    /// `step` returns whether it did some work (then it runs again at once).
    pub fn spawn<F, Fut>(name: &'static str, state: AppState, mut step: F) -> Worker
    where
        F: FnMut(AppState) -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<bool>> + Send,
    {
        let (stop, mut stopped) = watch::channel(false);
        let handle = tokio::spawn(async move {
            loop {
                let wakeup = state.jobs_wakeup.clone();
                // Registered before the step, so a wake-up sent during it is not lost.
                let woken = wakeup.notified();
                tokio::pin!(woken);
                woken.as_mut().enable();
                let did_work = tokio::select! {
                    _ = stopped.changed() => return,
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
                    _ = stopped.changed() => return,
                    () = &mut woken => {},
                    () = tokio::time::sleep(IDLE_POLL) => {},
                }
            }
        });
        Worker { stop, handle }
    }

    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.handle.await;
    }
}

/// The workers of a serving process, started and stopped together.
pub struct Workers(Vec<Worker>);

impl Workers {
    /// Starts every job worker. Runs interrupted by the previous stop are resumed first.
    pub async fn start(state: &AppState) -> anyhow::Result<Workers> {
        Ok(Workers(vec![
            insights::start(state),
            optimizations::start(state).await?,
            benchmarks::start(state).await?,
        ]))
    }

    pub async fn stop(self) {
        for worker in self.0 {
            worker.stop().await;
        }
    }
}
