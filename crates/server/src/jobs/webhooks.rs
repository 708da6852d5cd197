//! The webhook worker: fans each queued event out into one delivery per subscribed webhook,
//! then sends due deliveries from the outbox (`store::webhooks`), signed, retried with
//! exponential backoff, and disables a webhook that keeps failing. What a
//! webhook may point at is `crate::egress`'s policy.
//!
//! Delivery is at least once: a send cut off by a crash is sent again after a restart, so
//! receivers should deduplicate by the event id (or `X-Converra-Delivery`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use converra_api::webhooks::{DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::task::JoinSet;

use super::{BackgroundTask, StopSignal};
use crate::clock::SharedClock;
use crate::egress::{check_url_literal, guarded_client, Destination};
use crate::metrics::{AttemptResult, Metrics};
use crate::state::{AppState, Wakeups};
use crate::store::notify::Channel;
use crate::store::webhooks::{event_body, AttemptRecord, DueDelivery, NextStep};
use crate::store::Store;

/// Attempts per delivery: the first and five retries, after 1, 2, 4, 8 and 16 times the
/// retry base (`ServerConfig::webhook_retry_base_ms`; 10 s by default, so about five minutes
/// in all).
pub const MAX_ATTEMPTS: u32 = 6;

/// A webhook is disabled once this many deliveries in a row have failed every attempt; a
/// successful delivery starts the count again. Its pending deliveries then fail too.
pub const DISABLE_AFTER_FAILED_DELIVERIES: u32 = 5;

/// A receiver that has not answered within this is counted as failed.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a claimed delivery is kept from being claimed again: longer than any send.
const LEASE_MS: i64 = 60_000;
const MAX_IN_FLIGHT: usize = 16;
/// Events fanned out per turn of the loop; a full batch means more wait, so it turns again.
const FAN_OUT_BATCH: usize = 64;
/// The longest the worker sleeps; it covers deliveries queued by another process.
const IDLE_POLL: Duration = Duration::from_secs(5);
/// The shortest, so a delivery due now but not claimable never makes the loop spin.
const MIN_WAIT: Duration = Duration::from_millis(10);
const ERROR_PAUSE: Duration = Duration::from_secs(1);
/// How long shutdown waits for sends in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The delay before the retry that follows failed attempt `attempt` (1-based).
pub fn retry_delay_ms(base_ms: u64, attempt: u32) -> i64 {
    let factor = 1u64 << attempt.saturating_sub(1).min(20);
    i64::try_from(base_ms.saturating_mul(factor)).unwrap_or(i64::MAX)
}

/// `X-Converra-Signature`'s `v1`: hex HMAC-SHA256 of `"<t>.<body>"` keyed by the whole
/// secret (`whsec_…`).
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length; the `Err` of `new_from_slice` cannot happen for it.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// What every send needs.
struct Sender {
    store: Store,
    clock: SharedClock,
    client: reqwest::Client,
    allow_private: bool,
    retry_base_ms: u64,
    metrics: Arc<Metrics>,
}

/// Starts the worker that sends due deliveries. [`BackgroundTask::stop`] stops claiming
/// deliveries and waits a little for sends in flight; one that does not finish keeps its
/// lease and is sent again after a restart. Dropping the handle ends the worker too.
pub fn start(state: &AppState) -> anyhow::Result<BackgroundTask> {
    let client = guarded_client(
        reqwest::Client::builder()
            .timeout(SEND_TIMEOUT)
            .user_agent(concat!("Converra-Webhooks/", env!("CARGO_PKG_VERSION"))),
        state.config.allow_private_network,
    )?;
    let sender = Arc::new(Sender {
        store: state.store.clone(),
        clock: state.clock.clone(),
        client,
        allow_private: state.config.allow_private_network,
        retry_base_ms: state.config.webhook_retry_base_ms,
        metrics: state.metrics.clone(),
    });
    let wakeups = state.wakeups.clone();
    Ok(BackgroundTask::spawn("webhook worker", |stopped| {
        run(sender, wakeups, stopped)
    }))
}

