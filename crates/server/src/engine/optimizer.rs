//! Judging an optimization. Every arm (the control and each variant) meets the same
//! simulated users: a cell is one persona × scenario, and each of its replicates is played
//! with one seed that every arm shares (common random numbers).
//!
//! **The unit is the cell.** Replicates of a cell are not independent evidence (with a model
//! at a low temperature, or a server that ignores seeds, they may be the same conversation),
//! so each arm's replicates are averaged within the cell and the paired t-test runs over
//! cells: its degrees of freedom are cells - 1. The p-values are adjusted for testing several
//! variants at once (Holm). A winner is named only when:
//! - every arm met exactly the same simulations (a stopped run that did not names none),
//! - the comparison rests on at least [`MIN_CELLS`] cells,
//! - the run had the power to detect the effect sought ([`EFFECT_SOUGHT`]), and
//! - the variant is better at the run's confidence level after the adjustment.
//!
//! Intervals are reported at the run's level (and at 95%), `confidence` is the highest of
//! the standard levels the test passes at, and P(best) comes from the same paired cells.

use std::collections::{BTreeMap, BTreeSet};

use converra_api::insights::Metric;
use converra_api::optimizations::{
    CostComparison, Difference, MetricStats, OptimizationOutcome, OptimizationResults,
    PersonaResult, Retest, VariantMetrics,
};
use serde::{Deserialize, Serialize};

use super::stats::{self, best, PAIRED_TEST};
use super::MetricScores;

/// The smallest overall-score difference (points of 0..100) worth detecting. A run has
/// enough data for a variant when its minimum detectable effect is at most this, or at most
/// the difference it observed (then that difference was within reach); otherwise it
/// reports "not enough data yet".
pub const EFFECT_SOUGHT: f64 = 5.0;
/// The power the minimum detectable effect is computed for.
pub const POWER: f64 = 0.8;
/// No winner from fewer persona × scenario cells: below this a t-test on cells has too few
/// degrees of freedom for its normal-theory p-value to be trusted with real score spreads.
pub const MIN_CELLS: usize = 8;
/// The levels `confidence` is reported on, strictest first.
const LEVELS: [f64; 3] = [0.95, 0.90, 0.80];
/// Simulated transcripts kept as samples per arm.
const SAMPLES: usize = 3;

/// One scored simulated conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredSimulation {
    pub id: String,
    /// The replicate: the simulation's index in the plan, whose seed every arm shares.
    pub cell: u32,
    pub persona_id: String,
    pub persona_name: String,
    pub scenario_id: String,
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
    /// False when the run ended before this arm met every simulation the control did.
    #[serde(default = "ran_every_cell_default")]
    pub ran_every_cell: bool,
}

fn ran_every_cell_default() -> bool {
    true
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

/// A persona × scenario cell: the unit of analysis.
type CellKey = (String, String);

/// One arm's simulations by cell, then by replicate.
type Cells<'a> = BTreeMap<CellKey, BTreeMap<u32, &'a ScoredSimulation>>;

fn by_cell(arm: &[ScoredSimulation]) -> Cells<'_> {
    let mut cells: Cells<'_> = BTreeMap::new();
    for s in arm {
        cells
            .entry((s.persona_id.clone(), s.scenario_id.clone()))
            .or_default()
            .insert(s.cell, s);
    }
    cells
}

/// Each cell's mean of `value` over its replicates, in cell order.
fn cell_means(cells: &Cells<'_>, value: impl Fn(&ScoredSimulation) -> f64) -> Vec<f64> {
    cells
        .values()
        .map(|replicates| mean(replicates.values().map(|s| value(s))))
        .collect()
}

/// A variant and the control on the cells both met, each averaged over the replicates both
/// met (the same seeds), in cell order.
struct PairedCells {
    keys: Vec<CellKey>,
    control: Vec<f64>,
    variant: Vec<f64>,
}

fn paired_cells(control: &Cells<'_>, variant: &Cells<'_>) -> PairedCells {
    let mut out = PairedCells {
        keys: Vec::new(),
        control: Vec::new(),
        variant: Vec::new(),
    };
    for (key, variant_replicates) in variant {
        let Some(control_replicates) = control.get(key) else {
            continue;
        };
        let shared: Vec<(f64, f64)> = variant_replicates
            .iter()
            .filter_map(|(replicate, v)| {
                control_replicates
                    .get(replicate)
                    .map(|c| (c.overall, v.overall))
            })
            .collect();
        if shared.is_empty() {
            continue;
        }
        out.keys.push(key.clone());
        out.control.push(mean(shared.iter().map(|p| p.0)));
        out.variant.push(mean(shared.iter().map(|p| p.1)));
    }
    out
}

