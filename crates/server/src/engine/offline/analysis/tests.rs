//! The offline analysis pinned on small transcripts, one behaviour per test.

use converra_api::conversations::{Message, Role, ToolCall};
use converra_api::insights::{Metric, Sentiment, Severity, StepStatus};
use serde_json::{json, Value};

use super::*;
use crate::engine::{ConversationAnalysis, DetectedIssue, IssueKind};

fn msg(role: Role, content: &str) -> Message {
    Message::new(role, content)
}

fn user(content: &str) -> Message {
    msg(Role::User, content)
}

fn bot(content: &str) -> Message {
    msg(Role::Assistant, content)
}

fn with_call(mut m: Message, name: &str, result: Option<Value>, error: Option<&str>) -> Message {
    m.tool_calls = Some(vec![ToolCall {
        id: None,
        name: name.to_owned(),
        arguments: json!({"orderId": "48213"}),
        result,
        error: error.map(str::to_owned),
        nested_trace: None,
    }]);
    m
}

fn kinds(a: &ConversationAnalysis) -> Vec<IssueKind> {
    a.issues.iter().map(|i| i.kind).collect()
}

fn issue(a: &ConversationAnalysis, kind: IssueKind) -> &DetectedIssue {
    a.issues
        .iter()
        .find(|i| i.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?} in {:?}", kinds(a)))
}

fn clean() -> Vec<Message> {
    vec![
        user("Hi, where is my order 48213? It was supposed to arrive yesterday."),
        with_call(
            bot("Your order 48213 shipped with DHL and is due on Thursday."),
            "lookup_order",
            Some(json!({"status": "shipped", "carrier": "DHL", "eta": "Thursday"})),
            None,
        ),
        user("Great, thanks, that solved it!"),
    ]
}

fn troubled() -> Vec<Message> {
    vec![
        user("Hi, where is my order 48213? It was supposed to arrive yesterday."),
        with_call(
            bot("Your order is on its way and will arrive within 2 business days."),
            "lookup_order",
            None,
            Some("upstream timeout after 30 s"),
        ),
        user("That's what you said last week. This is ridiculous!!"),
        bot("I apologize for the inconvenience. Your order is on its way."),
        user("Useless. Forget it."),
    ]
}

#[test]
fn same_input_same_analysis() {
    let a = analyze(&troubled(), Some("You are a support agent."));
    let b = analyze(&troubled(), Some("You are a support agent."));
    assert_eq!(a, b);
}

#[test]
fn a_failed_tool_and_a_frustrated_user_score_below_a_clean_conversation() {
    let good = analyze(&clean(), None);
    let bad = analyze(&troubled(), None);
    assert!(good.issues.is_empty(), "{:?}", good.issues);
    assert!(good.task_completed);
    assert_eq!(good.sentiment, Sentiment::Positive);
    assert!(!bad.task_completed);
    assert_eq!(bad.sentiment, Sentiment::Negative);
    assert!(
        bad.quality_score + 20.0 < good.quality_score,
        "{} vs {}",
        bad.quality_score,
        good.quality_score
    );
    assert!(bad.gated_score <= GATE_CAP);
    for metric in [
        Metric::SuccessScore,
        Metric::Sentiment,
        Metric::HallucinationScore,
        Metric::ConsistencyScore,
        Metric::TaskCompletion,
    ] {
        assert!(
            bad.metrics.get(metric) < good.metrics.get(metric),
            "{metric:?}: {} vs {}",
            bad.metrics.get(metric),
            good.metrics.get(metric)
        );
    }
    assert_eq!(issue(&bad, IssueKind::FailedToolCall).message_indexes, [1]);
    assert_eq!(issue(&bad, IssueKind::Frustration).message_indexes, [2, 4]);
    assert_eq!(issue(&bad, IssueKind::Frustration).severity, Severity::High);
    assert!(bad.business_impact.is_some() && good.business_impact.is_none());
    assert_eq!(bad.steps.len(), 1);
    assert_eq!(bad.steps[0].status, StepStatus::Failed);
    assert_eq!(bad.next_steps.len(), bad.issues.len());
}

#[test]
fn steps_match_diagnose_steps() {
    for messages in [clean(), troubled()] {
        assert_eq!(
            analyze(&messages, None).steps,
            steps::diagnose_steps(&messages)
        );
    }
}

#[test]
fn detects_a_refusal() {
    let a = analyze(
        &[
            user("Can I get a refund for order 48213?"),
            bot("I'm sorry, but I can't help with refunds."),
        ],
        None,
    );
    let found = issue(&a, IssueKind::Refusal);
    assert_eq!(found.message_indexes, [1]);
    assert_eq!(found.severity, Severity::High);
    assert_eq!(a.steps[0].name, "turn:1");
    // A failed lookup is not a refusal.
    let b = analyze(
        &[
            user("Where is order 48213?"),
            bot("I'm unable to find that order. Could you check the number?"),
        ],
        None,
    );
    assert!(!kinds(&b).contains(&IssueKind::Refusal), "{:?}", kinds(&b));
}

