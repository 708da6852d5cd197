//! Webhooks: subscriptions to the account's events, the deliveries made to them, and the
//! event body a receiver gets.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::agents::VersionSource;
use crate::benchmarks::BenchmarkResult;
use crate::conversations::ConversationStatus;
use crate::optimizations::{JobError, OptimizationMode, OptimizationResults};

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

/// The event `POST /webhooks/:id/test` sends to that one webhook, to check its endpoint and
/// signature handling. Not subscribable: no real event is ever sent under this name.
pub const TEST_EVENT: &str = "webhook.test";

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

/// `events`: one or more of [`WEBHOOK_EVENTS`].
#[cfg(feature = "openapi")]
fn events_schema() -> utoipa::openapi::Schema {
    crate::openapi::some_of_strings(&WEBHOOK_EVENTS)
}

/// `POST /webhooks`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateWebhook {
    /// `https://…` on a public address.
    pub url: String,
    /// One or more of [`WEBHOOK_EVENTS`].
    #[cfg_attr(feature = "openapi", schema(schema_with = events_schema))]
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
    /// The body POSTed to the webhook's URL (or to be POSTed, while none was attempted).
    pub payload: WebhookEvent,
}

/// The JSON body POSTed to a webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// The `data` of one webhook event: what the server queues and a receiver reads.
pub trait WebhookPayload: Serialize {
    /// The event's name, one of [`WEBHOOK_EVENTS`].
    const EVENT: &'static str;
}

/// `conversation.created`: a conversation was logged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ConversationCreated {
    pub conversation_id: String,
    pub agent_id: String,
    pub agent_name: String,
    pub status: ConversationStatus,
    pub message_count: u32,
    pub created_at: String,
}

impl WebhookPayload for ConversationCreated {
    const EVENT: &'static str = "conversation.created";
}

/// `insights.generated`: a conversation's insights are ready.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct InsightsGenerated {
    pub insights_id: String,
    pub conversation_id: String,
    pub agent_id: String,
    pub quality_score: f64,
    pub issue_count: usize,
    pub task_completed: bool,
    pub generated_at: String,
}

impl WebhookPayload for InsightsGenerated {
    const EVENT: &'static str = "insights.generated";
}

/// `optimization.started`: a queued optimization began its first phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OptimizationStarted {
    pub optimization_id: String,
    pub agent_id: String,
    pub agent_name: String,
    pub mode: OptimizationMode,
    pub variant_count: u32,
    pub started_at: String,
}

impl WebhookPayload for OptimizationStarted {
    const EVENT: &'static str = "optimization.started";
}

/// `optimization.completed`: an optimization finished with results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OptimizationCompleted {
    pub optimization_id: String,
    pub agent_id: String,
    pub agent_name: String,
    pub results: Option<OptimizationResults>,
    /// Milliseconds from start to completion.
    pub duration: i64,
    pub completed_at: String,
}

impl WebhookPayload for OptimizationCompleted {
    const EVENT: &'static str = "optimization.completed";
}

/// `optimization.stopped`: an optimization was stopped on request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OptimizationStopped {
    pub optimization_id: String,
    pub agent_id: String,
    pub reason: Option<String>,
    pub simulations_completed: u32,
    pub stopped_at: String,
}

impl WebhookPayload for OptimizationStopped {
    const EVENT: &'static str = "optimization.stopped";
}

/// `optimization.failed`: an optimization could not finish.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OptimizationFailed {
    pub optimization_id: String,
    pub agent_id: String,
    pub error: JobError,
    pub failed_at: String,
}

impl WebhookPayload for OptimizationFailed {
    const EVENT: &'static str = "optimization.failed";
}

/// `agent.updated` (and the older `prompt.updated`): an agent changed. One shape for every
/// change; `optimizationId` and `variantId` are null unless an optimization's variant was
/// applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AgentUpdated {
    pub agent_id: String,
    pub name: String,
    pub version: u32,
    /// What made the change: `manual` (an update through the API) or `optimization`.
    pub source: VersionSource,
    pub optimization_id: Option<String>,
    pub variant_id: Option<String>,
    pub updated_at: String,
}

impl WebhookPayload for AgentUpdated {
    const EVENT: &'static str = "agent.updated";
}

/// `agent.deleted` (and the older `prompt.deleted`): an agent was archived, which is how
/// one leaves (the API deletes none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AgentDeleted {
    pub agent_id: String,
    pub name: String,
    pub archived_at: String,
}

impl WebhookPayload for AgentDeleted {
    const EVENT: &'static str = "agent.deleted";
}

/// The `data` of [`TEST_EVENT`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WebhookTest {
    pub webhook_id: String,
    pub message: String,
}

/// `benchmark.completed`: a benchmark ran every arm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BenchmarkCompleted {
    pub benchmark_id: String,
    pub name: String,
    pub agent_ids: Vec<String>,
    pub winner: Option<String>,
    pub results: Vec<BenchmarkResult>,
    pub completed_at: String,
}

impl WebhookPayload for BenchmarkCompleted {
    const EVENT: &'static str = "benchmark.completed";
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

    #[test]
    fn agent_updated_has_one_shape_whatever_made_the_change() {
        let manual = AgentUpdated {
            agent_id: "agent_1".into(),
            name: "Support".into(),
            version: 2,
            source: VersionSource::Manual,
            optimization_id: None,
            variant_id: None,
            updated_at: "2026-11-28T00:00:00.000Z".into(),
        };
        let applied = AgentUpdated {
            source: VersionSource::Optimization,
            optimization_id: Some("opt_1".into()),
            variant_id: Some("var_1".into()),
            ..manual.clone()
        };
        let keys = |payload: &AgentUpdated| {
            let value = serde_json::to_value(payload).unwrap();
            let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
            keys.sort();
            keys
        };
        assert_eq!(keys(&manual), keys(&applied));
        let v = serde_json::to_value(&manual).unwrap();
        assert_eq!(v["source"], "manual");
        assert!(v["optimizationId"].is_null());
        assert_eq!(AgentUpdated::EVENT, "agent.updated");
    }
}