/// The paired comparison of a variant with the control, at 95% and at the run's level.
#[derive(Debug, Clone, Copy)]
struct Comparison {
    at_95: stats::PairedComparison,
    at_level: stats::PairedComparison,
    level: f64,
    /// The control's mean over the same cells: what the percentage is of.
    control_mean: f64,
}

impl Comparison {
    fn of(paired: &PairedCells, level: f64) -> Option<Comparison> {
        Some(Comparison {
            at_95: stats::paired_comparison(&paired.control, &paired.variant, 0.95, POWER)?,
            at_level: stats::paired_comparison(&paired.control, &paired.variant, level, POWER)?,
            level,
            control_mean: mean(paired.control.iter().copied()),
        })
    }

    fn cells(&self) -> usize {
        self.at_level.n
    }

    fn points(&self) -> f64 {
        self.at_level.mean_difference
    }

    /// The difference as a percentage of the control's mean (0 when that mean is 0).
    fn percent(&self) -> f64 {
        if self.control_mean > 0.0 {
            100.0 * self.points() / self.control_mean
        } else {
            0.0
        }
    }

    fn difference(&self) -> Difference {
        Difference {
            mean: round(self.points(), 2),
            ci95_low: round(self.at_95.ci_low, 2),
            ci95_high: round(self.at_95.ci_high, 2),
            low: round(self.at_level.ci_low, 2),
            high: round(self.at_level.ci_high, 2),
            level: self.level,
            cells: u32::try_from(self.cells()).unwrap_or(u32::MAX),
        }
    }

    fn enough_data(&self) -> bool {
        self.at_level.minimum_detectable_effect <= EFFECT_SOUGHT.max(self.points().abs())
    }
}

/// The highest standard level at which a difference with this (adjusted) p-value is a
/// significant improvement on enough cells; 0 when at none.
fn significance_level(p: f64, points: f64, cells: usize) -> f64 {
    if points <= 0.0 || cells < MIN_CELLS {
        return 0.0;
    }
    LEVELS
        .into_iter()
        .find(|level| p < 1.0 - level)
        .unwrap_or(0.0)
}

/// The replicates an arm met, to tell whether every arm met the same ones.
fn replicates(arm: &[ScoredSimulation]) -> BTreeSet<u32> {
    arm.iter().map(|s| s.cell).collect()
}