#[test]
fn detects_repeated_answers() {
    let same = "Please restart the app and clear the cache, then try the export again.";
    let a = analyze(
        &[
            user("Export crashes."),
            bot(same),
            user("Still crashes."),
            bot(same),
            user("Again?"),
        ],
        None,
    );
    assert_eq!(issue(&a, IssueKind::RepeatedAnswer).message_indexes, [3]);
    assert!(a.metrics.get(Metric::RepetitionScore) <= 70.0);
}

#[test]
fn detects_an_apology_loop_but_not_apologies_with_progress() {
    let a = analyze(
        &[
            user("My export fails."),
            bot("I'm sorry to hear that. Let me look into it."),
            user("And?"),
            bot("I apologize for the inconvenience. Let me look into it further."),
        ],
        None,
    );
    assert_eq!(issue(&a, IssueKind::ApologyLoop).message_indexes, [1, 3]);
    let b = analyze(
        &[
            user("My export fails."),
            bot("I'm sorry to hear that. Which version of the app are you on?"),
            user("4.2.1"),
            bot("Sorry for the trouble: version 4.2.1 has a known bug. Updating fixes it, or I can open a ticket."),
        ],
        None,
    );
    assert!(
        !kinds(&b).contains(&IssueKind::ApologyLoop),
        "{:?}",
        b.issues
    );
}

#[test]
fn detects_an_unanswered_question() {
    let a = analyze(
        &[
            user("How much does the Pro plan cost?"),
            bot("That's a great question! There are many factors involved."),
        ],
        None,
    );
    let found = issue(&a, IssueKind::UnansweredQuestion);
    assert_eq!(found.message_indexes, [0, 1]);
    assert!(a.metrics.get(Metric::AiRelevancy) < 1.0);
    let b = analyze(
        &[
            user("How much does the Pro plan cost?"),
            bot("The Pro plan is billed per seat; the pricing page lists the current cost."),
        ],
        None,
    );
    assert!(!kinds(&b).contains(&IssueKind::UnansweredQuestion));
    assert_eq!(b.metrics.get(Metric::AiRelevancy), 100.0);
}

#[test]
fn detects_a_request_for_a_human_and_whether_it_was_honoured() {
    let refused = analyze(
        &[
            user("I want to speak to a real person."),
            bot("I'm unable to transfer you, but I can help."),
            user("Get me a HUMAN now."),
            bot("I can help you here."),
        ],
        None,
    );
    let found = issue(&refused, IssueKind::HumanRequested);
    assert_eq!(found.message_indexes, [0, 2]);
    assert_eq!(found.severity, Severity::Critical);
    assert!(!refused.task_completed);
    let honoured = analyze(
        &[
            user("Can I talk to a human please?"),
            bot("Of course, I'm transferring you to a human colleague now."),
            user("Thank you!"),
        ],
        None,
    );
    assert_eq!(
        issue(&honoured, IssueKind::HumanRequested).severity,
        Severity::Low
    );
    assert!(honoured.task_completed);
}

#[test]
fn reads_sentiment_with_negation_and_shouting() {
    let a = analyze(
        &[
            user("This is NOT WORKING AT ALL"),
            bot("Sorry, which page?"),
            user("not helpful"),
        ],
        None,
    );
    assert_eq!(a.sentiment, Sentiment::Negative);
    assert_eq!(issue(&a, IssueKind::Frustration).message_indexes, [0]);
    let b = analyze(
        &[
            user("The app is slow."),
            bot("Restart it."),
            user("Thanks, great, works now!"),
        ],
        None,
    );
    assert_eq!(b.sentiment, Sentiment::Positive);
    assert!(b.sentiment_score > 0.6);
}

#[test]
fn detects_verbose_answers() {
    let long = "This is a long answer with many words that go on and on. ".repeat(12);
    let a = analyze(&[user("What time is it?"), bot(&long)], None);
    assert_eq!(issue(&a, IssueKind::Verbose).message_indexes, [1]);
    assert!(a.metrics.get(Metric::VerbosityScore) < 50.0);
}

#[test]
fn detects_missing_details() {
    let a = analyze(
        &[
            user("Where is my order?"),
            bot("Orders usually arrive soon, keep an eye on your inbox."),
        ],
        None,
    );
    assert_eq!(issue(&a, IssueKind::MissingDetails).message_indexes, [0, 1]);
    let b = analyze(
        &[
            user("Where is my order?"),
            bot("Could you share your order number?"),
        ],
        None,
    );
    assert!(!kinds(&b).contains(&IssueKind::MissingDetails));
    let c = analyze(&[user("Where is my order #A17?"), bot("It shipped.")], None);
    assert!(!kinds(&c).contains(&IssueKind::MissingDetails));
}

