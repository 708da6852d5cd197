//! How long a full redraw of an optimization's comparison charts takes: 10 variants × 11
//! metrics (the heat map), the scores with intervals, the per-persona differences and the
//! spread, each on its own offscreen canvas, 50 times. Prints the median and the slowest
//! redraw; asserts only that every draw succeeded (timings vary with the machine).
//!
//! `cargo test -p converra-dashboard --target wasm32-unknown-unknown --test chart_bench`
#![cfg(target_arch = "wasm32")]

use std::collections::BTreeMap;

use converra_api::insights::Metric;
use converra_api::optimizations::{
    CostComparison, Difference, MetricStats, PersonaResult, Variant, VariantMetrics,
};
use converra_dashboard::components::charts::bar_chart::draw_bar_chart;
use converra_dashboard::components::charts::heat_map::draw_heat_map;
use converra_dashboard::components::charts::score_spread::draw_score_spread;
use converra_dashboard::components::charts::{ChartTheme, DrawContext};
use converra_dashboard::components::optimization_charts::{
    metrics_heat_map_data, persona_chart_data, score_chart_data, spread_data,
};
use converra_dashboard::components::optimization_stats::format_score;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

const VARIANTS: usize = 10;
const REDRAWS: usize = 50;
const PERSONAS: [&str; 8] = [
    "Frustrated customer",
    "Vague requester",
    "Busy professional",
    "Power user",
    "First-time user",
    "Human seeker",
    "Polite regular",
    "Non-native speaker",
];

/// A deterministic spread of numbers in 0..1 (no RNG crate in the dashboard).
fn wobble(i: usize, j: usize) -> f64 {
    let x = ((i * 7_919 + j * 104_729) % 1_000) as f64 / 1_000.0;
    (x * std::f64::consts::TAU).sin() * 0.5 + 0.5
}

fn variants() -> Vec<Variant> {
    (0..VARIANTS)
        .map(|i| {
            let is_control = i == 0;
            let mean = 60.0 + 20.0 * wobble(i, 99);
            let mut stats: BTreeMap<String, MetricStats> = Metric::ALL
                .iter()
                .enumerate()
                .map(|(j, m)| {
                    let v = 40.0 + 55.0 * wobble(i, j);
                    (
                        m.as_str().to_owned(),
                        MetricStats {
                            mean: v,
                            ci95_low: v - 4.0,
                            ci95_high: v + 4.0,
                            n: 60,
                        },
                    )
                })
                .collect();
            stats.insert(
                "overallScore".to_owned(),
                MetricStats {
                    mean,
                    ci95_low: mean - 3.5,
                    ci95_high: mean + 3.5,
                    n: 60,
                },
            );
            Variant {
                id: format!("var_{i}"),
                optimization_id: "opt_bench".to_owned(),
                name: if is_control {
                    "Control".to_owned()
                } else {
                    format!("Variant {}", char::from(b'A' + i as u8 - 1))
                },
                is_control,
                is_winner: i == 3,
                content: String::new(),
                change_summary: String::new(),
                status: "tested".to_owned(),
                metrics: VariantMetrics {
                    task_completion: mean,
                    response_quality: mean,
                    sentiment: mean,
                    overall_score: mean,
                    lift: 0.0,
                    confidence: 0.0,
                    simulation_count: 60,
                },
                stats,
                difference: Some(Difference {
                    mean: 1.0,
                    ci95_low: -2.0,
                    ci95_high: 4.0,
                    low: -1.5,
                    high: 3.5,
                    level: 0.9,
                    cells: 12,
                }),
                test: None,
                p_value: None,
                p_value_adjusted: None,
                probability_better_than_control: None,
                probability_best: 0.1,
                enough_data: true,
                minimum_detectable_effect: None,
                tokens: CostComparison {
                    mean: 0.0,
                    difference: 0.0,
                },
                latency_ms: CostComparison {
                    mean: 0.0,
                    difference: 0.0,
                },
                persona_results: PERSONAS
                    .iter()
                    .enumerate()
                    .map(|(j, name)| PersonaResult {
                        persona_id: format!("persona_{j}"),
                        persona_name: (*name).to_owned(),
                        score: mean + 10.0 * (wobble(i, j + 20) - 0.5),
                        difference: 12.0 * (wobble(i, j + 40) - 0.5),
                        conversation_count: 8,
                    })
                    .collect(),
                // 60 conversations per variant around the mean, ascending as the API sends them.
                conversation_scores: {
                    let mut scores: Vec<f64> = (0..60)
                        .map(|k| (mean - 15.0 + 30.0 * wobble(i, 100 + k)).clamp(0.0, 100.0))
                        .collect();
                    scores.sort_by(f64::total_cmp);
                    scores
                },
                sample_conversation_ids: Vec::new(),
                live: None,
            }
        })
        .collect()
}

