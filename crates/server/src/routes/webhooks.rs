//! Webhooks: register, list, delete, and look at or repeat their deliveries.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use converra_api::webhooks::{
    CreateWebhook, CreatedWebhook, Webhook, WebhookDeleteResponse, WebhookDelivery, WEBHOOK_EVENTS,
};
use converra_api::{Data, FieldError, List, Paging};

use crate::auth::Caller;
use crate::egress::{check_url, Destination};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery};
use crate::limits::ensure_webhook_limit;
use crate::state::AppState;
use crate::store::notify::Channel;
use crate::store::paging::PageRequest;
use crate::store::webhooks::{insert_webhook, NewWebhook, Redelivery, TestDelivery};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks", get(list_webhooks).post(create_webhook))
        .route("/webhooks/{id}", delete(delete_webhook))
        .route("/webhooks/{id}/deliveries", get(list_deliveries))
        .route(
            "/webhooks/{id}/deliveries/{delivery_id}/redeliver",
            post(redeliver),
        )
        .route("/webhooks/{id}/test", post(send_test_event))
}

const MAX_URL_CHARS: usize = 2_048;
/// Why nothing more is sent to a disabled webhook.
const DISABLED: &str =
    "This webhook was disabled after repeated failed deliveries; create a new one to receive events again";
const MAX_DESCRIPTION_CHARS: usize = 500;

async fn validate_create(input: CreateWebhook, allow_private: bool) -> ApiResult<NewWebhook> {
    let mut fields = Vec::new();
    let mut fail = |field: String, message: String| fields.push(FieldError { field, message });
    let url = input.url.trim().to_owned();
    if url.is_empty() {
        fail("url".into(), "must not be empty".into());
    } else if url.chars().count() > MAX_URL_CHARS {
        fail(
            "url".into(),
            format!("must be at most {MAX_URL_CHARS} characters"),
        );
    } else if let Err(message) = check_url(&url, Destination::Webhook, allow_private).await {
        fail("url".into(), message);
    }
    if input.events.is_empty() {
        fail("events".into(), "must name at least one event".into());
    }
    let mut events: Vec<String> = Vec::new();
    for (i, event) in input.events.iter().enumerate() {
        if !WEBHOOK_EVENTS.contains(&event.as_str()) {
            fail(
                format!("events[{i}]"),
                format!(
                    "is not a webhook event; expected one of: {}",
                    WEBHOOK_EVENTS.join(", ")
                ),
            );
        } else if !events.contains(event) {
            events.push(event.clone());
        }
    }
    let description = input
        .description
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty());
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS)
    {
        fail(
            "description".into(),
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        );
    }
    if !fields.is_empty() {
        return Err(ApiError::validation(fields));
    }
    Ok(NewWebhook {
        url,
        events,
        description,
    })
}

/// The account's webhooks, newest first. Secrets are never listed.
#[utoipa::path(get, path = "/webhooks", tag = "webhooks", params(Paging),
    responses((status = 200, body = List<Webhook>), (status = 400, body = converra_api::ErrorBody)))]
pub async fn list_webhooks(
    State(state): State<AppState>,
    Caller(account): Caller,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Json<List<Webhook>>> {
    let page = PageRequest::from_query(&paging, Paging::DEFAULT_LIMIT)?;
    let (data, pagination) = state.store.list_webhooks(&account.id, &page).await?;
    Ok(Json(List { data, pagination }))
}

/// Registers a webhook, at most 20 per account (403 `LIMIT_EXCEEDED` past that). The answer
/// carries its signing secret, which is never shown again.
#[utoipa::path(post, path = "/webhooks", tag = "webhooks", request_body = CreateWebhook,
    responses((status = 201, body = Data<CreatedWebhook>), (status = 400, body = converra_api::ErrorBody),
        (status = 403, body = converra_api::ErrorBody), (status = 415, body = converra_api::ErrorBody)))]
