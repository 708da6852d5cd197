//! Webhooks and their durable outbox: [`enqueue_event`] writes one row per event inside the
//! caller's transaction; the worker in `jobs::webhooks` fans each event out into one
//! delivery per subscribed webhook ([`Store::fan_out_events`]), claims due deliveries,
//! sends them and records each attempt here.

use anyhow::Context;
use converra_api::webhooks::WebhookPayload;
use converra_api::webhooks::{
    legacy_event_name, CreatedWebhook, DeliveryAttempt, DeliveryStatus, Webhook, WebhookDelivery,
    WebhookEvent, WebhookStatus, WebhookTest, TEST_EVENT, WEBHOOK_EVENTS,
};
use converra_api::Pagination;
use rand::distr::{Alphanumeric, SampleString};
use sqlx::{AnyConnection, Row};

use super::sql::lock_named;
use super::SqlBuilder;

use super::paging::{push_newest_first, PageRequest};
use super::Store;
use crate::clock::rfc3339;
use crate::ids::new_id;

/// A webhook as validated by the route, ready to insert.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
}

/// A delivery the worker has claimed: everything one attempt needs.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub account_id: String,
    pub id: String,
    pub webhook_id: String,
    pub url: String,
    pub secret: String,
    pub event_id: String,
    pub event_type: String,
    pub event_created_at_ms: i64,
    /// The event's `data`, as stored JSON text.
    pub data: String,
    /// The number of this attempt (1 for the first).
    pub attempt: u32,
}

/// What one attempt found.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub status_code: Option<u16>,
    pub duration_ms: u64,
    pub error: Option<String>,
    pub attempted_at_ms: i64,
}

/// Where a delivery goes after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    Succeeded,
    RetryAt(i64),
    GiveUp,
}

/// What `send_test_event` did.
pub enum TestDelivery {
    Queued(Box<WebhookDelivery>),
    NotFound,
    WebhookDisabled,
}

/// What `redeliver` did.
pub enum Redelivery {
    Queued(Box<WebhookDelivery>),
    NotFound,
    WebhookDisabled,
    StillPending,
}

/// Queues `payload` as [`enqueue_event`] does, serialized from its wire type.
pub async fn queue_event<P: WebhookPayload>(
    conn: &mut AnyConnection,
    account_id: &str,
    payload: &P,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let data = serde_json::to_value(payload)?;
    enqueue_event(conn, account_id, P::EVENT, data, now_ms).await
}

/// Queues `event_type` for the account's active webhooks subscribed to it (or to its older
/// name, under which it is then sent), inside the caller's transaction, so the event is
/// delivered exactly when the change that caused it commits. The request writes the event
/// alone, one row however many webhooks take it; the worker fans it out. Returns whether
/// any webhook takes it: then, after the commit, call `AppState::wake` so the worker sends
/// at once.
pub async fn enqueue_event(
    conn: &mut AnyConnection,
    account_id: &str,
    event_type: &str,
    data: serde_json::Value,
    now_ms: i64,
) -> anyhow::Result<bool> {
    anyhow::ensure!(
        WEBHOOK_EVENTS.contains(&event_type),
        "'{event_type}' is not a webhook event"
    );
    let subscriptions =
        sqlx::query("SELECT events FROM webhooks WHERE account_id = $1 AND status = 'active'")
            .bind(account_id)
            .fetch_all(&mut *conn)
            .await?;
    let mut taken = false;
    for row in &subscriptions {
        taken |= sent_as(event_type, &row.try_get::<String, _>("events")?)?.is_some();
    }
    if taken {
        insert_event(conn, account_id, event_type, &data, FanOut::Pending, now_ms).await?;
    }
    Ok(taken)
}

