//! Judging an optimization: every arm (the control and each variant) met the same simulated
//! users (cells: persona × scenario × replicate with one seed), so each variant is compared
//! with the control cell by cell (a paired test), the p-values are adjusted for testing
//! several variants at once (Holm), and a winner is named only when it is significantly
//! better AND the run had enough simulations to detect the effect sought.

use std::collections::BTreeMap;

use converra_api::insights::Metric;
use converra_api::optimizations::{
    CostComparison, Difference, MetricStats, OptimizationOutcome, OptimizationResults,
    PersonaResult, VariantMetrics,
};
use serde::{Deserialize, Serialize};

use super::stats::{self, PAIRED_TEST};
use super::MetricScores;

/// The smallest overall-score difference (points of 0..100) worth detecting. A run has
/// enough data for a variant when its minimum detectable effect is at most this, or at most
/// the difference it observed (then that difference was within reach); otherwise it
/// reports "not enough data yet".
pub const EFFECT_SOUGHT: f64 = 5.0;
/// The power the minimum detectable effect is computed for.
pub const POWER: f64 = 0.8;
/// Monte Carlo draws for the probability of being best.
const DRAWS: usize = 20_000;
/// Simulated transcripts kept as samples per arm.
const SAMPLES: usize = 3;

/// One scored simulated conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredSimulation {
    pub id: String,
    /// The pairing key: the same cell met the same user in every arm.
    pub cell: u32,
    pub persona_id: String,
    pub persona_name: String,
    pub metrics: MetricScores,
    pub overall: f64,
    pub task_completed: bool,
    pub tokens: u64,
    pub latency_ms: f64,
}

/// What the statistics say about one arm; stored with the variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VariantReport {
    pub is_winner: bool,
    pub metrics: VariantMetrics,
    pub stats: BTreeMap<String, MetricStats>,
    pub difference: Option<Difference>,
    pub test: Option<String>,
    pub p_value: Option<f64>,
    pub p_value_adjusted: Option<f64>,
    pub probability_better_than_control: Option<f64>,
    pub probability_best: f64,
    pub enough_data: bool,
    pub minimum_detectable_effect: Option<f64>,
    pub tokens: CostComparison,
    pub latency_ms: CostComparison,
    pub persona_results: Vec<PersonaResult>,
    /// Each simulation's overall score, ascending (reports stored before it have none).
    #[serde(default)]
    pub conversation_scores: Vec<f64>,
    pub sample_conversation_ids: Vec<String>,
}

fn round(value: f64, places: i32) -> f64 {
    let factor = 10f64.powi(places);
    (value * factor).round() / factor
}

fn ascending_scores(scores: &[f64]) -> Vec<f64> {
    let mut sorted: Vec<f64> = scores.iter().map(|&score| round(score, 2)).collect();
    sorted.sort_by(f64::total_cmp);
    sorted
}

fn metric_stats(values: &[f64]) -> MetricStats {
    let summary = stats::summarize(values);
    MetricStats {
        mean: round(summary.mean, 2),
        ci95_low: round(summary.ci95_low, 2),
        ci95_high: round(summary.ci95_high, 2),
        n: u32::try_from(summary.n).unwrap_or(u32::MAX),
    }
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 {
        0.0
    } else {
        sum / n as f64
    }
}

/// Overall scores of two arms on the cells both have, in cell order.
fn paired(control: &[ScoredSimulation], variant: &[ScoredSimulation]) -> (Vec<f64>, Vec<f64>) {
    let by_cell: BTreeMap<u32, f64> = control.iter().map(|s| (s.cell, s.overall)).collect();
    variant
        .iter()
        .filter_map(|s| by_cell.get(&s.cell).map(|c| (*c, s.overall)))
        .unzip()
}