pub async fn create_webhook(
    State(state): State<AppState>,
    Caller(account): Caller,
    ApiJson(input): ApiJson<CreateWebhook>,
) -> ApiResult<(StatusCode, Json<Data<CreatedWebhook>>)> {
    let new = validate_create(input, state.config.allow_private_network).await?;
    let mut tx = state.store.begin_write().await?;
    ensure_webhook_limit(&mut tx, &account).await?;
    let created = insert_webhook(&mut tx, &account.id, &new, state.clock.now_ms()).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(Data::new(created))))
}

/// Deletes a webhook and its delivery history; deliveries not yet sent are dropped.
#[utoipa::path(delete, path = "/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 200, body = WebhookDeleteResponse), (status = 404, body = converra_api::ErrorBody)))]
pub async fn delete_webhook(
    State(state): State<AppState>,
    Caller(account): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<WebhookDeleteResponse>> {
    if !state.store.delete_webhook(&account.id, &id).await? {
        return Err(ApiError::not_found("Webhook", &id));
    }
    Ok(Json(WebhookDeleteResponse::new(id)))
}

/// The webhook's deliveries, newest first, each with every attempt (status code,
/// duration, error, time).
#[utoipa::path(get, path = "/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path), Paging),
    responses((status = 200, body = List<WebhookDelivery>), (status = 404, body = converra_api::ErrorBody)))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    Caller(account): Caller,
    Path(id): Path<String>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Json<List<WebhookDelivery>>> {
    let page = PageRequest::from_query(&paging, Paging::DEFAULT_LIMIT)?;
    let (data, pagination) = state
        .store
        .webhook_deliveries(&account.id, &id, &page)
        .await?
        .ok_or_else(|| ApiError::not_found("Webhook", &id))?;
    Ok(Json(List { data, pagination }))
}

/// Sends a finished delivery's event again, as a new delivery with the same event id.
/// 409 while the delivery is still pending or when the webhook is disabled.
#[utoipa::path(post, path = "/webhooks/{id}/deliveries/{deliveryId}/redeliver", tag = "webhooks",
    params(("id" = String, Path), ("deliveryId" = String, Path)),
    responses((status = 202, body = Data<WebhookDelivery>), (status = 404, body = converra_api::ErrorBody),
        (status = 409, body = converra_api::ErrorBody)))]
pub async fn redeliver(
    State(state): State<AppState>,
    Caller(account): Caller,
    Path((id, delivery_id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<Data<WebhookDelivery>>)> {
    let now = state.clock.now_ms();
    match state
        .store
        .redeliver(&account.id, &id, &delivery_id, now)
        .await?
    {
        Redelivery::Queued(delivery) => {
            state.wake(Channel::Webhooks);
            Ok((StatusCode::ACCEPTED, Json(Data::new(*delivery))))
        }
        Redelivery::NotFound => Err(ApiError::not_found("Delivery", &delivery_id)),
        Redelivery::WebhookDisabled => Err(ApiError::conflict(DISABLED)),
        Redelivery::StillPending => Err(ApiError::conflict(
            "This delivery is still being attempted; redeliver it once it has succeeded or failed",
        )),
    }
}

/// Sends a `webhook.test` event to this webhook alone, whatever it subscribed to, so its
/// endpoint and signature check can be tried before a real event comes. 409 when the
/// webhook is disabled.
#[utoipa::path(post, path = "/webhooks/{id}/test", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 202, body = Data<WebhookDelivery>), (status = 404, body = converra_api::ErrorBody),
        (status = 409, body = converra_api::ErrorBody)))]
pub async fn send_test_event(
    State(state): State<AppState>,
    Caller(account): Caller,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<Data<WebhookDelivery>>)> {
    let now = state.clock.now_ms();
    match state.store.send_test_event(&account.id, &id, now).await? {
        TestDelivery::Queued(delivery) => {
            state.wake(Channel::Webhooks);
            Ok((StatusCode::ACCEPTED, Json(Data::new(*delivery))))
        }
        TestDelivery::NotFound => Err(ApiError::not_found("Webhook", &id)),
        TestDelivery::WebhookDisabled => Err(ApiError::conflict(DISABLED)),
    }
}
