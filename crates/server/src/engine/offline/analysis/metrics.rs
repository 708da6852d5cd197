//! The 11 metrics, the sentiment and the objective multiplier of one conversation, each a
//! documented function of what the detectors counted (see [`super::analyze`]).

use converra_api::insights::{Metric, Sentiment, Severity};

use super::detectors::{shouts, Mood};
use super::{Findings, Outcome};
use crate::engine::reading::transcript::Transcript;
use crate::engine::{DetectedIssue, MetricScores};

/// The user's mood over the conversation, weighted by position (the i-th user message
/// weighs i, the last twice that): its label and its score mapped to 0..1.
pub(super) fn sentiment(moods: &[(usize, Mood)]) -> (Sentiment, f64) {
    let (mut weighted, mut weights) = (0.0, 0.0);
    for (k, (_, m)) in moods.iter().enumerate() {
        let w = (k + 1) as f64 * if k + 1 == moods.len() { 2.0 } else { 1.0 };
        weighted += w * m.score;
        weights += w;
    }
    let polarity = if weights > 0.0 {
        weighted / weights
    } else {
        0.0
    };
    let sentiment_score = ((polarity + 1.0) / 2.0).clamp(0.0, 1.0);
    let sentiment = if polarity > 0.15 {
        Sentiment::Positive
    } else if polarity < -0.15 {
        Sentiment::Negative
    } else {
        Sentiment::Neutral
    };
    (sentiment, sentiment_score)
}

/// The 11 metrics, 0..100 each.
pub(super) fn scores(
    t: &Transcript,
    f: &Findings,
    o: &Outcome,
    issues: &[DetectedIssue],
    sentiment_score: f64,
) -> MetricScores {
    let points: f64 = issues.iter().map(|i| severity_points(i.severity)).sum();
    let replies = t.replies.len();
    let mut metrics = MetricScores::default();
    let base = if o.task_completed { 100.0 } else { 40.0 };
    metrics.set(Metric::SuccessScore, round1(base - 4.0 * points));
    let relevancy = if f.turns.evaluated > 0 {
        100.0 * f.turns.relevant as f64 / f.turns.evaluated as f64
    } else if o.has_reply {
        100.0
    } else {
        0.0
    };
    metrics.set(Metric::AiRelevancy, round1(relevancy));
    metrics.set(Metric::Sentiment, round1(100.0 * sentiment_score));
    metrics.set(
        Metric::HallucinationScore,
        round1(100.0 - 15.0 * f.claims.facts as f64 - 20.0 * f.claims.guarantees as f64),
    );
    let extra_apologies = f.apologies.loop_replies.len().saturating_sub(1);
    metrics.set(
        Metric::RepetitionScore,
        round1(100.0 - 30.0 * f.repeated.len() as f64 - 15.0 * extra_apologies as f64),
    );
    metrics.set(
        Metric::ConsistencyScore,
        round1(
            100.0 - 30.0 * f.tools.glossed.len() as f64 - 20.0 * f.tools.action_claims.len() as f64,
        ),
    );
    let shouted_replies = t
        .replies
        .iter()
        .filter(|&&r| shouts(t.lines[r].raw))
        .count();
    let sentence = f.style.mean_sentence_words;
    let sentence_penalty = if replies == 0 {
        0.0
    } else if sentence > 22.0 {
        2.0 * (sentence - 22.0)
    } else if sentence < 5.0 {
        2.0 * (5.0 - sentence)
    } else {
        0.0
    };
    metrics.set(
        Metric::NaturalLanguageScore,
        round1(
            100.0
                - sentence_penalty
                - 15.0 * f.style.robotic as f64
                - 10.0 * shouted_replies as f64,
        ),
    );
    metrics.set(
        Metric::ContextRetentionScore,
        round1(
            100.0 - 25.0 * f.retention.reasks as f64 - 20.0 * f.retention.complaints.len() as f64,
        ),
    );
    metrics.set(
        Metric::VerbosityScore,
        round1(100.0 - f.length.mean_penalty),
    );
    metrics.set(Metric::TaskCompletion, task_completion(o));
    let hedge_rate = (f.style.hedges as f64 / replies.max(1) as f64).min(4.0);
    let verbose_share = f.length.verbose.len() as f64 / replies.max(1) as f64;
    metrics.set(
        Metric::Clarity,
        round1(
            100.0
                - 2.5 * (sentence - 18.0).max(0.0)
                - 8.0 * hedge_rate
                - 15.0 * f.turns.unanswered.len() as f64
                - 20.0 * verbose_share,
        ),
    );
    metrics
}

fn task_completion(o: &Outcome) -> f64 {
    if o.task_completed {
        if o.closing_positive {
            100.0
        } else {
            85.0
        }
    } else if !o.has_reply {
        0.0
    } else if o.closing_negative {
        10.0
    } else {
        30.0
    }
}

/// 1.25 for a failed conversation about money, else 1.0.
pub(super) fn objective_multiplier(topics: &[&str], task_completed: bool) -> f64 {
    let money = topics
        .iter()
        .any(|t| matches!(*t, "billing" | "refunds" | "cancellation" | "pricing"));
    if money && !task_completed {
        1.25
    } else {
        1.0
    }
}

fn severity_points(severity: Severity) -> f64 {
    match severity {
        Severity::Low => 1.0,
        Severity::Medium => 2.0,
        Severity::High => 3.0,
        Severity::Critical => 5.0,
    }
}

pub(super) fn round1(x: f64) -> f64 {
    (x.clamp(0.0, 100.0) * 10.0).round() / 10.0
}
