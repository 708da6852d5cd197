//! The numbers of an optimization's variants as people read them: the interval maths the
//! charts need (a spread estimated from a confidence interval), the formatting of lifts,
//! differences, probabilities and p-values, and the per-variant statistics table, which
//! says "Not enough data yet" where the engine does and shows only what the run's evidence
//! allows ([`Disclosure`]).

use converra_api::optimizations::{Difference, Variant};
use leptos::prelude::*;

use crate::components::disclosure::Disclosure;

/// The key of the objective (overall score) in a variant's `stats`.
pub const OVERALL: &str = "overallScore";

/// What a table cell says where the engine has no estimate yet.
pub const NOT_ENOUGH_DATA: &str = "Not enough data yet";

/// The 25th and 75th percentiles of `sorted` (ascending), interpolating linearly between
/// neighbours; `None` with fewer than two values.
pub fn quartiles(sorted: &[f64]) -> Option<(f64, f64)> {
    if sorted.len() < 2 {
        return None;
    }
    let at = |q: f64| {
        let position = q * (sorted.len() - 1) as f64;
        let below = position.floor() as usize;
        let above = position.ceil() as usize;
        sorted[below] + (sorted[above] - sorted[below]) * (position - below as f64)
    };
    Some((at(0.25), at(0.75)))
}

/// A signed number with `decimals` decimals and a typographic minus: `+3.1`, `−0.4`, `0.0`.
pub fn signed(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return "–".to_owned();
    }
    let text = format!("{:.*}", decimals, value.abs());
    let zero = text.chars().all(|c| c == '0' || c == '.');
    if zero {
        text
    } else if value < 0.0 {
        format!("−{text}")
    } else {
        format!("+{text}")
    }
}

/// A relative lift in percent: `+4.2%`.
pub fn format_lift(percent: f64) -> String {
    format!("{}%", signed(percent, 1))
}

/// A score on 0..100 with one decimal: `71.3`.
pub fn format_score(value: f64) -> String {
    if value.is_finite() {
        format!("{value:.1}")
    } else {
        "–".to_owned()
    }
}

/// A confidence level as people read it: `"90%"`.
pub fn format_level(level: f64) -> String {
    format!("{:.0}%", level * 100.0)
}

/// An interval in points: `−0.4 to +6.6`.
pub fn format_interval(low: f64, high: f64) -> String {
    format!("{} to {}", signed(low, 1), signed(high, 1))
}

/// A probability (0..1) in whole percent, never claiming certainty: `87%`, `<1%`, `>99%`.
pub fn format_probability(p: f64) -> String {
    if !p.is_finite() {
        return "–".to_owned();
    }
    let percent = p * 100.0;
    if percent < 1.0 && p > 0.0 {
        "<1%".to_owned()
    } else if percent > 99.0 && p < 1.0 {
        ">99%".to_owned()
    } else {
        format!("{percent:.0}%")
    }
}

/// A p-value: three decimals, `<0.001` below that.
pub fn format_p_value(p: f64) -> String {
    if !p.is_finite() {
        "–".to_owned()
    } else if p < 0.001 {
        "<0.001".to_owned()
    } else {
        format!("{p:.3}")
    }
}

/// One row of the statistics table, written out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantStatsRow {
    pub variant_id: String,
    pub name: String,
    /// The mean overall score and its 95% interval.
    pub score: String,
    pub lift: String,
    /// The paired difference to the control, its interval at the run's level and its cells.
    pub difference: String,
    pub probability_better: String,
    pub probability_best: String,
    /// Holm-adjusted, with the test's name.
    pub p_adjusted: String,
    pub minimum_detectable_effect: String,
    /// "Winner", "Baseline", "Not enough data yet", "Better than the control"…
    pub verdict: String,
}

/// A paired difference with its interval at the run's level: `"+6.0 (+3.5 to +8.5 at 90%,
/// 12 cells)"`; at 95% when the engine gave no level.
pub fn format_difference(d: &Difference) -> String {
    if d.level > 0.0 {
        format!(
            "{} ({} at {}, {} cells)",
            signed(d.mean, 1),
            format_interval(d.low, d.high),
            format_level(d.level),
            d.cells
        )
    } else {
        format!(
            "{} ({})",
            signed(d.mean, 1),
            format_interval(d.ci95_low, d.ci95_high)
        )
    }
}