#[test]
fn detects_unsupported_claims_but_not_sourced_ones() {
    let a = analyze(
        &[
            user("When will my refund for order 48213 arrive?"),
            bot("Within 5 business days, guaranteed."),
        ],
        Some("You handle refunds."),
    );
    let found = issue(&a, IssueKind::UnsupportedClaim);
    assert_eq!(found.message_indexes, [1]);
    assert_eq!(found.severity, Severity::High);
    assert!(a.metrics.get(Metric::HallucinationScore) <= 65.0);
    let b = analyze(
        &[
            user("When will my refund for order 48213 arrive?"),
            bot("Refunds take 5 business days."),
        ],
        Some("Refunds take 5 business days."),
    );
    assert!(!kinds(&b).contains(&IssueKind::UnsupportedClaim));
    let c = analyze(
        &[user("Steps?"), bot("1. Open settings.\n2. Click export.")],
        None,
    );
    assert!(
        !kinds(&c).contains(&IssueKind::UnsupportedClaim),
        "{:?}",
        c.issues
    );
}

#[test]
fn topics_keywords_and_title() {
    let a = analyze(&clean(), None);
    assert_eq!(a.topics.first().map(String::as_str), Some("shipping"));
    assert!(a.keywords.contains(&"order".to_owned()), "{:?}", a.keywords);
    assert!(a.keywords.len() <= 8);
    assert_eq!(
        a.title,
        "Hi, where is my order 48213? It was supposed to arrive…"
    );
    assert!(a.title.chars().count() <= 60);
    let b = analyze(&[user("hello"), bot("hi")], None);
    assert_eq!(b.topics, ["other"]);
}

#[test]
fn odd_inputs_do_not_panic() {
    let huge = "ünïcödé ".repeat(50_000);
    let cases: Vec<Vec<Message>> = vec![
        vec![],
        vec![msg(Role::Tool, "{\"error\": \"boom\"}")],
        vec![msg(Role::System, "You are nice.")],
        vec![user(&huge), bot(&huge)],
        vec![
            user("¿Dónde está mi pedido? 🙂"),
            bot("Está en camino 🚚 1) ok"),
        ],
        vec![user(""), bot(""), user("   ")],
        vec![bot("Hello! How can I help?")],
    ];
    for messages in cases {
        let a = analyze(&messages, Some(&huge));
        for value in a.metrics.0 {
            assert!((0.0..=100.0).contains(&value), "{value}");
        }
        assert!(a.quality_score.is_finite() && (0.0..=1.0).contains(&a.sentiment_score));
        assert!(a.title.chars().count() <= 60);
    }
    let empty = analyze(&[], None);
    assert!(!empty.task_completed);
    assert!(empty.gated_score <= GATE_CAP);
}

#[test]
fn analysis_is_fast_enough_for_the_benchmark() {
    // A smoke test, not a timed assertion: prints the time per analysis.
    let mut messages = troubled();
    messages.extend(clean());
    messages.extend(troubled().into_iter().take(2));
    assert!(messages.len() >= 10);
    let rounds = 500;
    let start = std::time::Instant::now();
    let mut total = 0.0;
    for _ in 0..rounds {
        total += analyze(
            &messages,
            Some("You are a support agent for an online shop."),
        )
        .quality_score;
    }
    let per = start.elapsed() / rounds;
    eprintln!(
        "analyze: {per:?} per {}-message conversation",
        messages.len()
    );
    assert!(total > 0.0);
}

#[test]
fn a_prompt_that_forbids_guarantees_backs_none() {
    let transcript = [
        user("When will my refund for order 48213 arrive?"),
        bot("Your refund for order 48213 is guaranteed."),
    ];
    for prompt in [
        "You handle refunds. Never guarantee refund dates.",
        "You handle refunds. We cannot guarantee anything.",
    ] {
        let a = analyze(&transcript, Some(prompt));
        let found = issue(&a, IssueKind::UnsupportedClaim);
        assert_eq!(found.message_indexes, [1], "{prompt}");
        assert_eq!(found.severity, Severity::High, "{prompt}");
    }
    let backed = analyze(
        &transcript,
        Some("You handle refunds. We guarantee every refund for a returned order."),
    );
    assert!(!kinds(&backed).contains(&IssueKind::UnsupportedClaim));
}

#[test]
fn a_denied_guarantee_or_action_is_no_claim() {
    let a = analyze(
        &[
            user("Will my refund for order 48213 arrive by Friday?"),
            bot("I can't guarantee Friday, but refunds usually take a few days."),
        ],
        Some("You handle refunds."),
    );
    assert!(
        !kinds(&a).contains(&IssueKind::UnsupportedClaim),
        "{:?}",
        a.issues
    );
    let said = analyze(
        &[
            user("Cancel order 48213."),
            bot("Your order has been cancelled."),
        ],
        None,
    );
    let denied = analyze(
        &[
            user("Cancel order 48213."),
            bot("Nothing has been cancelled yet: I need your email first."),
        ],
        None,
    );
    let consistency = |a: &ConversationAnalysis| a.metrics.get(Metric::ConsistencyScore);
    assert!(consistency(&said) < consistency(&denied));
}