/// The name under which a webhook subscribed to `events` (its stored JSON array) receives
/// `event_type`: the current name when it subscribed to both, its older name when only to
/// that, none when to neither.
fn sent_as<'a>(event_type: &'a str, events: &str) -> anyhow::Result<Option<&'a str>> {
    let events: Vec<String> = serde_json::from_str(events)?;
    let subscribed = |name: &str| events.iter().any(|e| e == name);
    Ok(if subscribed(event_type) {
        Some(event_type)
    } else {
        legacy_event_name(event_type).filter(|old| subscribed(old))
    })
}

/// Whether an event's deliveries are still to be written by the worker.
enum FanOut {
    Pending,
    /// Its one delivery is written with it (a redelivery or a test event).
    Done,
}

async fn insert_event(
    conn: &mut AnyConnection,
    account_id: &str,
    event_type: &str,
    data: &serde_json::Value,
    fan_out: FanOut,
    now_ms: i64,
) -> anyhow::Result<String> {
    let event_id = new_id("evt");
    sqlx::query(
        "INSERT INTO webhook_events (id, account_id, type, data, created_at, fanned_out_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&event_id)
    .bind(account_id)
    .bind(event_type)
    .bind(serde_json::to_string(data)?)
    .bind(now_ms)
    .bind(match fan_out {
        FanOut::Pending => None,
        FanOut::Done => Some(now_ms),
    })
    .execute(&mut *conn)
    .await?;
    Ok(event_id)
}

/// The body POSTed for an event, as sent under `event_type` (the name subscribed to).
pub fn event_body(
    event_id: &str,
    event_type: &str,
    created_at_ms: i64,
    data: &str,
) -> serde_json::Result<WebhookEvent> {
    Ok(WebhookEvent {
        id: event_id.to_owned(),
        event_type: event_type.to_owned(),
        created_at: rfc3339(created_at_ms),
        data: serde_json::from_str(data)?,
    })
}

/// A delivery's columns with its event's, read `FROM webhook_deliveries d`.
const DELIVERY_WITH_EVENT: &str = "SELECT d.*, e.data AS event_data, e.created_at AS event_created_at \
     FROM webhook_deliveries d JOIN webhook_events e ON e.account_id = d.account_id AND e.id = d.event_id";

async fn delivery_in(
    conn: &mut AnyConnection,
    account_id: &str,
    id: &str,
) -> anyhow::Result<WebhookDelivery> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{DELIVERY_WITH_EVENT} WHERE d.account_id = $1 AND d.id = $2"
    )))
    .bind(account_id)
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    delivery_from_row(&row)
}

async fn insert_delivery(
    conn: &mut AnyConnection,
    account_id: &str,
    webhook_id: &str,
    event_id: &str,
    event_type: &str,
    redelivery_of: Option<&str>,
    now_ms: i64,
) -> anyhow::Result<String> {
    let id = new_id("dlv");
    sqlx::query(
        "INSERT INTO webhook_deliveries (account_id, id, webhook_id, event_id, event_type, status,
             attempt_count, next_attempt_at, redelivery_of, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $7, $6, $6)",
    )
    .bind(account_id)
    .bind(&id)
    .bind(webhook_id)
    .bind(event_id)
    .bind(event_type)
    .bind(now_ms)
    .bind(redelivery_of)
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// A new signing secret: `whsec_` and 32 random alphanumerics (190 bits).
fn new_secret() -> String {
    format!("whsec_{}", Alphanumeric.sample_string(&mut rand::rng(), 32))
}

fn webhook_from_row(row: &sqlx::any::AnyRow) -> anyhow::Result<Webhook> {
    Ok(Webhook {
        id: row.try_get("id")?,
        url: row.try_get("url")?,
        events: serde_json::from_str(&row.try_get::<String, _>("events")?)?,
        description: row.try_get("description")?,
        status: row
            .try_get::<String, _>("status")?
            .parse()
            .map_err(anyhow::Error::msg)?,
        created_at: rfc3339(row.try_get("created_at")?),
    })
}

