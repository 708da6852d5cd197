//! The listener that turns other processes' announcements of queued work (PostgreSQL
//! `NOTIFY`, see `store::notify`) into wake-ups of this process's workers. Polling stays as
//! the safety net for retries that fall due and announcements lost while disconnected.

use std::time::Duration;

use super::{BackgroundTask, StopSignal};
use crate::state::AppState;
use crate::store::notify::Channel;

/// The pause before listening again after the connection failed.
const RECONNECT_PAUSE: Duration = Duration::from_secs(1);

/// Starts the listener on PostgreSQL; SQLite needs none.
pub fn start(state: &AppState) -> Option<BackgroundTask> {
    if state.store.backend() != crate::store::Backend::Postgres {
        return None;
    }
    let state = state.clone();
    Some(BackgroundTask::spawn("wake-up listener", move |stopped| {
        listen(state, stopped)
    }))
}

async fn listen(state: AppState, mut stopped: StopSignal) {
    let mut listener = loop {
        match state.store.listen().await {
            Ok(Some(listener)) => break listener,
            Ok(None) => return,
            Err(error) => {
                tracing::warn!(%error, "listening for queued work failed; polling meanwhile");
                tokio::select! {
                    _ = &mut stopped => return,
                    () = tokio::time::sleep(RECONNECT_PAUSE) => {}
                }
            }
        }
    };
    loop {
        tokio::select! {
            _ = &mut stopped => return,
            received = listener.recv() => match received {
                Ok(notification) => {
                    for channel in Channel::woken_by(notification.channel()) {
                        state.wake_local(*channel);
                    }
                }
                Err(error) => {
                    // The listener reconnects on its next `recv`; what was announced in
                    // between is found by polling: wake everything once.
                    tracing::warn!(%error, "the wake-up listener lost its connection; reconnecting");
                    for channel in Channel::ALL {
                        state.wake_local(channel);
                    }
                    tokio::select! {
                        _ = &mut stopped => return,
                        () = tokio::time::sleep(RECONNECT_PAUSE) => {}
                    }
                }
            },
        }
    }
}
