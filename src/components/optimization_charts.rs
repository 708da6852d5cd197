//! An optimization's comparison charts, built from its variants: the objective (overall
//! score) per variant with 95% intervals against the control, the 11 metrics per variant as
//! a heat map, the spread of conversation scores per variant, and where one variant wins and
//! loses against the control, persona by persona. The `*_data` builders are pure, so tests
//! and the drawing benchmark use them without the page.

use converra_api::insights::Metric;
use converra_api::optimizations::Variant;
use leptos::prelude::*;

use crate::components::charts::{
    Bar, BarChart, BarChartData, BarColoring, BarOrientation, HeatMapChart, HeatMapData, HeatScale,
    ReferenceLine, ScoreSpreadChart, SpreadData, SpreadPoint, SpreadRow,
};
use crate::components::optimization_stats::{format_score, quartiles, signed, OVERALL};

/// A variant's mean overall score: its statistics' mean, or the summary metric.
pub fn overall_mean(variant: &Variant) -> f64 {
    variant
        .stats
        .get(OVERALL)
        .map(|s| s.mean)
        .unwrap_or(variant.metrics.overall_score)
}

/// How a variant is named in the charts: "Variant A (winner)".
fn chart_name(variant: &Variant) -> String {
    if variant.is_winner {
        format!("{} (winner)", variant.name)
    } else {
        variant.name.clone()
    }
}

/// The objective per variant: bars of the mean overall score with their 95% intervals, the
/// control's bar paler and its mean as the dashed reference line.
pub fn score_chart_data(variants: &[Variant]) -> BarChartData {
    let bars = variants
        .iter()
        .map(|v| {
            let mut bar = Bar::new(chart_name(v), overall_mean(v));
            if let Some(s) = v.stats.get(OVERALL).filter(|s| s.n >= 2) {
                bar = bar.with_interval(s.ci95_low, s.ci95_high);
            }
            let n = v
                .stats
                .get(OVERALL)
                .map_or(v.metrics.simulation_count, |s| s.n);
            bar = bar.with_note(format!("{n} simulated conversations"));
            if v.is_control {
                bar.muted()
            } else {
                bar
            }
        })
        .collect();
    let reference = variants
        .iter()
        .find(|v| v.is_control)
        .map(|c| ReferenceLine {
            value: overall_mean(c),
            label: format!("Control {}", format_score(overall_mean(c))),
        });
    BarChartData {
        bars,
        orientation: BarOrientation::Horizontal,
        coloring: BarColoring::Single,
        category_label: "Variant".to_owned(),
        value_label: "Overall score (0–100)".to_owned(),
        interval_label: "95% CI".to_owned(),
        reference,
        domain: Some((0.0, 100.0)),
    }
}

/// The 11 metrics per variant: rows are the variants, columns the metrics, cells the mean
/// on 0..100 (empty where a variant has no value for a metric yet).
pub fn metrics_heat_map_data(variants: &[Variant]) -> HeatMapData {
    HeatMapData {
        rows: variants.iter().map(chart_name).collect(),
        columns: Metric::ALL.iter().map(|m| m.label().to_owned()).collect(),
        values: variants
            .iter()
            .map(|v| {
                Metric::ALL
                    .iter()
                    .map(|m| v.stats.get(m.as_str()).filter(|s| s.n > 0).map(|s| s.mean))
                    .collect()
            })
            .collect(),
        domain: (0.0, 100.0),
        scale: HeatScale::Sequential,
        row_label: "Variant".to_owned(),
        column_label: "Metric".to_owned(),
        value_label: "Mean score (0–100)".to_owned(),
        cell_decimals: 0,
    }
}

/// The spread of conversation scores per variant: every simulated conversation's overall
/// score as a dot, the middle half of them as a band, and the mean with its 95% interval.
pub fn spread_data(variants: &[Variant]) -> SpreadData {
    let rows = variants
        .iter()
        .map(|v| {
            let stats = v.stats.get(OVERALL);
            SpreadRow {
                label: chart_name(v),
                center: overall_mean(v),
                band: quartiles(&v.conversation_scores),
                interval: stats
                    .filter(|s| s.n >= 2)
                    .map(|s| (s.ci95_low, s.ci95_high)),
                points: v
                    .conversation_scores
                    .iter()
                    .enumerate()
                    .map(|(rank, &value)| SpreadPoint {
                        label: format!(
                            "Conversation {} of {}",
                            rank + 1,
                            v.conversation_scores.len()
                        ),
                        value,
                    })
                    .collect(),
                count: stats.map(|s| s.n),
            }
        })
        .collect();
    let reference = variants
        .iter()
        .find(|v| v.is_control)
        .map(|c| ReferenceLine {
            value: overall_mean(c),
            label: format!("Control {}", format_score(overall_mean(c))),
        });
    SpreadData {
        rows,
        category_label: "Variant".to_owned(),
        value_label: "Overall score of a conversation (0–100)".to_owned(),
        center_label: "Mean".to_owned(),
        band_label: "Middle half of the conversations (25th–75th percentile)".to_owned(),
        interval_label: "95% CI of the mean".to_owned(),
        points_label: "One simulated conversation".to_owned(),
        reference,
        domain: Some((0.0, 100.0)),
    }
}

