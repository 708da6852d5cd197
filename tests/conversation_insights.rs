//! Reading insights: the not-ready lifecycle and the ready analysis, leniently.
#![cfg(target_arch = "wasm32")]

use converra_api::conversations::InsightsStatus;
use converra_api::insights::Metric;
use converra_dashboard::api::conversations::ConversationInsights;
use converra_dashboard::components::conversation_insights::{format_score, ReadyInsights};
use serde_json::json;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn the_not_ready_shape_is_told_from_the_ready_one() {
    let pending = ConversationInsights::from_value(json!({
        "conversationId": "conv_1", "status": "failed", "reason": "model timeout", "retryCount": 3
    }));
    match pending {
        ConversationInsights::NotReady(n) => {
            assert_eq!(n.status, InsightsStatus::Failed);
            assert_eq!(n.reason.as_deref(), Some("model timeout"));
            assert_eq!(n.retry_count, Some(3));
        }
        other => panic!("{other:?}"),
    }
    let ready =
        ConversationInsights::from_value(json!({"conversationId": "conv_1", "metrics": {}}));
    assert!(matches!(ready, ConversationInsights::Ready(_)));
}

#[wasm_bindgen_test]
fn ready_insights_are_read_field_by_field() {
    let insights = ReadyInsights::from_value(&json!({
        "title": "Refund stalled",
        "summary": "The refund failed.",
        "topIssues": [{"title": "Tool failed", "description": "refund errored", "severity": "high", "messageIndexes": [2, 4]}],
        "nextSteps": ["Retry the refund", {"title": "Escalate"}],
        "keywords": ["refund"],
        "stepDiagnosis": {"steps": [{"name": "refund", "status": "failed", "error": "down", "messageIndex": 2, "rootCause": "tool_issue"}]},
        "metrics": {
            "qualityScore": 61.25, "gatedScore": 40, "objectiveMultiplier": 1.1,
            "successScore": {"value": 30, "benchmark": 70},
            "clarity": {"value": 90}
        }
    }));
    assert_eq!(insights.title.as_deref(), Some("Refund stalled"));
    assert_eq!(insights.quality_score, Some(61.25));
    assert_eq!(insights.gated_score, Some(40.0));
    assert_eq!(insights.metrics.len(), 2);
    assert_eq!(insights.metrics[0].metric, Metric::SuccessScore);
    assert_eq!(insights.metrics[0].benchmark, Some(70.0));
    assert_eq!(insights.metrics[1].metric, Metric::Clarity);
    assert_eq!(insights.metrics[1].benchmark, None);
    assert_eq!(insights.top_issues[0].message_indexes, vec![2, 4]);
    assert_eq!(insights.top_issues[0].severity.as_deref(), Some("high"));
    assert_eq!(insights.next_steps, vec!["Retry the refund", "Escalate"]);
    assert!(insights.steps[0].failed);
    assert_eq!(insights.steps[0].message_index, Some(2));
    // Nothing at all is still a (blank) reading, not an error.
    assert_eq!(
        ReadyInsights::from_value(&json!({})),
        ReadyInsights::default()
    );
}

#[wasm_bindgen_test]
fn scores_show_one_decimal_at_most() {
    assert_eq!(format_score(61.25), "61.3");
    assert_eq!(format_score(40.0), "40");
    assert_eq!(format_score(99.96), "100");
}
