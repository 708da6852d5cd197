//! A webhook's deliveries: a line saying when finished ones failed, an error repeated by the
//! next attempt shown once, and the body sent as it was sent.
#![cfg(target_arch = "wasm32")]

use converra_api::webhooks::{DeliveryAttempt, DeliveryStatus, WebhookDelivery, WebhookEvent};
use converra_dashboard::pages::webhook::{attempt_errors, delivery_health, payload_text};
use serde_json::json;
use wasm_bindgen_test::*;

fn attempt(n: u32, error: Option<&str>) -> DeliveryAttempt {
    DeliveryAttempt {
        attempt: n,
        event: "conversation.created".to_owned(),
        status_code: error.is_none().then_some(200),
        duration_ms: 40,
        error: error.map(str::to_owned),
        attempted_at: "2026-12-01T10:00:00.000Z".to_owned(),
    }
}

fn delivery(id: &str, status: DeliveryStatus, error: Option<&str>) -> WebhookDelivery {
    WebhookDelivery {
        id: id.to_owned(),
        webhook_id: "wh_1".to_owned(),
        event_id: format!("evt_{id}"),
        event: "conversation.created".to_owned(),
        status,
        attempt_count: 1,
        status_code: None,
        duration_ms: None,
        error: error.map(str::to_owned),
        attempted_at: None,
        next_attempt_at: None,
        redelivery_of: None,
        created_at: "2026-12-01T10:00:00.000Z".to_owned(),
        attempts: vec![],
        payload: WebhookEvent {
            id: format!("evt_{id}"),
            event_type: "conversation.created".to_owned(),
            created_at: "2026-12-01T10:00:00.000Z".to_owned(),
            data: json!({"conversationId": "conv_1"}),
        },
    }
}

#[wasm_bindgen_test]
fn failed_deliveries_are_counted_with_the_latest_error() {
    use DeliveryStatus::*;
    assert_eq!(delivery_health(&[]), None);
    assert_eq!(
        delivery_health(&[delivery("a", Succeeded, None), delivery("b", Pending, None)]),
        None
    );
    let all_failed = [
        delivery("new", Failed, Some("connection refused")),
        delivery("old", Failed, Some("HTTP 500")),
        delivery("waiting", Pending, None),
    ];
    assert_eq!(
        delivery_health(&all_failed).unwrap(),
        "All 2 finished deliveries shown failed. The latest error: connection refused. \
         Check that the endpoint is reachable and answers 2xx."
    );
    let some_failed = [
        delivery("a", Succeeded, None),
        delivery("b", Failed, Some("timed out after 10 s")),
    ];
    assert!(delivery_health(&some_failed)
        .unwrap()
        .starts_with("1 of the 2 finished deliveries shown failed."));
}

#[wasm_bindgen_test]
fn an_error_repeated_by_the_next_attempt_is_shown_once() {
    let attempts = [
        attempt(1, Some("HTTP 503")),
        attempt(2, Some("HTTP 503")),
        attempt(3, Some("timed out")),
        attempt(4, None),
        attempt(5, None),
    ];
    assert_eq!(
        attempt_errors(&attempts),
        [
            Some("HTTP 503".to_owned()),
            None,
            Some("timed out".to_owned()),
            Some("–".to_owned()),
            Some("–".to_owned()),
        ]
    );
}

#[wasm_bindgen_test]
fn the_payload_reads_as_the_body_sent_indented_in_the_order_sent() {
    let delivery = delivery("a", DeliveryStatus::Succeeded, None);
    let text = payload_text(&delivery.payload);
    assert_eq!(
        text,
        "{\n  \"id\": \"evt_a\",\n  \"type\": \"conversation.created\",\n  \
         \"createdAt\": \"2026-12-01T10:00:00.000Z\",\n  \"data\": {\n    \
         \"conversationId\": \"conv_1\"\n  }\n}"
    );
    let parsed: WebhookEvent = serde_json::from_str(&text).unwrap();
    assert_eq!(parsed, delivery.payload);
}