fn delivery_from_row(row: &sqlx::any::AnyRow) -> anyhow::Result<WebhookDelivery> {
    let status: DeliveryStatus = row
        .try_get::<String, _>("status")?
        .parse()
        .map_err(anyhow::Error::msg)?;
    let next_attempt_at: Option<i64> = row.try_get("next_attempt_at")?;
    let event_id: String = row.try_get("event_id")?;
    let event: String = row.try_get("event_type")?;
    let payload = event_body(
        &event_id,
        &event,
        row.try_get("event_created_at")?,
        &row.try_get::<String, _>("event_data")?,
    )?;
    Ok(WebhookDelivery {
        id: row.try_get("id")?,
        webhook_id: row.try_get("webhook_id")?,
        event_id,
        event,
        status,
        attempt_count: u32::try_from(row.try_get::<i64, _>("attempt_count")?)?,
        status_code: None,
        duration_ms: None,
        error: None,
        attempted_at: None,
        next_attempt_at: next_attempt_at
            .filter(|_| status == DeliveryStatus::Pending)
            .map(rfc3339),
        redelivery_of: row.try_get("redelivery_of")?,
        created_at: rfc3339(row.try_get("created_at")?),
        attempts: Vec::new(),
        payload,
    })
}

/// Fills in each delivery's attempts, oldest first, and the last one's summary fields.
async fn attach_attempts(
    conn: &mut AnyConnection,
    account_id: &str,
    deliveries: &mut [WebhookDelivery],
) -> anyhow::Result<()> {
    if deliveries.is_empty() {
        return Ok(());
    }
    let placeholders: Vec<String> = (2..=deliveries.len() + 1)
        .map(|i| format!("${i}"))
        .collect();
    // Only numbered placeholders are spliced in; every id is bound.
    let sql = format!(
        "SELECT delivery_id, attempt, status_code, duration_ms, error, attempted_at
         FROM webhook_attempts WHERE account_id = $1 AND delivery_id IN ({})
         ORDER BY delivery_id, attempt",
        placeholders.join(", ")
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(account_id.to_owned());
    for delivery in deliveries.iter() {
        query = query.bind(delivery.id.clone());
    }
    let rows = query.fetch_all(&mut *conn).await?;
    for row in rows {
        let delivery_id: String = row.try_get("delivery_id")?;
        let Some(delivery) = deliveries.iter_mut().find(|d| d.id == delivery_id) else {
            continue;
        };
        let attempt = DeliveryAttempt {
            attempt: u32::try_from(row.try_get::<i64, _>("attempt")?)?,
            event: delivery.event.clone(),
            status_code: row
                .try_get::<Option<i64>, _>("status_code")?
                .and_then(|c| u16::try_from(c).ok()),
            duration_ms: u64::try_from(row.try_get::<i64, _>("duration_ms")?).unwrap_or(0),
            error: row.try_get("error")?,
            attempted_at: rfc3339(row.try_get("attempted_at")?),
        };
        delivery.status_code = attempt.status_code;
        delivery.duration_ms = Some(attempt.duration_ms);
        delivery.error = attempt.error.clone();
        delivery.attempted_at = Some(attempt.attempted_at.clone());
        delivery.attempts.push(attempt);
    }
    Ok(())
}

/// Every webhook of the account, disabled ones included (they still take a place until
/// deleted).
pub async fn count_webhooks(conn: &mut AnyConnection, account_id: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM webhooks WHERE account_id = $1")
        .bind(account_id)
        .fetch_one(&mut *conn)
        .await
}

/// Inserts a webhook with a new secret inside the caller's transaction; the answer is the
/// only place the secret shows.
pub async fn insert_webhook(
    conn: &mut AnyConnection,
    account_id: &str,
    new: &NewWebhook,
    now_ms: i64,
) -> anyhow::Result<CreatedWebhook> {
    let id = new_id("wh");
    let secret = new_secret();
    sqlx::query(
        "INSERT INTO webhooks (id, account_id, url, events, description, secret, status,
             consecutive_failures, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'active', 0, $7, $7)",
    )
    .bind(&id)
    .bind(account_id)
    .bind(&new.url)
    .bind(serde_json::to_string(&new.events)?)
    .bind(&new.description)
    .bind(&secret)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    Ok(CreatedWebhook {
        webhook: Webhook {
            id,
            url: new.url.clone(),
            events: new.events.clone(),
            description: new.description.clone(),
            status: WebhookStatus::Active,
            created_at: rfc3339(now_ms),
        },
        secret,
    })
}

