//! Reading insights: the typed not-ready lifecycle and the ready analysis, the metrics
//! against their benchmark, and the ready view showing every field with working links to
//! the transcript's messages.
#![cfg(target_arch = "wasm32")]

use converra_api::conversations::InsightsStatus;
use converra_api::insights::{ConversationInsightsState, Metric};
use converra_dashboard::components::conversation_insights::{
    failed_step_count, format_score, is_pending, lifecycle_explanation, metric_readings,
    signed_score, InsightsLifecycle, InsightsReadyView,
};
use leptos::prelude::*;
use serde_json::json;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

fn metric(value: f64, benchmark: Option<f64>) -> serde_json::Value {
    match benchmark {
        Some(b) => json!({"value": value, "benchmark": b}),
        None => json!({"value": value}),
    }
}

/// A whole ready answer, as the server sends it.
fn ready_json() -> serde_json::Value {
    json!({
        "id": "ins_1", "conversationId": "conv_1",
        "title": "Refund stalled",
        "executiveSummary": "Not completed: the refund tool failed.",
        "summary": "The refund failed twice.",
        "userFacingSummary": "Your refund is not done yet.",
        "topIssues": [{"title": "Tool failed", "description": "refund errored", "severity": "high", "messageIndexes": [2, 4]}],
        "additionalConcerns": ["Long waits"],
        "nextSteps": ["Retry the refund", "Escalate"],
        "keywords": ["refund"], "topics": ["billing"],
        "sentiment": "negative", "sentimentScore": 0.2, "taskCompleted": false,
        "businessImpact": "A repeat contact is likely.",
        "stepDiagnosis": {"steps": [
            {"name": "issue_refund", "status": "failed", "error": "gateway 502", "messageIndex": 2, "rootCause": "tool_issue"},
            {"name": "turn:2", "status": "ok", "messageIndex": 3}
        ]},
        "metrics": {
            "gatedScore": 40.0, "qualityScore": 61.25, "objectiveMultiplier": 1.0,
            "successScore": metric(30.0, Some(70.0)), "aiRelevancy": metric(80.0, Some(75.5)),
            "sentiment": metric(20.0, None), "hallucinationScore": metric(100.0, Some(90.0)),
            "repetitionScore": metric(100.0, Some(97.0)), "consistencyScore": metric(100.0, Some(100.0)),
            "naturalLanguageScore": metric(95.0, Some(99.0)), "contextRetentionScore": metric(100.0, Some(98.0)),
            "verbosityScore": metric(90.0, Some(95.0)), "taskCompletion": metric(30.0, Some(76.0)),
            "clarity": metric(85.0, Some(95.8))
        },
        "engine": "offline",
        "createdAt": "2026-11-28T10:00:00.000Z", "updatedAt": "2026-11-28T10:05:00.000Z"
    })
}

fn parse(value: serde_json::Value) -> ConversationInsightsState {
    serde_json::from_value(value).unwrap()
}

#[wasm_bindgen_test]
fn the_not_ready_shape_is_told_from_the_ready_one() {
    let failed = parse(json!({
        "conversationId": "conv_1", "status": "failed", "code": "MODEL_TIMEOUT",
        "reason": "model timeout", "retryCount": 3, "nextRetryAt": "2026-11-28T10:00:00Z"
    }));
    match &failed {
        ConversationInsightsState::Unavailable(n) => {
            assert_eq!(n.status, InsightsStatus::Failed);
            assert_eq!(n.code.as_deref(), Some("MODEL_TIMEOUT"));
            assert_eq!(n.reason.as_deref(), Some("model timeout"));
            assert_eq!(n.retry_count, Some(3));
        }
        other => panic!("{other:?}"),
    }
    assert!(!is_pending(&failed));
    let pending = parse(json!({"conversationId": "conv_1", "status": "pending"}));
    assert!(is_pending(&pending));
    let ready = parse(ready_json());
    assert!(matches!(ready, ConversationInsightsState::Ready(_)));
    assert!(!is_pending(&ready));
}