async fn run(sender: Arc<Sender>, wakeups: Arc<Wakeups>, mut stopped: StopSignal) {
    let mut in_flight = JoinSet::new();
    loop {
        let now = sender.clock.now_ms();
        let room = MAX_IN_FLIGHT.saturating_sub(in_flight.len());
        let mut wait = IDLE_POLL;
        match sender.store.fan_out_events(now, FAN_OUT_BATCH).await {
            Ok(FAN_OUT_BATCH) => wait = MIN_WAIT,
            Ok(_) => {}
            Err(err) => {
                tracing::error!(
                    error = format!("{err:#}"),
                    "fanning out webhook events failed"
                );
                wait = ERROR_PAUSE;
            }
        }
        if room > 0 {
            match sender.store.claim_due_deliveries(now, room, LEASE_MS).await {
                Ok((due, next_due)) => {
                    for delivery in due {
                        in_flight.spawn(send_and_record(sender.clone(), delivery));
                    }
                    if let Some(at) = next_due {
                        let until = Duration::from_millis(u64::try_from(at - now).unwrap_or(0));
                        wait = wait.min(until.clamp(MIN_WAIT, IDLE_POLL));
                    }
                }
                Err(err) => {
                    tracing::error!(
                        error = format!("{err:#}"),
                        "claiming webhook deliveries failed"
                    );
                    wait = ERROR_PAUSE;
                }
            }
        }
        tokio::select! {
            // A send or a dropped handle both end the loop.
            _ = &mut stopped => break,
            () = wakeups.of(Channel::Webhooks).notified() => {}
            Some(done) = in_flight.join_next(), if !in_flight.is_empty() => {
                if let Err(err) = done {
                    tracing::error!(error = %err, "a webhook send ended abnormally");
                }
            }
            () = tokio::time::sleep(wait) => {}
        }
    }
    let drain = async { while in_flight.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, drain).await;
    in_flight.shutdown().await;
}

async fn send_and_record(sender: Arc<Sender>, delivery: DueDelivery) {
    let attempted_at_ms = sender.clock.now_ms();
    let started = Instant::now();
    let outcome = send(&sender, &delivery, attempted_at_ms).await;
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let (status_code, error) = match outcome {
        Ok(code) if (200..300).contains(&code) => (Some(code), None),
        Ok(code) => (
            Some(code),
            Some(format!("the receiver answered HTTP {code}")),
        ),
        Err(error) => (None, Some(error)),
    };
    let now = sender.clock.now_ms();
    let next = if error.is_none() {
        NextStep::Succeeded
    } else if delivery.attempt >= MAX_ATTEMPTS {
        NextStep::GiveUp
    } else {
        NextStep::RetryAt(
            now.saturating_add(retry_delay_ms(sender.retry_base_ms, delivery.attempt)),
        )
    };
    sender.metrics.record_webhook_attempt(match next {
        NextStep::Succeeded => AttemptResult::Succeeded,
        NextStep::GiveUp => AttemptResult::GaveUp,
        NextStep::RetryAt(_) => AttemptResult::Retrying,
    });
    let record = AttemptRecord {
        status_code,
        duration_ms,
        error,
        attempted_at_ms,
    };
    match sender
        .store
        .record_attempt(
            &delivery,
            &record,
            next,
            DISABLE_AFTER_FAILED_DELIVERIES,
            now,
        )
        .await
    {
        Ok(true) => tracing::warn!(
            webhook = %delivery.webhook_id,
            "webhook disabled after {DISABLE_AFTER_FAILED_DELIVERIES} failed deliveries in a row"
        ),
        Ok(false) => {}
        // The lease runs out and the delivery is tried again.
        Err(err) => tracing::error!(
            delivery = %delivery.id,
            error = format!("{err:#}"),
            "recording a webhook attempt failed"
        ),
    }
}

/// One POST; the receiver's status, or why there is none.
async fn send(sender: &Sender, delivery: &DueDelivery, now_ms: i64) -> Result<u16, String> {
    // Checked at every attempt: the policy may have changed since the webhook was made.
    let (url, _) = check_url_literal(&delivery.url, Destination::Webhook, sender.allow_private)
        .map_err(|message| format!("url {message}"))?;
    let event = event_body(
        &delivery.event_id,
        &delivery.event_type,
        delivery.event_created_at_ms,
        &delivery.data,
    )
    .map_err(|err| format!("the stored event is not JSON: {err}"))?;
    let body = serde_json::to_vec(&event).map_err(|err| err.to_string())?;
    let timestamp = now_ms.div_euclid(1000);
    let signature = signature(&delivery.secret, timestamp, &body);
    let response = sender
        .client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(EVENT_HEADER, &delivery.event_type)
        .header(DELIVERY_HEADER, &delivery.id)
        .header(SIGNATURE_HEADER, format!("t={timestamp},v1={signature}"))
        .body(body)
        .send()
        .await
        .map_err(|err| describe(&err))?;
    Ok(response.status().as_u16())
}

/// The error and its causes on one line, e.g. "error sending request: …: connection refused".
fn describe(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        return format!("no answer within {} s", SEND_TIMEOUT.as_secs());
    }
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially() {
        assert_eq!(retry_delay_ms(10_000, 1), 10_000);
        assert_eq!(retry_delay_ms(10_000, 2), 20_000);
        assert_eq!(retry_delay_ms(10_000, 5), 160_000);
    }

    #[test]
    fn signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Computed independently with Python's hmac module.
        let sig = signature("whsec_test", 1_700_000_000, b"{}");
        assert_eq!(
            sig,
            "35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91"
        );
        assert_ne!(sig, signature("whsec_test", 1_700_000_001, b"{}"));
        assert_ne!(sig, signature("whsec_other", 1_700_000_000, b"{}"));
    }
}