/// Evaluates the arms (`arms[0]` the control) at `confidence` (0.80, 0.90 or 0.95).
/// Returns one report per arm, in order, and the run's results.
pub fn evaluate(
    arms: &[Vec<ScoredSimulation>],
    confidence: f64,
    seed: u64,
) -> (Vec<VariantReport>, OptimizationResults) {
    let Some(control) = arms.first() else {
        return (
            Vec::new(),
            no_winner("no arms were simulated".to_owned(), confidence),
        );
    };
    let control_overall = mean(control.iter().map(|s| s.overall));
    let control_tokens = mean(control.iter().map(|s| s.tokens as f64));
    let control_latency = mean(control.iter().map(|s| s.latency_ms));
    let control_by_persona = persona_means(control);

    // Intervals are reported at 95%; the detectable effect at the run's own confidence.
    let comparisons: Vec<Option<stats::PairedComparison>> = arms
        .iter()
        .skip(1)
        .map(|arm| {
            let (c, v) = paired(control, arm);
            stats::paired_comparison(&c, &v, 0.95, POWER).map(|mut comparison| {
                if let Some(at_level) = stats::paired_comparison(&c, &v, confidence, POWER) {
                    comparison.minimum_detectable_effect = at_level.minimum_detectable_effect;
                }
                comparison
            })
        })
        .collect();
    let raw_p: Vec<f64> = comparisons
        .iter()
        .map(|c| c.as_ref().map_or(1.0, |c| c.p_value))
        .collect();
    let adjusted = stats::holm_adjust(&raw_p);
    // Posterior of each arm's mean as the control's mean plus its paired difference, so
    // that the arms share the control's noise (the control itself: difference 0).
    let posterior: Vec<(f64, f64)> = std::iter::once((0.0, 0.0))
        .chain(comparisons.iter().map(|c| match c {
            Some(c) if c.n > 0 => (c.mean_difference, c.sd_difference / (c.n as f64).sqrt()),
            _ => (0.0, f64::INFINITY),
        }))
        .map(|(m, se)| (m, if se.is_finite() { se } else { 1e6 }))
        .collect();
    let probability_best = stats::probability_best(&posterior, DRAWS, seed);

    let mut reports: Vec<VariantReport> = arms
        .iter()
        .enumerate()
        .map(|(index, arm)| {
            let comparison = index.checked_sub(1).and_then(|i| comparisons[i]);
            let adjusted_p = index.checked_sub(1).map(|i| adjusted[i]);
            report(
                arm,
                comparison.as_ref(),
                adjusted_p,
                probability_best[index],
                (control_overall, control_tokens, control_latency),
                &control_by_persona,
                index == 0,
            )
        })
        .collect();

    let alpha = 1.0 - confidence;
    let candidates: Vec<usize> = (1..arms.len())
        .filter(|i| {
            let r = &reports[*i];
            r.enough_data
                && r.p_value_adjusted.is_some_and(|p| p < alpha)
                && r.difference.is_some_and(|d| d.mean > 0.0)
        })
        .collect();
    let best_tested = (1..arms.len()).max_by(|a, b| {
        reports[*a]
            .metrics
            .overall_score
            .total_cmp(&reports[*b].metrics.overall_score)
    });
    let winner = candidates.iter().copied().max_by(|a, b| {
        reports[*a]
            .metrics
            .overall_score
            .total_cmp(&reports[*b].metrics.overall_score)
    });
    let results = match (winner, best_tested) {
        (Some(w), _) => {
            reports[w].is_winner = true;
            let r = &reports[w];
            OptimizationResults {
                winner_selected: true,
                winning_variant_id: None,
                lift: r.metrics.lift,
                confidence: r.metrics.confidence,
                outcome: OptimizationOutcome::VariantWon,
                improvement_percentage: r.metrics.lift,
                improvement_points: r.difference.map_or(0.0, |d| d.mean),
                confidence_level: confidence,
                cells: r.difference.map_or(0, |d| d.cells),
                retest: None,
                reason: None,
            }
        }
        (None, Some(best)) => {
            let r = &reports[best];
            let diff = r.difference.map_or(0.0, |d| d.mean);
            let reason = if !r.enough_data {
                format!(
                    "not enough data yet: with {} simulations per arm the smallest detectable difference is {:.1} points, more than the {EFFECT_SOUGHT:.0} sought and the {:.1} observed; run a validation optimization for more simulations",
                    r.metrics.simulation_count,
                    r.minimum_detectable_effect.unwrap_or(f64::INFINITY),
                    diff.abs()
                )
            } else if diff <= 0.0 {
                "no variant scored above the control".to_owned()
            } else {
                format!(
                    "the best variant is {diff:.1} points ahead, but not significantly (adjusted p = {:.3}, needed below {alpha:.2})",
                    r.p_value_adjusted.unwrap_or(1.0)
                )
            };
            let original_won = r.enough_data
                && r.difference.is_some_and(|d| d.ci95_high < 0.0)
                && (1..arms.len())
                    .all(|i| reports[i].difference.is_some_and(|d| d.ci95_high < 0.0));
            OptimizationResults {
                winner_selected: false,
                winning_variant_id: None,
                lift: r.metrics.lift,
                confidence: r.metrics.confidence,
                outcome: if original_won {
                    OptimizationOutcome::OriginalWon
                } else {
                    OptimizationOutcome::Inconclusive
                },
                improvement_percentage: r.metrics.lift,
                improvement_points: diff,
                confidence_level: confidence,
                cells: r.difference.map_or(0, |d| d.cells),
                retest: None,
                reason: Some(reason),
            }
        }
        (None, None) => no_winner("no variant was tested".to_owned(), confidence),
    };
    (reports, results)
}

