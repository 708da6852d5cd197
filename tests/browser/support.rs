//! Helpers more than one module's tests use.
#![cfg(target_arch = "wasm32")]

use std::collections::BTreeMap;

use converra_api::insights::Metric;
use converra_api::optimizations::{
    CostComparison, Difference, Evidence, MetricStats, Optimization, OptimizationMode,
    OptimizationPhase, OptimizationProgress, OptimizationStatus, OptimizationStrategy,
    PersonaResult, SimulationPlan, Variant, VariantMetrics,
};
use leptos::prelude::document;
use wasm_bindgen::JsCast;

/// Whether the canvas holds more than one colour.
pub fn has_drawing(canvas: &web_sys::HtmlCanvasElement) -> bool {
    let context: web_sys::CanvasRenderingContext2d =
        canvas.get_context("2d").unwrap().unwrap().unchecked_into();
    let pixels = context
        .get_image_data(
            0.0,
            0.0,
            f64::from(canvas.width()),
            f64::from(canvas.height()),
        )
        .unwrap()
        .data();
    let first = &pixels[0..4];
    pixels.chunks(4).any(|p| p != first)
}

fn stats(mean: f64, half: f64, n: u32) -> MetricStats {
    MetricStats {
        mean,
        ci95_low: mean - half,
        ci95_high: mean + half,
        n,
    }
}

/// A tested arm whose metrics all sit near `mean`.
pub fn variant(name: &str, position: usize, mean: f64) -> Variant {
    let is_control = position == 0;
    let mut by_metric: BTreeMap<String, MetricStats> = Metric::ALL
        .iter()
        .enumerate()
        .map(|(k, m)| (m.as_str().to_owned(), stats(mean + k as f64 - 5.0, 4.0, 12)))
        .collect();
    by_metric.insert("overallScore".to_owned(), stats(mean, 5.0, 12));
    Variant {
        id: if is_control {
            "var_control".to_owned()
        } else {
            format!("var_{position}")
        },
        optimization_id: "opt_1".to_owned(),
        name: name.to_owned(),
        is_control,
        is_winner: false,
        content: format!("You are {name}."),
        change_summary: String::new(),
        status: "tested".to_owned(),
        metrics: VariantMetrics {
            task_completion: mean,
            response_quality: mean,
            sentiment: mean,
            overall_score: mean,
            lift: if is_control {
                0.0
            } else {
                (mean - 70.0) / 70.0 * 100.0
            },
            confidence: 0.0,
            simulation_count: 12,
        },
        stats: by_metric,
        difference: (!is_control).then_some(Difference {
            mean: mean - 70.0,
            ci95_low: mean - 73.0,
            ci95_high: mean - 67.0,
            low: mean - 72.5,
            high: mean - 67.5,
            level: 0.9,
            cells: 12,
        }),
        test: (!is_control).then(|| "paired t".to_owned()),
        p_value: (!is_control).then_some(0.02),
        p_value_adjusted: (!is_control).then_some(0.04),
        probability_better_than_control: (!is_control).then_some(0.93),
        probability_best: 0.5,
        enough_data: true,
        minimum_detectable_effect: (!is_control).then_some(4.26),
        tokens: CostComparison {
            mean: 300.0,
            difference: 0.0,
        },
        latency_ms: CostComparison {
            mean: 800.0,
            difference: 0.0,
        },
        persona_results: ["Busy professional", "Human seeker", "Power user"]
            .iter()
            .enumerate()
            .map(|(k, p)| PersonaResult {
                persona_id: format!("persona_{k}"),
                persona_name: (*p).to_owned(),
                score: mean + k as f64 * 3.0 - 3.0,
                difference: if is_control {
                    0.0
                } else {
                    k as f64 * 4.0 - 4.5
                },
                conversation_count: 4,
            })
            .collect(),
        conversation_scores: (0..8).map(|k| mean - 7.0 + 2.0 * k as f64).collect(),
        sample_conversation_ids: vec!["sim_1".to_owned()],
        live: None,
    }
}

pub fn arms() -> Vec<Variant> {
    vec![
        variant("Control", 0, 70.0),
        variant("Variant A", 1, 76.0),
        variant("Variant B", 2, 64.0),
    ]
}

pub fn optimization(status: OptimizationStatus) -> Optimization {
    Optimization {
        id: "opt_1".to_owned(),
        agent_id: "agent_1".to_owned(),
        agent_name: "Acme Support".to_owned(),
        agent_version: 3,
        status,
        mode: OptimizationMode::Exploratory,
        variant_count: 2,
        optimization_strategy: OptimizationStrategy::Rewrite,
        max_iterations: 0,
        intent: None,
        persona_ids: Vec::new(),
        simulation: SimulationPlan {
            persona_count: 3,
            scenarios_per_simulation: 1,
            max_turns: 6,
            conversations_per_variant: 6,
            confidence_level: 0.9,
        },
        progress: OptimizationProgress {
            phase: OptimizationPhase::Simulating,
            simulations_completed: 4,
            simulations_total: 18,
            percent: 22.0,
            generation: None,
        },
        results: None,
        engine: "offline".to_owned(),
        evidence: Evidence::Scripted,
        applied_variant_id: None,
        applied_at: None,
        error: None,
        created_at: "2026-11-28T10:00:00Z".to_owned(),
        started_at: None,
        completed_at: None,
        updated_at: "2026-11-28T10:00:00Z".to_owned(),
    }
}

pub fn mount_host() -> web_sys::HtmlElement {
    let host: web_sys::HtmlElement = document().create_element("div").unwrap().unchecked_into();
    document().body().unwrap().append_child(&host).unwrap();
    host
}

pub async fn settle() {
    for _ in 0..20 {
        leptos::task::tick().await;
        gloo_timers::future::sleep(std::time::Duration::from_millis(20)).await;
    }
}