/// Evaluates the arms (`arms[0]` the control) at `level` (0.80, 0.90 or 0.95).
/// Returns one report per arm, in order, and the run's results.
pub fn evaluate(
    arms: &[Vec<ScoredSimulation>],
    level: f64,
    seed: u64,
) -> (Vec<VariantReport>, OptimizationResults) {
    let Some(control) = arms.first() else {
        return (
            Vec::new(),
            no_winner("no arms were simulated".to_owned(), level),
        );
    };
    let cells: Vec<Cells<'_>> = arms.iter().map(|arm| by_cell(arm)).collect();
    let paired: Vec<PairedCells> = cells
        .iter()
        .skip(1)
        .map(|variant| paired_cells(&cells[0], variant))
        .collect();
    let comparisons: Vec<Option<Comparison>> =
        paired.iter().map(|p| Comparison::of(p, level)).collect();
    // Arms that never ran are not tests: they do not count towards Holm's m.
    let raw_p: Vec<f64> = arms
        .iter()
        .skip(1)
        .zip(&comparisons)
        .map(|(arm, c)| match c {
            Some(c) => c.at_level.p_value,
            None if arm.is_empty() => f64::NAN,
            None => 1.0,
        })
        .collect();
    let adjusted = stats::holm_adjust(&raw_p);
    let probability_best = probability_best(&paired, seed);
    let control_replicates = replicates(control);
    let costs = Costs::of(control);
    let control_by_persona = persona_means(control);

    let mut reports: Vec<VariantReport> = arms
        .iter()
        .enumerate()
        .map(|(index, arm)| {
            let variant = index.checked_sub(1);
            report(
                arm,
                &cells[index],
                variant.and_then(|i| comparisons[i].as_ref()),
                variant.map(|i| adjusted[i]).filter(|p| !p.is_nan()),
                probability_best[index],
                &costs,
                &control_by_persona,
                replicates(arm) == control_replicates,
            )
        })
        .collect();

    let alpha = 1.0 - level;
    let complete = reports.iter().all(|r| r.ran_every_cell);
    let significant = |i: usize| {
        let r = &reports[i];
        comparisons[i - 1].is_some_and(|c| c.cells() >= MIN_CELLS && c.points() > 0.0)
            && r.enough_data
            && r.p_value_adjusted.is_some_and(|p| p < alpha)
    };
    let by_points = |a: &usize, b: &usize| {
        let points = |i: usize| comparisons[i - 1].map_or(f64::NEG_INFINITY, |c| c.points());
        points(*a).total_cmp(&points(*b))
    };
    let winner = (1..arms.len())
        .filter(|&i| complete && significant(i))
        .max_by(by_points);
    let best = (1..arms.len())
        .filter(|&i| comparisons[i - 1].is_some())
        .max_by(by_points);
    let results = match (winner, best) {
        (Some(w), _) => {
            reports[w].is_winner = true;
            let c = comparisons[w - 1].expect("a winner has a comparison");
            summary(
                &c,
                reports[w].metrics.confidence,
                OptimizationOutcome::VariantWon,
                None,
            )
        }
        (None, Some(b)) => {
            let c = comparisons[b - 1].expect("the best arm has a comparison");
            let r = &reports[b];
            let reason = no_winner_reason(&reports, complete, &c, r, alpha);
            let original_won = complete
                && (1..arms.len()).all(|i| {
                    comparisons[i - 1].is_some_and(|c| {
                        c.cells() >= MIN_CELLS && c.enough_data() && c.at_level.ci_high < 0.0
                    })
                });
            let outcome = if original_won {
                OptimizationOutcome::OriginalWon
            } else {
                OptimizationOutcome::Inconclusive
            };
            summary(&c, 0.0, outcome, Some(reason))
        }
        (None, None) => no_winner(
            "no variant met the control on two or more cells".to_owned(),
            level,
        ),
    };
    (reports, results)
}

fn summary(
    c: &Comparison,
    confidence: f64,
    outcome: OptimizationOutcome,
    reason: Option<String>,
) -> OptimizationResults {
    OptimizationResults {
        winner_selected: outcome == OptimizationOutcome::VariantWon,
        winning_variant_id: None,
        lift: round(c.percent(), 2),
        confidence,
        outcome,
        improvement_percentage: round(c.percent(), 2),
        improvement_points: round(c.points(), 2),
        confidence_level: c.level,
        cells: u32::try_from(c.cells()).unwrap_or(u32::MAX),
        retest: None,
        reason,
    }
}