#[wasm_bindgen_test]
fn metrics_read_against_their_benchmark() {
    let ConversationInsightsState::Ready(ready) = parse(ready_json()) else {
        panic!("not ready");
    };
    let readings = metric_readings(&ready.metrics);
    assert_eq!(readings.len(), 11);
    assert_eq!(readings[0].metric, Metric::SuccessScore);
    assert_eq!(readings[0].difference(), Some(-40.0));
    assert!(readings[0].below_benchmark());
    assert!(!readings[1].below_benchmark());
    // No benchmark: nothing to be below.
    assert_eq!(readings[2].benchmark, None);
    assert!(!readings[2].below_benchmark());
    assert_eq!(readings[10].metric, Metric::Clarity);
    assert_eq!(failed_step_count(ready.step_diagnosis.as_ref().unwrap()), 1);
}

#[wasm_bindgen_test]
fn scores_show_one_decimal_at_most() {
    assert_eq!(format_score(61.25), "61.3");
    assert_eq!(format_score(40.0), "40");
    assert_eq!(format_score(99.96), "100");
    assert_eq!(signed_score(4.24), "+4.2");
    assert_eq!(signed_score(-12.0), "-12");
    assert_eq!(signed_score(-0.01), "0");
    assert_eq!(signed_score(0.0), "0");
}

#[wasm_bindgen_test]
fn every_status_has_an_explanation() {
    for status in [
        InsightsStatus::Pending,
        InsightsStatus::Skipped,
        InsightsStatus::Failed,
        InsightsStatus::Ready,
    ] {
        assert!(!lifecycle_explanation(status).is_empty());
    }
}

fn mount(view: impl FnOnce() -> AnyView + 'static) -> web_sys::HtmlElement {
    let document = document();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    leptos::mount::mount_to(host.clone(), view).forget();
    host
}

#[wasm_bindgen_test]
async fn the_ready_view_shows_every_field_and_links_to_messages() {
    let ConversationInsightsState::Ready(ready) = parse(ready_json()) else {
        panic!("not ready");
    };
    let focus = RwSignal::new(None::<usize>);
    let host = mount(move || view! { <InsightsReadyView insights=*ready focus/> }.into_any());
    leptos::task::tick().await;
    let text = host.text_content().unwrap();
    for expected in [
        "Refund stalled",
        "Not completed: the refund tool failed.",
        "The refund failed twice.",
        "Your refund is not done yet.",
        "61.3",
        "Gated score",
        "Negative (0.20 on 0–1)",
        "Task completed",
        "A repeat contact is likely.",
        "Tool failed",
        "Long waits",
        "Retry the refund",
        "refund",
        "billing",
        "issue_refund",
        "gateway 502",
        "Tool",
        "1 of 2 steps failed.",
        "30 (fleet 70)",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in {text}");
    }
    assert_eq!(host.query_selector_all("li.metric").unwrap().length(), 11);
    assert_eq!(
        host.query_selector_all("li.metric.below-benchmark")
            .unwrap()
            .length(),
        5
    );
    // The message links are anchors to the transcript; a click asks to reveal it.
    let link: web_sys::HtmlElement = host
        .query_selector("[data-testid=top-issues] a.message-link")
        .unwrap()
        .unwrap()
        .unchecked_into();
    assert_eq!(link.get_attribute("href").as_deref(), Some("#msg-2"));
    link.click();
    leptos::task::tick().await;
    assert_eq!(focus.get_untracked(), Some(2));
    let steps = host
        .query_selector_all("[data-testid=step-diagnosis] tbody tr")
        .unwrap();
    assert_eq!(steps.length(), 2);
    host.remove();
}

#[wasm_bindgen_test]
async fn a_failed_lifecycle_shows_code_reason_and_retries() {
    let ConversationInsightsState::Unavailable(not_ready) = parse(json!({
        "conversationId": "conv_1", "status": "failed", "message": "Insights failed after 3 attempts.",
        "code": "MODEL_TIMEOUT", "reason": "the model did not answer", "retryCount": 3,
        "nextRetryAt": "2026-11-28T10:00:00.000Z"
    })) else {
        panic!("ready");
    };
    let host = mount(move || view! { <InsightsLifecycle not_ready/> }.into_any());
    leptos::task::tick().await;
    let text = host.text_content().unwrap();
    for expected in [
        "failed",
        "Insights failed after 3 attempts.",
        "MODEL_TIMEOUT",
        "the model did not answer",
        "Retries",
        "3",
        "2026-11-28 10:00 UTC",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in {text}");
    }
    host.remove();
}