impl Store {
    /// Inserts a webhook with a new secret in a transaction of its own, without the
    /// per-account limit: for seeding (the demo), where the count is known.
    pub async fn create_webhook(
        &self,
        account_id: &str,
        new: &NewWebhook,
        now_ms: i64,
    ) -> anyhow::Result<CreatedWebhook> {
        let mut tx = self.begin_write().await?;
        let created = insert_webhook(&mut tx, account_id, new, now_ms).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// The account's webhooks, newest first.
    pub async fn list_webhooks(
        &self,
        account_id: &str,
        page: &PageRequest,
    ) -> anyhow::Result<(Vec<Webhook>, Pagination)> {
        let mut conn = self.pool().acquire().await?;
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhooks WHERE account_id = $1")
            .bind(account_id)
            .fetch_one(&mut *conn)
            .await?;
        let mut query = SqlBuilder::new("SELECT * FROM webhooks WHERE account_id = ");
        query.push_bind(account_id.to_owned());
        push_newest_first(&mut query, "webhooks", page);
        let rows = query.build().fetch_all(&mut *conn).await?;
        let mut keyed = rows
            .iter()
            .map(|row| Ok((row.try_get::<i64, _>("created_at")?, webhook_from_row(row)?)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let pagination = page.finish(&mut keyed, u64::try_from(total)?, |(at, w)| {
            (*at, w.id.clone())
        });
        Ok((keyed.into_iter().map(|(_, w)| w).collect(), pagination))
    }

    /// Deletes the account's webhook and its deliveries; false when it has none by that id.
    pub async fn delete_webhook(&self, account_id: &str, id: &str) -> anyhow::Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM webhooks WHERE id = $1 AND account_id = $2")
            .bind(id)
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        // Events live as long as a delivery of them does.
        sqlx::query(
            "DELETE FROM webhook_events WHERE account_id = $1 AND NOT EXISTS
                 (SELECT 1 FROM webhook_deliveries d
                  WHERE d.account_id = webhook_events.account_id AND d.event_id = webhook_events.id)",
        )
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn webhook_status(
        conn: &mut AnyConnection,
        account_id: &str,
        webhook_id: &str,
    ) -> anyhow::Result<Option<WebhookStatus>> {
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM webhooks WHERE id = $1 AND account_id = $2")
                .bind(webhook_id)
                .bind(account_id)
                .fetch_optional(&mut *conn)
                .await?;
        status
            .map(|s| s.parse().map_err(anyhow::Error::msg))
            .transpose()
    }

    /// The webhook's deliveries, newest first, each with its attempts; `None` when the
    /// account has no webhook by that id.
    pub async fn webhook_deliveries(
        &self,
        account_id: &str,
        webhook_id: &str,
        page: &PageRequest,
    ) -> anyhow::Result<Option<(Vec<WebhookDelivery>, Pagination)>> {
        let mut conn = self.pool().acquire().await?;
        if Self::webhook_status(&mut conn, account_id, webhook_id)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE account_id = $1 AND webhook_id = $2",
        )
        .bind(account_id)
        .bind(webhook_id)
        .fetch_one(&mut *conn)
        .await?;
        let mut query = SqlBuilder::new(format!("{DELIVERY_WITH_EVENT} WHERE d.account_id = "));
        query
            .push_bind(account_id.to_owned())
            .push(" AND d.webhook_id = ")
            .push_bind(webhook_id.to_owned());
        push_newest_first(&mut query, "d", page);
        let rows = query.build().fetch_all(&mut *conn).await?;
        let mut keyed = rows
            .iter()
            .map(|row| {
                Ok((
                    row.try_get::<i64, _>("created_at")?,
                    delivery_from_row(row)?,
                ))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let pagination = page.finish(&mut keyed, u64::try_from(total)?, |(at, d)| {
            (*at, d.id.clone())
        });
        let mut deliveries: Vec<WebhookDelivery> = keyed.into_iter().map(|(_, d)| d).collect();
        attach_attempts(&mut conn, account_id, &mut deliveries).await?;
        Ok(Some((deliveries, pagination)))
    }

    /// Queues the event of a finished delivery again, as a new delivery (new id, same
    /// event id, so a receiver can tell it already has the event).
    pub async fn redeliver(
        &self,
        account_id: &str,
        webhook_id: &str,
        delivery_id: &str,
        now_ms: i64,
    ) -> anyhow::Result<Redelivery> {
        let mut tx = self.begin_write().await?;
        let Some(status) = Self::webhook_status(&mut tx, account_id, webhook_id).await? else {
            return Ok(Redelivery::NotFound);
        };
        let original = sqlx::query(
            "SELECT event_id, event_type, status FROM webhook_deliveries \
             WHERE account_id = $1 AND id = $2 AND webhook_id = $3",
        )
        .bind(account_id)
        .bind(delivery_id)
        .bind(webhook_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(original) = original else {
            return Ok(Redelivery::NotFound);
        };
        if status == WebhookStatus::Disabled {
            return Ok(Redelivery::WebhookDisabled);
        }
        if original.try_get::<String, _>("status")? == DeliveryStatus::Pending.as_str() {
            return Ok(Redelivery::StillPending);
        }
        let event_id: String = original.try_get("event_id")?;
        let event_type: String = original.try_get("event_type")?;
        let id = insert_delivery(
            &mut tx,
            account_id,
            webhook_id,
            &event_id,
            &event_type,
            Some(delivery_id),
            now_ms,
        )
        .await?;
        let delivery = delivery_in(&mut tx, account_id, &id).await?;
        tx.commit().await?;
        Ok(Redelivery::Queued(Box::new(delivery)))
    }

    /// Queues [`TEST_EVENT`] for this webhook alone, whatever it subscribed to.
    pub async fn send_test_event(
        &self,
        account_id: &str,
        webhook_id: &str,
        now_ms: i64,
    ) -> anyhow::Result<TestDelivery> {
        let mut tx = self.begin_write().await?;
        match Self::webhook_status(&mut tx, account_id, webhook_id).await? {
            None => return Ok(TestDelivery::NotFound),
            Some(WebhookStatus::Disabled) => return Ok(TestDelivery::WebhookDisabled),
            Some(WebhookStatus::Active) => {}
        }
        let data = serde_json::to_value(WebhookTest {
            webhook_id: webhook_id.to_owned(),
            message: "A test event sent from Converra to check this endpoint.".to_owned(),
        })?;
        let event_id =
            insert_event(&mut tx, account_id, TEST_EVENT, &data, FanOut::Done, now_ms).await?;
        let id = insert_delivery(
            &mut tx, account_id, webhook_id, &event_id, TEST_EVENT, None, now_ms,
        )
        .await?;
        let delivery = delivery_in(&mut tx, account_id, &id).await?;
        tx.commit().await?;
        Ok(TestDelivery::Queued(Box::new(delivery)))
    }

    /// Fans out up to `limit` queued events, oldest first: one delivery, due at once, per
    /// webhook of the event's account that is active, existed when the event happened, and
    /// subscribed to it. Returns how many events it fanned out (`limit` means more may wait).
    pub async fn fan_out_events(&self, now_ms: i64, limit: usize) -> anyhow::Result<usize> {
        let queued = "SELECT account_id, id, type, created_at FROM webhook_events \
             WHERE fanned_out_at IS NULL ORDER BY created_at, id LIMIT $1";
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // A read first, so that an idle worker never queues for the writer's turn.
        let any_queued = sqlx::query(queued)
            .bind(1_i64)
            .fetch_optional(self.pool())
            .await?;
        if any_queued.is_none() {
            return Ok(0);
        }
        let mut tx = self.begin_write().await?;
        // One worker at a time across instances, so an event is fanned out once.
        lock_named(&mut tx, "webhook-fan-out").await?;
        let events = sqlx::query(queued).bind(limit).fetch_all(&mut *tx).await?;
        for event in &events {
            let account_id: String = event.try_get("account_id")?;
            let event_id: String = event.try_get("id")?;
            let event_type: String = event.try_get("type")?;
            let hooks = sqlx::query(
                "SELECT id, events FROM webhooks \
                 WHERE account_id = $1 AND status = 'active' AND created_at <= $2",
            )
            .bind(&account_id)
            .bind(event.try_get::<i64, _>("created_at")?)
            .fetch_all(&mut *tx)
            .await?;
            for hook in &hooks {
                let events: String = hook.try_get("events")?;
                if let Some(name) = sent_as(&event_type, &events)? {
                    let webhook_id: String = hook.try_get("id")?;
                    insert_delivery(
                        &mut tx,
                        &account_id,
                        &webhook_id,
                        &event_id,
                        name,
                        None,
                        now_ms,
                    )
                    .await?;
                }
            }
            sqlx::query(
                "UPDATE webhook_events SET fanned_out_at = $1 WHERE account_id = $2 AND id = $3",
            )
            .bind(now_ms)
            .bind(&account_id)
            .bind(&event_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(events.len())
    }

    /// Claims up to `limit` deliveries due at `now_ms`, pushing each one's next attempt out
    /// by `lease_ms` so that it is not claimed twice while in flight, and a crash mid-send
    /// retries it after the lease. Also returns when the next pending delivery falls due.
    pub async fn claim_due_deliveries(
        &self,
        now_ms: i64,
        limit: usize,
        lease_ms: i64,
    ) -> anyhow::Result<(Vec<DueDelivery>, Option<i64>)> {
        let due_query =
            "SELECT d.account_id, d.id, d.webhook_id, d.event_id, d.event_type, d.attempt_count,
                 w.url, w.secret, e.data, e.created_at AS event_created_at
             FROM webhook_deliveries d
             JOIN webhooks w ON w.account_id = d.account_id AND w.id = d.webhook_id
             JOIN webhook_events e ON e.account_id = d.account_id AND e.id = d.event_id
             WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND w.status = 'active'
             ORDER BY d.next_attempt_at, d.id LIMIT $2";
        let next_due_query = "SELECT MIN(d.next_attempt_at) FROM webhook_deliveries d
             JOIN webhooks w ON w.account_id = d.account_id AND w.id = d.webhook_id
             WHERE d.status = 'pending' AND w.status = 'active'";
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // A read first, so that an idle worker never queues for the writer's turn.
        let rows = sqlx::query(due_query)
            .bind(now_ms)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        if rows.is_empty() {
            let next_due: Option<i64> = sqlx::query_scalar(next_due_query)
                .fetch_one(self.pool())
                .await?;
            return Ok((Vec::new(), next_due));
        }
        let mut tx = self.begin_write().await?;
        lock_named(&mut tx, "webhook-deliveries").await?;
        let rows = sqlx::query(due_query)
            .bind(now_ms)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            let account_id: String = row.try_get("account_id")?;
            let id: String = row.try_get("id")?;
            sqlx::query(
                "UPDATE webhook_deliveries SET next_attempt_at = $1, updated_at = $2 \
                 WHERE account_id = $3 AND id = $4",
            )
            .bind(now_ms + lease_ms)
            .bind(now_ms)
            .bind(&account_id)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
            claimed.push(DueDelivery {
                account_id,
                id,
                webhook_id: row.try_get("webhook_id")?,
                url: row.try_get("url")?,
                secret: row.try_get("secret")?,
                event_id: row.try_get("event_id")?,
                event_type: row.try_get("event_type")?,
                event_created_at_ms: row.try_get("event_created_at")?,
                data: row.try_get("data")?,
                attempt: u32::try_from(row.try_get::<i64, _>("attempt_count")? + 1)?,
            });
        }
        let next_due: Option<i64> = sqlx::query_scalar(next_due_query)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((claimed, next_due))
    }

    /// Records one attempt of a claimed delivery and moves it on. A delivery that fails for
    /// good counts against its webhook; `disable_after` such failures in a row disable the
    /// webhook and fail its other pending deliveries. Returns true when this disabled it.
    pub async fn record_attempt(
        &self,
        delivery: &DueDelivery,
        record: &AttemptRecord,
        next: NextStep,
        disable_after: u32,
        now_ms: i64,
    ) -> anyhow::Result<bool> {
        let (status, next_attempt_at) = match next {
            NextStep::Succeeded => (DeliveryStatus::Succeeded, None),
            NextStep::RetryAt(at) => (DeliveryStatus::Pending, Some(at)),
            NextStep::GiveUp => (DeliveryStatus::Failed, None),
        };
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE webhook_deliveries SET status = $1, attempt_count = $2, next_attempt_at = $3,
                 updated_at = $4
             WHERE account_id = $5 AND id = $6 AND status = 'pending'",
        )
        .bind(status.as_str())
        .bind(i64::from(delivery.attempt))
        .bind(next_attempt_at)
        .bind(now_ms)
        .bind(&delivery.account_id)
        .bind(&delivery.id)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            // Deleted with its webhook, or failed when the webhook was disabled meanwhile.
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO webhook_attempts (account_id, delivery_id, attempt, status_code, duration_ms,
                 error, attempted_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&delivery.account_id)
        .bind(&delivery.id)
        .bind(i64::from(delivery.attempt))
        .bind(record.status_code.map(i64::from))
        .bind(i64::try_from(record.duration_ms).unwrap_or(i64::MAX))
        .bind(&record.error)
        .bind(record.attempted_at_ms)
        .execute(&mut *tx)
        .await?;
        let mut disabled = false;
        match next {
            NextStep::Succeeded => {
                sqlx::query(
                    "UPDATE webhooks SET consecutive_failures = 0, updated_at = $1 \
                     WHERE account_id = $2 AND id = $3",
                )
                .bind(now_ms)
                .bind(&delivery.account_id)
                .bind(&delivery.webhook_id)
                .execute(&mut *tx)
                .await?;
            }
            NextStep::GiveUp => {
                let failures: i64 = sqlx::query_scalar(
                    "UPDATE webhooks SET consecutive_failures = consecutive_failures + 1, updated_at = $1
                     WHERE account_id = $2 AND id = $3 RETURNING consecutive_failures",
                )
                .bind(now_ms)
                .bind(&delivery.account_id)
                .bind(&delivery.webhook_id)
                .fetch_one(&mut *tx)
                .await
                .context("counting a failed delivery against its webhook")?;
                if failures >= i64::from(disable_after) {
                    let done = sqlx::query(
                        "UPDATE webhooks SET status = 'disabled', updated_at = $1
                         WHERE account_id = $2 AND id = $3 AND status = 'active'",
                    )
                    .bind(now_ms)
                    .bind(&delivery.account_id)
                    .bind(&delivery.webhook_id)
                    .execute(&mut *tx)
                    .await?;
                    disabled = done.rows_affected() == 1;
                    sqlx::query(
                        "UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL,
                             updated_at = $1
                         WHERE account_id = $2 AND webhook_id = $3 AND status = 'pending'",
                    )
                    .bind(now_ms)
                    .bind(&delivery.account_id)
                    .bind(&delivery.webhook_id)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            NextStep::RetryAt(_) => {}
        }
        tx.commit().await?;
        Ok(disabled)
    }
}
