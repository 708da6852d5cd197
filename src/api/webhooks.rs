//! Webhooks: `GET`/`POST /webhooks`, `DELETE /webhooks/:id`, and the deliveries of one.

use converra_api::webhooks::{
    CreateWebhook, CreatedWebhook, Webhook, WebhookDeleteResponse, WebhookDelivery,
};
use converra_api::{Data, List};

use super::{ApiClient, ClientError};

/// An id as one path segment, so an odd id can never reach another endpoint.
fn segment(id: &str) -> String {
    String::from(web_sys::js_sys::encode_uri_component(id))
}

/// The account's webhooks, newest first (up to 100: the most one page holds).
pub async fn list_webhooks(client: &ApiClient) -> Result<List<Webhook>, ClientError> {
    client.get("/webhooks?limit=100").await
}

/// Registers a webhook; the answer's `secret` is shown this once.
pub async fn create_webhook(
    client: &ApiClient,
    webhook: &CreateWebhook,
) -> Result<CreatedWebhook, ClientError> {
    client
        .post::<Data<CreatedWebhook>>("/webhooks", webhook)
        .await
        .map(|d| d.data)
}

pub async fn delete_webhook(
    client: &ApiClient,
    id: &str,
) -> Result<WebhookDeleteResponse, ClientError> {
    client.delete(&format!("/webhooks/{}", segment(id))).await
}

/// The webhook's deliveries, newest first, each with every attempt.
pub async fn list_deliveries(
    client: &ApiClient,
    webhook_id: &str,
) -> Result<List<WebhookDelivery>, ClientError> {
    client
        .get(&format!(
            "/webhooks/{}/deliveries?limit=100",
            segment(webhook_id)
        ))
        .await
}

/// Sends a finished delivery's event again; answers the new delivery (queued).
pub async fn redeliver(
    client: &ApiClient,
    webhook_id: &str,
    delivery_id: &str,
) -> Result<WebhookDelivery, ClientError> {
    client
        .post::<Data<WebhookDelivery>>(
            &format!(
                "/webhooks/{}/deliveries/{}/redeliver",
                segment(webhook_id),
                segment(delivery_id)
            ),
            &serde_json::json!({}),
        )
        .await
        .map(|d| d.data)
}

/// Sends a `webhook.test` event to this webhook alone; answers the new delivery (queued).
pub async fn send_test_event(
    client: &ApiClient,
    webhook_id: &str,
) -> Result<WebhookDelivery, ClientError> {
    client
        .post::<Data<WebhookDelivery>>(
            &format!("/webhooks/{}/test", segment(webhook_id)),
            &serde_json::json!({}),
        )
        .await
        .map(|d| d.data)
}