/// Where `variant` wins and loses against the control: one diverging bar per persona, the
/// difference of its mean score to the control's with the same persona.
pub fn persona_chart_data(variant: &Variant) -> BarChartData {
    BarChartData {
        bars: variant
            .persona_results
            .iter()
            .map(|p| {
                Bar::new(p.persona_name.clone(), p.difference).with_note(format!(
                    "Score {} over {} conversations",
                    format_score(p.score),
                    p.conversation_count
                ))
            })
            .collect(),
        orientation: BarOrientation::Horizontal,
        coloring: BarColoring::BySign,
        category_label: "Persona".to_owned(),
        value_label: format!("{} − control (score points)", variant.name),
        interval_label: String::new(),
        reference: None,
        domain: None,
    }
}

/// The four comparison charts of an optimization's variants. `persona_variant` names the
/// variant the per-persona chart shows (the URL keeps it); by default the winner, else the
/// best-scoring variant.
#[component]
pub fn OptimizationCharts(
    #[prop(into)] variants: Signal<Vec<Variant>>,
    #[prop(into)] persona_variant: Signal<Option<String>>,
    /// Called with a variant's id when the per-persona chart's selector changes.
    on_persona_variant: Callback<String>,
) -> impl IntoView {
    let scores = Signal::derive(move || variants.with(|v| score_chart_data(v)));
    let heat = Signal::derive(move || variants.with(|v| metrics_heat_map_data(v)));
    let spread = Signal::derive(move || variants.with(|v| spread_data(v)));
    let challengers = Memo::new(move |_| {
        variants.with(|vs| {
            vs.iter()
                .filter(|v| !v.is_control)
                .map(|v| (v.id.clone(), v.name.clone()))
                .collect::<Vec<_>>()
        })
    });
    let chosen = Memo::new(move |_| {
        variants.with(|vs| {
            let asked = persona_variant.get();
            let pick = asked
                .and_then(|id| vs.iter().find(|v| v.id == id && !v.is_control))
                .or_else(|| vs.iter().find(|v| v.is_winner))
                .or_else(|| {
                    vs.iter()
                        .filter(|v| !v.is_control)
                        .max_by(|a, b| overall_mean(a).total_cmp(&overall_mean(b)))
                });
            pick.map(|v| v.id.clone())
        })
    });
    let personas = Signal::derive(move || {
        let id = chosen.get();
        variants.with(|vs| {
            vs.iter()
                .find(|v| Some(&v.id) == id.as_ref())
                .map(persona_chart_data)
                .unwrap_or_default()
        })
    });
    let score_format = Callback::new(format_score);
    let difference_format = Callback::new(|v: f64| signed(v, 1));

    view! {
        <div class="optimization-charts">
            <section class="card" aria-labelledby="chart-scores-title">
                <h3 id="chart-scores-title" class="visually-hidden">"Objective per variant"</h3>
                <BarChart title="Objective: overall score per variant, with 95% confidence intervals"
                    data=scores format_value=score_format test_id="chart-scores"/>
            </section>
            <section class="card" aria-labelledby="chart-personas-title">
                <h3 id="chart-personas-title" class="visually-hidden">"Per persona against the control"</h3>
                <Show when=move || { challengers.with(|c| c.len() > 1) }>
                    <label class="persona-variant-picker">
                        "Variant "
                        <select on:change=move |ev| on_persona_variant.run(event_target_value(&ev))>
                            {move || challengers.get().into_iter().map(|(id, name)| {
                                let selected = chosen.get().as_deref() == Some(id.as_str());
                                view! { <option value=id selected=selected>{name}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                </Show>
                <BarChart title="Per persona: where the variant wins (right) and loses (left) against the control"
                    data=personas format_value=difference_format test_id="chart-personas"/>
            </section>
            <section class="card wide-chart" aria-labelledby="chart-metrics-title">
                <h3 id="chart-metrics-title" class="visually-hidden">"Metrics per variant"</h3>
                <HeatMapChart title="All 11 metrics per variant (mean, 0–100)" data=heat
                    format_value=score_format test_id="chart-metrics"/>
            </section>
            <section class="card wide-chart" aria-labelledby="chart-spread-title">
                <h3 id="chart-spread-title" class="visually-hidden">"Spread of conversation scores"</h3>
                <ScoreSpreadChart title="Spread of conversation scores per variant" data=spread
                    format_value=score_format test_id="chart-spread"/>
                <p class="hint chart-note">
                    "Each dot is one simulated conversation's overall score (ranked lowest to highest, "
                    "spread vertically so they do not hide each other)."
                </p>
            </section>
        </div>
    }
}