fn no_winner_reason(
    reports: &[VariantReport],
    complete: bool,
    c: &Comparison,
    r: &VariantReport,
    alpha: f64,
) -> String {
    let points = c.points();
    if !complete {
        let done: u32 = reports.iter().map(|r| r.metrics.simulation_count).sum();
        return format!(
            "the run ended before every arm met the same simulated users ({done} simulations done): no winner is named from an unequal comparison"
        );
    }
    if c.cells() < MIN_CELLS {
        return format!(
            "the comparison rests on {} persona × scenario cells; a winner needs at least {MIN_CELLS}: add personas or scenarios",
            c.cells()
        );
    }
    if !r.enough_data {
        return format!(
            "not enough data yet: over {} cells the smallest detectable difference is {:.1} points, more than the {EFFECT_SOUGHT:.0} sought and the {:.1} observed; run a validation optimization for more simulations",
            c.cells(),
            c.at_level.minimum_detectable_effect,
            points.abs()
        );
    }
    if points <= 0.0 {
        return "no variant scored above the control".to_owned();
    }
    format!(
        "the best variant is {points:.1} points ahead, but not significantly (adjusted p = {:.3}, needed below {alpha:.2})",
        r.p_value_adjusted.unwrap_or(1.0)
    )
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

/// P(best) per arm (the control first) from the cells the control and every variant that
/// ran all met; arms that met none get 0.
fn probability_best(paired: &[PairedCells], seed: u64) -> Vec<f64> {
    let ran: Vec<usize> = (0..paired.len())
        .filter(|&k| !paired[k].keys.is_empty())
        .collect();
    let shared: BTreeSet<&CellKey> = ran
        .iter()
        .map(|&k| paired[k].keys.iter().collect::<BTreeSet<_>>())
        .reduce(|a, b| a.intersection(&b).copied().collect())
        .unwrap_or_default();
    let rows: Vec<Vec<f64>> = shared
        .iter()
        .map(|key| {
            ran.iter()
                .map(|&k| {
                    let at = paired[k].keys.iter().position(|x| &x == key).unwrap_or(0);
                    paired[k].variant[at] - paired[k].control[at]
                })
                .collect()
        })
        .collect();
    let shares = if rows.is_empty() {
        vec![1.0 / (ran.len() + 1) as f64; ran.len() + 1]
    } else {
        best::probability_best(&rows, seed)
    };
    let mut out = vec![0.0; paired.len() + 1];
    out[0] = shares[0];
    for (slot, &k) in ran.iter().enumerate() {
        out[k + 1] = shares[slot + 1];
    }
    out
}

/// The control's mean cost per cell, which every arm's cost is compared with.
struct Costs {
    tokens: f64,
    latency_ms: f64,
}

impl Costs {
    fn of(arm: &[ScoredSimulation]) -> Costs {
        let cells = by_cell(arm);
        Costs {
            tokens: mean(cell_means(&cells, |s| s.tokens as f64).into_iter()),
            latency_ms: mean(cell_means(&cells, |s| s.latency_ms).into_iter()),
        }
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

#[allow(clippy::too_many_arguments)]
fn report(
    arm: &[ScoredSimulation],
    cells: &Cells<'_>,
    comparison: Option<&Comparison>,
    adjusted_p: Option<f64>,
    probability_best: f64,
    control_costs: &Costs,
    control_by_persona: &BTreeMap<String, (String, f64, u32)>,
    ran_every_cell: bool,
) -> VariantReport {
    // Per-arm summaries are over cells too, so that n is what the data can carry.
    let mut stats_map = BTreeMap::new();
    for metric in Metric::ALL {
        let values = cell_means(cells, |s| s.metrics.get(metric));
        stats_map.insert(metric.as_str().to_owned(), metric_stats(&values));
    }
    let overall_stats = metric_stats(&cell_means(cells, |s| s.overall));
    stats_map.insert("overallScore".to_owned(), overall_stats);
    let metric_mean = |metric: Metric| stats_map[metric.as_str()].mean;
    let costs = Costs::of(arm);
    let enough_data = comparison.map_or(arm.len() >= 2, Comparison::enough_data);
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
    let overall: Vec<f64> = arm.iter().map(|s| s.overall).collect();
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
            lift: comparison.map_or(0.0, |c| round(c.percent(), 2)),
            confidence: match (comparison, adjusted_p) {
                (Some(c), Some(p)) => significance_level(p, c.points(), c.cells()),
                _ => 0.0,
            },
            simulation_count: u32::try_from(arm.len()).unwrap_or(u32::MAX),
        },
        stats: stats_map,
        difference: comparison.map(Comparison::difference),
        test: comparison.map(|_| format!("{PAIRED_TEST} over persona × scenario cells")),
        p_value: comparison.map(|c| round(c.at_level.p_value, 6)),
        p_value_adjusted: adjusted_p.map(|p| round(p, 6)),
        probability_better_than_control: comparison
            .map(|c| round(c.at_level.probability_better, 4)),
        probability_best: round(probability_best, 4),
        enough_data,
        minimum_detectable_effect: comparison
            .map(|c| round(c.at_level.minimum_detectable_effect, 2)),
        tokens: CostComparison {
            mean: round(costs.tokens, 1),
            difference: round(costs.tokens - control_costs.tokens, 1),
        },
        latency_ms: CostComparison {
            mean: round(costs.latency_ms, 1),
            difference: round(costs.latency_ms - control_costs.latency_ms, 1),
        },
        persona_results,
        conversation_scores: ascending_scores(&overall),
        sample_conversation_ids: arm.iter().take(SAMPLES).map(|s| s.id.clone()).collect(),
        ran_every_cell,
    }
}

/// Validation mode: the winner named by [`evaluate`] met the control again on
/// the same cells with fresh seeds. It stays the winner only if this second, single test is
/// significant at the run's level, in the same direction, on at least [`MIN_CELLS`] cells.
pub fn confirm_winner(
    reports: &mut [VariantReport],
    results: &mut OptimizationResults,
    control_retest: &[ScoredSimulation],
    winner_retest: &[ScoredSimulation],
    winner_public_id: &str,
) {
    let level = results.confidence_level;
    let paired = paired_cells(&by_cell(control_retest), &by_cell(winner_retest));
    let comparison = Comparison::of(&paired, level);
    let confirmed = comparison.is_some_and(|c| {
        c.cells() >= MIN_CELLS && c.points() > 0.0 && c.at_level.p_value < 1.0 - level
    });
    results.retest = comparison.map(|c| Retest {
        variant_id: winner_public_id.to_owned(),
        cells: u32::try_from(c.cells()).unwrap_or(u32::MAX),
        difference: c.difference(),
        p_value: round(c.at_level.p_value, 6),
        confirmed,
    });
    if confirmed {
        return;
    }
    let reason = match comparison {
        Some(c) => format!(
            "the best variant was significant on the first simulations, but its retest on fresh seeds did not confirm it ({:+.1} points over {} cells, p = {:.3}, needed below {:.2})",
            c.points(),
            c.cells(),
            c.at_level.p_value,
            1.0 - level
        ),
        None => "the best variant could not be retested on fresh seeds".to_owned(),
    };
    withdraw_winner(reports, results, reason);
}

/// Names no winner, for `reason`: the statistics stay as they were, for the record.
pub fn withdraw_winner(
    reports: &mut [VariantReport],
    results: &mut OptimizationResults,
    reason: String,
) {
    for report in reports.iter_mut() {
        report.is_winner = false;
    }
    results.winner_selected = false;
    results.winning_variant_id = None;
    results.outcome = OptimizationOutcome::Inconclusive;
    results.confidence = 0.0;
    results.reason = Some(reason);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::SeededRng;

    const PERSONAS: [&str; 4] = ["p1", "p2", "p3", "p4"];
    const SCENARIOS: [&str; 3] = ["s1", "s2", "s3"];

    /// One arm: `score(cell, replicate)` for each persona × scenario cell, `replicates` each.
    /// Replicate r of cell c has the same `cell` index in every arm (the shared seed).
    fn arm(
        cells: usize,
        replicates: usize,
        score: impl Fn(usize, usize) -> f64,
    ) -> Vec<ScoredSimulation> {
        let mut out = Vec::new();
        for replicate in 0..replicates {
            for c in 0..cells {
                let overall = score(c, replicate);
                let persona = PERSONAS[c % PERSONAS.len()];
                out.push(ScoredSimulation {
                    id: format!("sim{c}_{replicate}"),
                    cell: (replicate * cells + c) as u32,
                    persona_id: persona.to_owned(),
                    persona_name: persona.to_owned(),
                    scenario_id: format!("{}{}", SCENARIOS[c % SCENARIOS.len()], c),
                    metrics: MetricScores([overall; 11]),
                    overall,
                    task_completed: overall > 60.0,
                    tokens: 100,
                    latency_ms: 500.0,
                })
            }
        }
        out
    }

    /// A deterministic pseudo-random number in -1..1 for a key.
    fn noise(key: &str) -> f64 {
        2.0 * SeededRng::derive(7, key).next_f64() - 1.0
    }

    #[test]
    fn a_clearly_better_variant_wins_on_noisy_cells_and_a_null_one_does_not() {
        let base = |c: usize| 60.0 + 8.0 * noise(&format!("cell{c}"));
        let control = arm(12, 1, |c, _| base(c) + 2.0 * noise(&format!("c{c}")));
        let same = arm(12, 1, |c, _| base(c) + 2.0 * noise(&format!("s{c}")));
        let better = arm(12, 1, |c, _| base(c) + 9.0 + 2.0 * noise(&format!("b{c}")));
        let (reports, results) = evaluate(&[control, same, better], 0.95, 1);
        let difference = reports[2].difference.unwrap();
        // The noise is real: the differences vary from cell to cell.
        assert!(
            difference.ci95_high - difference.ci95_low > 1.0,
            "{difference:?}"
        );
        assert!(results.winner_selected, "{results:?}");
        assert_eq!(results.outcome, OptimizationOutcome::VariantWon);
        assert!(reports[2].is_winner && !reports[1].is_winner);
        assert!(reports[2].p_value_adjusted.unwrap() < 0.05);
        assert!(reports[2].p_value_adjusted.unwrap() >= reports[2].p_value.unwrap());
        assert!((difference.mean - 9.0).abs() < 2.5, "{difference:?}");
        assert_eq!(difference.cells, 12);
        assert_eq!(results.cells, 12);
        assert_eq!(results.confidence, 0.95);
        assert_eq!(results.confidence_level, 0.95);
        assert!((results.improvement_points - difference.mean).abs() < 0.01);
        // Percent of the control's mean, not points.
        let control_mean = reports[0].stats["overallScore"].mean;
        assert!(
            (results.improvement_percentage - 100.0 * difference.mean / control_mean).abs() < 0.2,
            "{results:?}"
        );
        assert!(reports[2].probability_best > 0.95);
    }

    #[test]
    fn replicates_of_one_cell_are_not_independent_evidence() {
        // Eight cells whose differences are noise (t ≈ 1.1 over cells), each replayed ten
        // times identically, as a model at temperature 0 that ignores seeds would. Counting
        // simulations as the unit would make this "significant" at p < 0.01.
        let differences = [3.0, -1.0, 2.0, 0.5, -0.5, 2.5, -2.0, 1.0];
        let control = arm(8, 10, |c, _| 60.0 + c as f64);
        let variant = arm(8, 10, |c, _| 60.0 + c as f64 + differences[c]);
        let (reports, results) = evaluate(&[control, variant], 0.80, 1);
        assert_eq!(reports[1].difference.unwrap().cells, 8);
        assert!(
            reports[1].p_value.unwrap() > 0.2,
            "{:?}",
            reports[1].p_value
        );
        assert!(!results.winner_selected);
        // The arm summaries are over cells too.
        assert_eq!(reports[1].stats["overallScore"].n, 8);
    }

    #[test]
    fn fewer_than_eight_cells_never_name_a_winner() {
        let control = arm(6, 3, |c, r| 50.0 + noise(&format!("c{c}{r}")));
        let variant = arm(6, 3, |c, r| 80.0 + noise(&format!("v{c}{r}")));
        let (reports, results) = evaluate(&[control, variant], 0.8, 1);
        assert!(reports[1].p_value.unwrap() < 0.001);
        assert!(!results.winner_selected);
        assert_eq!(reports[1].metrics.confidence, 0.0);
        assert!(results.reason.unwrap().contains("at least 8"));
    }

    #[test]
    fn too_few_simulations_is_reported_as_not_enough_data_never_a_winner() {
        let control = arm(8, 1, |c, _| 60.0 + 30.0 * noise(&format!("c{c}")));
        let variant = arm(8, 1, |c, _| 63.0 + 30.0 * noise(&format!("v{c}")));
        let (reports, results) = evaluate(&[control, variant], 0.8, 1);
        assert!(!reports[1].enough_data);
        assert!(!results.winner_selected);
        assert_eq!(results.outcome, OptimizationOutcome::Inconclusive);
        assert!(results.reason.unwrap().starts_with("not enough data yet"));
    }

    #[test]
    fn a_stopped_run_whose_arms_met_different_cells_names_no_winner() {
        let control = arm(12, 1, |c, _| 60.0 + noise(&format!("c{c}")));
        let better = arm(12, 1, |c, _| 75.0 + noise(&format!("b{c}")));
        let mut unfinished = arm(12, 1, |c, _| 60.0 + noise(&format!("u{c}")));
        unfinished.truncate(5);
        let (reports, results) = evaluate(&[control.clone(), better.clone(), unfinished], 0.9, 1);
        assert!(!results.winner_selected, "{results:?}");
        assert!(!reports[2].ran_every_cell && reports[1].ran_every_cell);
        assert!(results.reason.unwrap().contains("unequal comparison"));
        // The same two arms, complete, do name it.
        let (_, results) = evaluate(&[control, better], 0.9, 1);
        assert!(results.winner_selected);
    }

    #[test]
    fn with_one_variant_p_best_is_p_better_and_intervals_are_at_the_run_level() {
        let control = arm(10, 2, |c, r| 60.0 + 5.0 * noise(&format!("c{c}{r}")));
        let variant = arm(10, 2, |c, r| 62.0 + 5.0 * noise(&format!("v{c}{r}")));
        let (reports, _) = evaluate(&[control, variant], 0.8, 1);
        let v = &reports[1];
        assert_eq!(
            v.probability_best,
            v.probability_better_than_control.unwrap()
        );
        let d = v.difference.unwrap();
        assert_eq!(d.level, 0.8);
        // An 80% interval sits inside the 95% one.
        assert!(d.low > d.ci95_low && d.high < d.ci95_high, "{d:?}");
    }

    #[test]
    fn a_retest_that_does_not_confirm_takes_the_winner_back() {
        let control = arm(12, 1, |c, _| 60.0 + noise(&format!("c{c}")));
        let better = arm(12, 1, |c, _| 70.0 + noise(&format!("b{c}")));
        let (mut reports, mut results) = evaluate(&[control.clone(), better.clone()], 0.95, 1);
        assert!(results.winner_selected);
        let fresh_control = arm(12, 1, |c, _| 60.0 + 5.0 * noise(&format!("fc{c}")));
        let fresh_variant = arm(12, 1, |c, _| 60.0 + 5.0 * noise(&format!("fv{c}")));
        confirm_winner(
            &mut reports,
            &mut results,
            &fresh_control,
            &fresh_variant,
            "var_a",
        );
        assert!(!results.winner_selected && !reports[1].is_winner);
        assert_eq!(results.outcome, OptimizationOutcome::Inconclusive);
        let retest = results.retest.unwrap();
        assert!(!retest.confirmed);
        assert_eq!(retest.cells, 12);

        let (mut reports, mut results) = evaluate(&[control.clone(), better.clone()], 0.95, 1);
        confirm_winner(&mut reports, &mut results, &control, &better, "var_a");
        assert!(results.winner_selected && results.retest.unwrap().confirmed);
    }

    #[test]
    fn a_variant_that_loses_for_one_persona_shows_it() {
        let control = arm(8, 1, |_, _| 60.0);
        let variant = arm(8, 1, |c, _| if c % 2 == 0 { 70.0 } else { 55.0 });
        let (reports, _) = evaluate(&[control, variant], 0.9, 1);
        let by_persona: BTreeMap<_, _> = reports[1]
            .persona_results
            .iter()
            .map(|p| (p.persona_id.as_str(), p.difference))
            .collect();
        assert!(by_persona["p1"] > 0.0);
        assert!(by_persona["p2"] < 0.0);
    }

    /// A simulated world where the truth is known: cells differ (persona and scenario
    /// effects), replicates add noise, and each variant adds `effects[k]` points.
    fn world_run(seed: u64, effects: &[f64], replicates: usize, level: f64) -> OptimizationResults {
        let mut rng = SeededRng::new(seed);
        let cell_effects: Vec<f64> = (0..12).map(|_| 12.0 * rng.normal()).collect();
        let mut arms = Vec::new();
        for (k, effect) in std::iter::once(&0.0).chain(effects).enumerate() {
            let draws: Vec<f64> = (0..12 * replicates).map(|_| 6.0 * rng.normal()).collect();
            arms.push(arm(12, replicates, |c, r| {
                let _ = k;
                60.0 + cell_effects[c] + effect + draws[r * 12 + c]
            }));
        }
        evaluate(&arms, level, seed).1
    }

    #[test]
    fn in_a_world_where_nothing_matters_a_winner_is_rarely_named() {
        for (replicates, level) in [(1, 0.80), (3, 0.90), (2, 0.95)] {
            let runs = 400;
            let winners = (0..runs)
                .filter(|&seed| {
                    world_run(seed, &[0.0, 0.0, 0.0], replicates, level).winner_selected
                })
                .count();
            let rate = winners as f64 / runs as f64;
            eprintln!(
                "null world, {replicates} replicates at {level}: winner in {winners} of {runs}"
            );
            // Holm keeps the family-wise error at most 1 - level; the power guard only
            // lowers it further. Binomial slack: 3 standard errors.
            let bound = (1.0 - level) + 3.0 * ((1.0 - level) * level / runs as f64).sqrt();
            assert!(rate <= bound, "{replicates} replicates at {level}: {rate}");
        }
    }

    #[test]
    fn in_a_world_with_a_real_effect_the_better_variant_is_found() {
        let runs = 100;
        let found = (0..runs)
            .filter(|&seed| {
                let results = world_run(seed, &[0.0, 10.0], 3, 0.90);
                results.winner_selected && results.improvement_points > 0.0
            })
            .count();
        eprintln!("a 10-point effect: found in {found} of {runs}");
        assert!(found >= 80, "found in {found} of {runs}");
    }
}