/// The statistics row of `variant`: the control's comparison cells read "—" (it is the
/// baseline); a variant's missing estimates, and the verdict of one the engine lacks data
/// for, read [`NOT_ENOUGH_DATA`]. A stopped run's table calls no arm the winner.
pub fn stats_row(variant: &Variant, disclosure: Disclosure) -> VariantStatsRow {
    let overall = variant.stats.get(OVERALL).copied();
    let score = match overall {
        Some(s) if s.n > 0 => format!(
            "{} ({} to {})",
            format_score(s.mean),
            format_score(s.ci95_low),
            format_score(s.ci95_high)
        ),
        _ if variant.metrics.simulation_count > 0 => format_score(variant.metrics.overall_score),
        _ => NOT_ENOUGH_DATA.to_owned(),
    };
    let missing = || {
        if variant.is_control {
            "—".to_owned()
        } else {
            NOT_ENOUGH_DATA.to_owned()
        }
    };
    let difference = variant
        .difference
        .as_ref()
        .map(format_difference)
        .unwrap_or_else(missing);
    let p_adjusted = variant
        .p_value_adjusted
        .map(|p| match &variant.test {
            Some(test) => format!("{} ({test})", format_p_value(p)),
            None => format_p_value(p),
        })
        .unwrap_or_else(missing);
    let verdict = if variant.is_control {
        "Baseline".to_owned()
    } else if disclosure.shows_winner(variant) {
        "Winner".to_owned()
    } else if !variant.enough_data {
        NOT_ENOUGH_DATA.to_owned()
    } else {
        let (low, high) = variant.difference.map_or((0.0, 0.0), |d| {
            if d.level > 0.0 {
                (d.low, d.high)
            } else {
                (d.ci95_low, d.ci95_high)
            }
        });
        match variant.difference {
            Some(_) if low > 0.0 => "Better than the control".to_owned(),
            Some(_) if high < 0.0 => "Worse than the control".to_owned(),
            Some(_) => "No clear difference".to_owned(),
            None => NOT_ENOUGH_DATA.to_owned(),
        }
    };
    VariantStatsRow {
        variant_id: variant.id.clone(),
        name: variant.name.clone(),
        score,
        lift: if variant.is_control {
            "—".to_owned()
        } else if variant.metrics.simulation_count > 0 {
            format_lift(variant.metrics.lift)
        } else {
            NOT_ENOUGH_DATA.to_owned()
        },
        difference,
        probability_better: variant
            .probability_better_than_control
            .map(format_probability)
            .unwrap_or_else(missing),
        probability_best: if variant.metrics.simulation_count > 0 {
            format_probability(variant.probability_best)
        } else {
            NOT_ENOUGH_DATA.to_owned()
        },
        p_adjusted,
        minimum_detectable_effect: variant
            .minimum_detectable_effect
            .map(|m| format!("{} points", format_score(m)))
            .unwrap_or_else(missing),
        verdict,
    }
}

/// Every variant's statistics against the control, one row each, the control first. On a
/// scripted run the probabilities and p-values are left out.
#[component]
pub fn VariantStatsTable(
    #[prop(into)] variants: Signal<Vec<Variant>>,
    #[prop(into)] disclosure: Signal<Disclosure>,
) -> impl IntoView {
    let probabilities = move || disclosure.get().shows_probabilities();
    let rows = move || {
        let disclosure = disclosure.get();
        variants.with(|vs| {
            vs.iter()
                .map(|v| {
                    let row = stats_row(v, disclosure);
                    let short = row.verdict == NOT_ENOUGH_DATA;
                    let class = if disclosure.shows_winner(v) {
                        "winner-row"
                    } else if v.is_control {
                        "control-row"
                    } else {
                        ""
                    };
                    let probability_cells = disclosure.shows_probabilities().then(|| {
                        view! {
                            <td class="num">{row.probability_better}</td>
                            <td class="num">{row.probability_best}</td>
                            <td class="num">{row.p_adjusted}</td>
                        }
                    });
                    view! {
                        <tr class=class data-variant=row.variant_id.clone()>
                            <th scope="row">{row.name}</th>
                            <td class="num">{row.score}</td>
                            <td class="num">{row.lift}</td>
                            <td class="num">{row.difference}</td>
                            {probability_cells}
                            <td class="num">{row.minimum_detectable_effect}</td>
                            <td class:not-enough-data=short>{row.verdict}</td>
                        </tr>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <div class="table-scroll">
            <table class="data-table stats-table" data-testid="variant-stats">
                <caption>"Each variant against the control, paired on the same personas and scenarios (scores 0–100; a score's interval is 95%, a difference's is at the run's level)"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Variant"</th>
                        <th scope="col">"Mean score (95% CI)"</th>
                        <th scope="col">"Lift"</th>
                        <th scope="col">"Paired difference (interval, cells)"</th>
                        {move || probabilities().then(|| view! {
                            <th scope="col">"P(beats control)"</th>
                            <th scope="col">"P(best)"</th>
                            <th scope="col">"Adjusted p"</th>
                        })}
                        <th scope="col">"Smallest detectable difference"</th>
                        <th scope="col">"Verdict"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