fn canvas(width: u32, height: u32) -> web_sys::HtmlCanvasElement {
    let canvas: web_sys::HtmlCanvasElement = web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .create_element("canvas")
        .unwrap()
        .unchecked_into();
    canvas.set_width(width);
    canvas.set_height(height);
    canvas
}

/// `performance.now()`, read through `js_sys` (the dashboard's web-sys features leave out
/// `Performance`).
fn now_ms() -> f64 {
    let global = web_sys::js_sys::global();
    let performance = web_sys::js_sys::Reflect::get(&global, &"performance".into()).unwrap();
    let now: web_sys::js_sys::Function = web_sys::js_sys::Reflect::get(&performance, &"now".into())
        .unwrap()
        .unchecked_into();
    now.call0(&performance).unwrap().as_f64().unwrap()
}

#[wasm_bindgen_test]
fn redraw_ten_variants_by_eleven_metrics() {
    let variants = variants();
    let theme = ChartTheme::from_css();
    let ctx = DrawContext {
        theme: &theme,
        scale: 1.0,
    };
    let format = |v: f64| format_score(v);
    let heat = metrics_heat_map_data(&variants);
    let scores = score_chart_data(&variants);
    let personas = persona_chart_data(&variants[3]);
    let spread = spread_data(&variants);
    // The sizes the page gives them at 1280 px (two charts a row).
    let areas = [
        (canvas(600, heat.natural_height() as u32), "heat"),
        (canvas(600, scores.natural_height() as u32), "scores"),
        (canvas(600, personas.natural_height() as u32), "personas"),
        (canvas(600, spread.natural_height() as u32), "spread"),
    ];
    let roots: Vec<_> = areas
        .iter()
        .map(|(c, _)| {
            CanvasBackend::with_canvas_object(c.clone())
                .unwrap()
                .into_drawing_area()
        })
        .collect();

    let mut times = Vec::with_capacity(REDRAWS);
    let mut regions = 0;
    for _ in 0..REDRAWS {
        let start = now_ms();
        for root in &roots {
            root.fill(&theme.surface).unwrap();
        }
        regions = draw_heat_map(&roots[0], &ctx, &heat, &format)
            .unwrap()
            .len()
            + draw_bar_chart(&roots[1], &ctx, &scores, &format)
                .unwrap()
                .len()
            + draw_bar_chart(&roots[2], &ctx, &personas, &format)
                .unwrap()
                .len()
            + draw_score_spread(&roots[3], &ctx, &spread, &format)
                .unwrap()
                .len();
        for root in &roots {
            root.present().unwrap();
        }
        times.push(now_ms() - start);
    }
    times.sort_by(f64::total_cmp);
    let median = (times[REDRAWS / 2 - 1] + times[REDRAWS / 2]) / 2.0;
    let max = times[REDRAWS - 1];
    console_log!(
        "chart_bench: {REDRAWS} full redraws of 4 charts ({VARIANTS} variants × 11 metrics, 8 personas): median {median:.2} ms, max {max:.2} ms, min {:.2} ms",
        times[0]
    );
    assert_eq!(
        regions,
        VARIANTS * 11 + VARIANTS + PERSONAS.len() + VARIANTS
    );
}
