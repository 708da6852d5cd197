//! Webhooks: subscriptions to the account's events, the deliveries made to them, and the
//! event body a receiver gets.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Every event a webhook can subscribe to. `prompt.updated` and `prompt.deleted` are the
/// older names of `agent.updated` and `agent.deleted`, delivered under the name subscribed to.
pub const WEBHOOK_EVENTS: [&str; 11] = [
    "conversation.created",
    "insights.generated",
    "optimization.started",
    "optimization.completed",
    "optimization.stopped",
    "optimization.failed",
    "agent.updated",
    "agent.deleted",
    "benchmark.completed",
    "prompt.updated",
    "prompt.deleted",
];

/// The older name an event is also delivered under, if it has one.
pub fn legacy_event_name(event: &str) -> Option<&'static str> {
    match event {
        "agent.updated" => Some("prompt.updated"),
        "agent.deleted" => Some("prompt.deleted"),
        _ => None,
    }
}

/// Header naming the event type of a delivery.
pub const EVENT_HEADER: &str = "X-Converra-Event";
/// Header carrying the delivery id (`dlv_…`); a redelivery has a new one.
pub const DELIVERY_HEADER: &str = "X-Converra-Delivery";
/// Header `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed by the secret>`.
pub const SIGNATURE_HEADER: &str = "X-Converra-Signature";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum WebhookStatus {
    Active,
    /// Turned off after repeated failed deliveries; it receives nothing more.
    Disabled,
}

impl WebhookStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookStatus::Active => "active",
            WebhookStatus::Disabled => "disabled",
        }
    }
}

impl std::str::FromStr for WebhookStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "active" => Ok(WebhookStatus::Active),
            "disabled" => Ok(WebhookStatus::Disabled),
            other => Err(format!("unknown webhook status '{other}'")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    pub status: WebhookStatus,
    pub created_at: String,
}

/// The answer to `POST /webhooks`: the webhook and its signing secret, shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// `whsec_…`: the key of each delivery's `X-Converra-Signature`.
    pub secret: String,
}

/// `POST /webhooks`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateWebhook {
    /// `https://…` on a public address.
    pub url: String,
    /// One or more of [`WEBHOOK_EVENTS`].
    pub events: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeletedWebhook {
    pub id: String,
    pub deleted: bool,
}

/// The answer to `DELETE /webhooks/:id`: `data` plus the documented `success` and `message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WebhookDeleteResponse {
    pub data: DeletedWebhook,
    pub success: bool,
    pub message: String,
}

impl WebhookDeleteResponse {
    pub fn new(id: String) -> Self {
        WebhookDeleteResponse {
            data: DeletedWebhook { id, deleted: true },
            success: true,
            message: "Webhook deleted".to_owned(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Not yet answered with a 2xx; retried until it is or the attempts run out.
    Pending,
    Succeeded,
    /// Every attempt failed, or the webhook was disabled first.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Failed => "failed",
        }
    }
}

impl std::str::FromStr for DeliveryStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pending" => Ok(DeliveryStatus::Pending),
            "succeeded" => Ok(DeliveryStatus::Succeeded),
            "failed" => Ok(DeliveryStatus::Failed),
            other => Err(format!("unknown delivery status '{other}'")),
        }
    }
}

/// One POST of a delivery to the webhook's URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeliveryAttempt {
    /// 1 for the first try.
    pub attempt: u32,
    pub event: String,
    /// The receiver's HTTP status; absent when none came back (timeout, refused address).
    pub status_code: Option<u16>,
    pub duration_ms: u64,
    pub error: Option<String>,
    pub attempted_at: String,
}

/// One event sent to one webhook, with every attempt, oldest first. The last attempt's
/// fields are repeated at the top for a quick look.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WebhookDelivery {
    /// `dlv_…`, sent as `X-Converra-Delivery`.
    pub id: String,
    pub webhook_id: String,
    /// `evt_…`: the same for a redelivery of the same event.
    pub event_id: String,
    /// The event type as sent (the name subscribed to).
    pub event: String,
    pub status: DeliveryStatus,
    pub attempt_count: u32,
    pub status_code: Option<u16>,
    pub duration_ms: Option<u64>,
    pub error: Option<String>,
    pub attempted_at: Option<String>,
    /// When the next attempt is due, while `pending`.
    pub next_attempt_at: Option<String>,
    /// The delivery this one repeats, for a redelivery.
    pub redelivery_of: Option<String>,
    pub created_at: String,
    pub attempts: Vec<DeliveryAttempt>,
}

/// The JSON body POSTed to a webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WebhookEvent {
    /// `evt_…`.
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub created_at: String,
    pub data: Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_webhook_carries_the_secret_beside_the_webhook_fields() {
        let created = CreatedWebhook {
            webhook: Webhook {
                id: "wh_1".into(),
                url: "https://example.com/hook".into(),
                events: vec!["conversation.created".into()],
                description: None,
                status: WebhookStatus::Active,
                created_at: "2026-11-28T00:00:00.000Z".into(),
            },
            secret: "whsec_x".into(),
        };
        let v = serde_json::to_value(&created).unwrap();
        assert_eq!(v["id"], "wh_1");
        assert_eq!(v["secret"], "whsec_x");
        assert_eq!(v["status"], "active");
        assert_eq!(v["createdAt"], "2026-11-28T00:00:00.000Z");
    }

    #[test]
    fn older_event_names_map_to_the_agent_events() {
        assert_eq!(legacy_event_name("agent.updated"), Some("prompt.updated"));
        assert_eq!(legacy_event_name("conversation.created"), None);
        for name in WEBHOOK_EVENTS {
            assert!(name.contains('.'));
        }
    }
}