fn no_winner(reason: String, confidence_level: f64) -> OptimizationResults {
    OptimizationResults {
        winner_selected: false,
        winning_variant_id: None,
        lift: 0.0,
        confidence: 0.0,
        outcome: OptimizationOutcome::Inconclusive,
        improvement_percentage: 0.0,
        improvement_points: 0.0,
        confidence_level,
        cells: 0,
        retest: None,
        reason: Some(reason),
    }
}

fn persona_means(arm: &[ScoredSimulation]) -> BTreeMap<String, (String, f64, u32)> {
    let mut sums: BTreeMap<String, (String, f64, u32)> = BTreeMap::new();
    for s in arm {
        let entry = sums
            .entry(s.persona_id.clone())
            .or_insert((s.persona_name.clone(), 0.0, 0));
        entry.1 += s.overall;
        entry.2 += 1;
    }
    for entry in sums.values_mut() {
        entry.1 /= f64::from(entry.2.max(1));
    }
    sums
}

fn report(
    arm: &[ScoredSimulation],
    comparison: Option<&stats::PairedComparison>,
    adjusted_p: Option<f64>,
    probability_best: f64,
    (control_overall, control_tokens, control_latency): (f64, f64, f64),
    control_by_persona: &BTreeMap<String, (String, f64, u32)>,
    is_control: bool,
) -> VariantReport {
    let mut stats_map = BTreeMap::new();
    for metric in Metric::ALL {
        let values: Vec<f64> = arm.iter().map(|s| s.metrics.get(metric)).collect();
        stats_map.insert(metric.as_str().to_owned(), metric_stats(&values));
    }
    let overall: Vec<f64> = arm.iter().map(|s| s.overall).collect();
    let overall_stats = metric_stats(&overall);
    stats_map.insert("overallScore".to_owned(), overall_stats);
    let metric_mean = |metric: Metric| stats_map[metric.as_str()].mean;
    let lift = if is_control || control_overall <= 0.0 {
        0.0
    } else {
        100.0 * (overall_stats.mean - control_overall) / control_overall
    };
    let tokens = mean(arm.iter().map(|s| s.tokens as f64));
    let latency = mean(arm.iter().map(|s| s.latency_ms));
    let enough_data = match comparison {
        Some(c) => c.minimum_detectable_effect <= EFFECT_SOUGHT.max(c.mean_difference.abs()),
        None => arm.len() >= 2,
    };
    let persona_results = persona_means(arm)
        .into_iter()
        .map(|(persona_id, (persona_name, score, count))| PersonaResult {
            difference: round(
                score - control_by_persona.get(&persona_id).map_or(score, |c| c.1),
                2,
            ),
            persona_id,
            persona_name,
            score: round(score, 2),
            conversation_count: count,
        })
        .collect();
    VariantReport {
        is_winner: false,
        metrics: VariantMetrics {
            task_completion: metric_mean(Metric::TaskCompletion),
            response_quality: round(
                (metric_mean(Metric::Clarity)
                    + metric_mean(Metric::AiRelevancy)
                    + metric_mean(Metric::NaturalLanguageScore))
                    / 3.0,
                2,
            ),
            sentiment: metric_mean(Metric::Sentiment),
            overall_score: overall_stats.mean,
            lift: round(lift, 2),
            confidence: adjusted_p.map_or(0.0, |p| round(1.0 - p, 4)),
            simulation_count: u32::try_from(arm.len()).unwrap_or(u32::MAX),
        },
        stats: stats_map,
        difference: comparison.map(|c| Difference {
            mean: round(c.mean_difference, 2),
            ci95_low: round(c.ci_low, 2),
            ci95_high: round(c.ci_high, 2),
            low: round(c.ci_low, 2),
            high: round(c.ci_high, 2),
            level: 0.95,
            cells: u32::try_from(c.n).unwrap_or(u32::MAX),
        }),
        test: comparison.map(|_| PAIRED_TEST.to_owned()),
        p_value: comparison.map(|c| round(c.p_value, 6)),
        p_value_adjusted: adjusted_p.map(|p| round(p, 6)),
        probability_better_than_control: comparison.map(|c| round(c.probability_better, 4)),
        probability_best: round(probability_best, 4),
        enough_data,
        minimum_detectable_effect: comparison.map(|c| round(c.minimum_detectable_effect, 2)),
        tokens: CostComparison {
            mean: round(tokens, 1),
            difference: round(tokens - control_tokens, 1),
        },
        latency_ms: CostComparison {
            mean: round(latency, 1),
            difference: round(latency - control_latency, 1),
        },
        persona_results,
        conversation_scores: ascending_scores(&overall),
        sample_conversation_ids: arm.iter().take(SAMPLES).map(|s| s.id.clone()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arm(scores: &[f64], personas: &[&str]) -> Vec<ScoredSimulation> {
        scores
            .iter()
            .enumerate()
            .map(|(i, &overall)| ScoredSimulation {
                id: format!("sim{i}"),
                cell: i as u32,
                persona_id: personas[i % personas.len()].to_owned(),
                persona_name: personas[i % personas.len()].to_owned(),
                metrics: MetricScores([overall; 11]),
                overall,
                task_completed: overall > 60.0,
                tokens: 100,
                latency_ms: 500.0,
            })
            .collect()
    }

    /// Control scores around 60 with noise shared by cell; a variant adds `effect`.
    fn scores(n: usize, effect: f64) -> Vec<f64> {
        (0..n)
            .map(|i| 60.0 + ((i * 37) % 11) as f64 - 5.0 + effect + ((i * 13) % 3) as f64 - 1.0)
            .collect()
    }

    #[test]
    fn a_clearly_better_variant_wins_and_a_null_one_does_not() {
        let control = arm(&scores(60, 0.0), &["a", "b"]);
        let better = arm(&scores(60, 8.0), &["a", "b"]);
        let same = arm(&scores(60, 0.0), &["a", "b"]);
        let (reports, results) = evaluate(&[control, same, better], 0.95, 1);
        assert!(results.winner_selected);
        assert_eq!(results.outcome, OptimizationOutcome::VariantWon);
        assert!(reports[2].is_winner && !reports[1].is_winner);
        assert!(reports[2].p_value_adjusted.unwrap() < 0.05);
        assert!(reports[2].probability_best > 0.9);
        assert!((reports[2].difference.unwrap().mean - 8.0).abs() < 1e-9);
        // The adjusted p-value is never below the raw one.
        assert!(reports[2].p_value_adjusted.unwrap() >= reports[2].p_value.unwrap());
    }

    #[test]
    fn too_few_simulations_is_reported_as_not_enough_data_never_a_winner() {
        // A large effect on 3 noisy cells: the detectable effect is far above the one sought.
        let control = arm(&[50.0, 70.0, 55.0], &["a"]);
        let variant = arm(&[75.0, 71.0, 80.0], &["a"]);
        let (reports, results) = evaluate(&[control, variant], 0.8, 1);
        assert!(!reports[1].enough_data);
        assert!(!results.winner_selected);
        assert_eq!(results.outcome, OptimizationOutcome::Inconclusive);
        assert!(results.reason.unwrap().starts_with("not enough data yet"));
    }

    #[test]
    fn a_variant_that_loses_for_one_persona_shows_it() {
        let control = arm(&[60.0, 60.0, 60.0, 60.0], &["a", "b"]);
        let variant = arm(&[70.0, 55.0, 71.0, 54.0], &["a", "b"]);
        let (reports, _) = evaluate(&[control, variant], 0.9, 1);
        let by_persona: BTreeMap<_, _> = reports[1]
            .persona_results
            .iter()
            .map(|p| (p.persona_id.as_str(), p.difference))
            .collect();
        assert!(by_persona["a"] > 0.0);
        assert!(by_persona["b"] < 0.0);
    }
}
