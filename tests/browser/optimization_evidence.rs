//! What an optimization page may claim: a scripted run carries its notice and hides every
//! p-value, probability and confidence; a model run shows its interval at the run's level
//! with its cells and the validation retest; a stopped run names no winner; an arm that
//! never ran cannot be applied; the counts and the duration read as people write them.
#![cfg(target_arch = "wasm32")]

use converra_api::optimizations::{
    Difference, Evidence, Optimization, OptimizationOutcome, OptimizationResults,
    OptimizationStatus, Retest, Variant,
};
use converra_dashboard::components::disclosure::Disclosure;
use converra_dashboard::components::optimization_evidence::{
    model_name, results_sentence, retest_text, run_duration, simulations_text, EvidenceNotice,
    OptimizationResultsCard, SCRIPTED_NOTICE,
};
use converra_dashboard::components::optimization_stats::VariantStatsTable;
use converra_dashboard::components::variant_card::can_apply;
use converra_dashboard::pages::optimizations::outcome_text;
use leptos::prelude::*;
use wasm_bindgen_test::*;

use crate::support::{arms, mount_host, optimization, settle};

const SCRIPTED: Disclosure = Disclosure {
    scripted: true,
    stopped: false,
};
const MODEL: Disclosure = Disclosure {
    scripted: false,
    stopped: false,
};

/// Variant A won at 95% on 12 cells: +6 points, +8.6% of the control's mean.
fn won(retest: Option<Retest>) -> OptimizationResults {
    OptimizationResults {
        winner_selected: true,
        winning_variant_id: Some("var_1".to_owned()),
        lift: 8.57,
        confidence: 0.95,
        outcome: OptimizationOutcome::VariantWon,
        improvement_percentage: 8.57,
        improvement_points: 6.0,
        confidence_level: 0.9,
        cells: 12,
        retest,
        reason: None,
    }
}

fn retest(confirmed: bool) -> Retest {
    Retest {
        variant_id: "var_1".to_owned(),
        cells: 12,
        difference: Difference {
            mean: 5.2,
            ci95_low: 1.0,
            ci95_high: 9.4,
            low: 1.8,
            high: 8.6,
            level: 0.9,
            cells: 12,
        },
        p_value: 0.012,
        confirmed,
    }
}

fn winning_arms() -> Vec<Variant> {
    let mut variants = arms();
    variants[1].is_winner = true;
    variants
}

fn finished(evidence: Evidence, status: OptimizationStatus) -> Optimization {
    let mut o = optimization(status);
    o.evidence = evidence;
    o.engine = match evidence {
        Evidence::Scripted => "offline".to_owned(),
        Evidence::Model => "model:qwen2.5-7b".to_owned(),
    };
    o.results = Some(won(None));
    o.started_at = Some("2026-11-28T10:00:00Z".to_owned());
    o.completed_at = Some("2026-11-28T10:02:05.400Z".to_owned());
    o
}

fn text(host: &web_sys::HtmlElement) -> String {
    host.text_content().unwrap_or_default()
}

#[wasm_bindgen_test]
fn what_a_run_may_claim_follows_its_evidence_and_status() {
    let scripted = Disclosure::of(&finished(Evidence::Scripted, OptimizationStatus::Completed));
    assert_eq!(scripted, SCRIPTED);
    assert!(!scripted.shows_probabilities());
    let model = Disclosure::of(&finished(Evidence::Model, OptimizationStatus::Completed));
    assert_eq!(model, MODEL);
    assert!(model.shows_probabilities());
    let stopped = Disclosure::of(&finished(Evidence::Model, OptimizationStatus::Stopped));
    assert!(!stopped.names_winner());
    assert!(!stopped.shows_winner(&winning_arms()[1]));
    assert!(MODEL.shows_winner(&winning_arms()[1]));
    // Before a run is known, nothing is claimed.
    assert!(!Disclosure::default().shows_probabilities());
    assert_eq!(model_name("model:qwen2.5-7b"), Some("qwen2.5-7b"));
    assert_eq!(model_name("offline"), None);
}

#[wasm_bindgen_test]
fn the_sentence_claims_confidence_only_on_model_runs_and_no_winner_when_stopped() {
    let variants = winning_arms();
    let results = won(None);
    assert_eq!(
        results_sentence(&results, &variants, MODEL),
        "Variant A won: +8.6% on the overall score (+6.0 points), significant at the 95% level."
    );
    let scripted = results_sentence(&results, &variants, SCRIPTED);
    assert_eq!(
        scripted,
        "Variant A did best in the scripted simulation: +8.6% on the overall score (+6.0 points)."
    );
    let stopped = Disclosure {
        scripted: false,
        stopped: true,
    };
    let sentence = results_sentence(&results, &variants, stopped);
    assert_eq!(
        sentence,
        "Stopped before the end: a partial run names no winner."
    );
    assert!(!sentence.contains("Variant A"));
    let mut run = finished(Evidence::Model, OptimizationStatus::Stopped);
    assert_eq!(outcome_text(&run), "Stopped: no winner named");
    run.status = OptimizationStatus::Completed;
    assert_eq!(outcome_text(&run), "A variant won (+8.6%)");
    run.evidence = Evidence::Scripted;
    assert_eq!(outcome_text(&run), "Best in a scripted simulation (+8.6%)");
}

#[wasm_bindgen_test]
fn the_retest_reads_with_its_cells_difference_p_and_verdict() {
    let variants = winning_arms();
    assert_eq!(
        retest_text(&retest(true), &variants),
        "Variant A met the control again on fresh seeds: 12 cells, +5.2 points (+1.8 to +8.6 at 90%), p = 0.012; confirmed."
    );
    assert!(retest_text(&retest(false), &variants).ends_with("not confirmed: no winner is named."));
}

#[wasm_bindgen_test]
fn counts_and_duration_read_as_people_write_them() {
    let run = optimization(OptimizationStatus::Running);
    assert_eq!(simulations_text(&run.progress), "4 of 18 simulations");
    assert_eq!(
        run_duration(
            Some("2026-11-28T10:00:00Z"),
            Some("2026-11-28T10:02:05.400Z"),
            0.0
        )
        .as_deref(),
        Some("2 min 5 s")
    );
    // Still running: up to now.
    let start = converra_dashboard::format::epoch_ms("2026-11-28T10:00:00Z").unwrap();
    assert_eq!(
        run_duration(Some("2026-11-28T10:00:00Z"), None, start + 42_000.0).as_deref(),
        Some("42 s")
    );
    assert_eq!(run_duration(None, None, start), None);
    assert_eq!(run_duration(Some("garbage"), None, start), None);
}

#[wasm_bindgen_test]
fn an_arm_that_never_ran_cannot_be_applied() {
    let done = finished(Evidence::Model, OptimizationStatus::Stopped);
    let mut variants = arms();
    assert!(can_apply(&done, &variants[2]));
    variants[2].status = "not_run".to_owned();
    assert!(!can_apply(&done, &variants[2]));
}

#[wasm_bindgen_test]
async fn a_scripted_run_says_so_and_hides_every_probability() {
    let host = mount_host();
    let variants = winning_arms();
    let table_variants = variants.clone();
    let handle = leptos::mount::mount_to(host.clone(), move || {
        view! {
            <EvidenceNotice evidence=Evidence::Scripted engine="offline"/>
            <OptimizationResultsCard results=won(Some(retest(true))) variants=variants.clone() disclosure=SCRIPTED/>
            <VariantStatsTable variants=table_variants.clone() disclosure=SCRIPTED/>
        }
    });
    handle.forget();
    settle().await;
    let notice = host
        .query_selector("[data-testid=evidence-notice]")
        .unwrap()
        .expect("the notice");
    assert_eq!(notice.get_attribute("role").as_deref(), Some("note"));
    let notice_text = notice.text_content().unwrap();
    assert!(notice_text.contains(SCRIPTED_NOTICE), "{notice_text}");
    assert!(notice_text.contains("not evidence"));
    let all = text(&host);
    for hidden in [
        "P(best)",
        "P(beats control)",
        "Adjusted p",
        "Confidence",
        "significant",
        "93%",
        "0.040",
        "p = ",
    ] {
        assert!(
            !all.contains(hidden),
            "{hidden} shows on a scripted run: {all}"
        );
    }
    assert!(host
        .query_selector("[data-testid=retest]")
        .unwrap()
        .is_none());
    assert!(host
        .query_selector("[data-testid=results-confidence]")
        .unwrap()
        .is_none());
    // What stays: the improvement in its units, and six columns.
    assert_eq!(
        host.query_selector("[data-testid=results-improvement]")
            .unwrap()
            .unwrap()
            .text_content()
            .as_deref(),
        Some("+8.6% of the control's mean (+6.0 points)")
    );
    assert_eq!(
        host.query_selector_all("[data-testid=variant-stats] thead th")
            .unwrap()
            .length(),
        6
    );
    let row = host
        .query_selector("[data-testid=variant-stats] tbody tr[data-variant=var_1]")
        .unwrap()
        .unwrap();
    assert_eq!(row.query_selector_all("td").unwrap().length(), 5);
    host.remove();
}

#[wasm_bindgen_test]
async fn a_model_run_shows_its_interval_cells_confidence_and_retest() {
    let host = mount_host();
    let variants = winning_arms();
    let table_variants = variants.clone();
    let handle = leptos::mount::mount_to(host.clone(), move || {
        view! {
            <EvidenceNotice evidence=Evidence::Model engine="model:qwen2.5-7b"/>
            <OptimizationResultsCard results=won(Some(retest(true))) variants=variants.clone() disclosure=MODEL/>
            <VariantStatsTable variants=table_variants.clone() disclosure=MODEL/>
        }
    });
    handle.forget();
    settle().await;
    let pick = |selector: &str| {
        host.query_selector(selector)
            .unwrap()
            .unwrap_or_else(|| panic!("{selector}"))
            .text_content()
            .unwrap_or_default()
    };
    let notice = pick("[data-testid=evidence-notice]");
    assert!(notice.contains("qwen2.5-7b"), "{notice}");
    assert!(!notice.contains("not evidence"));
    assert_eq!(
        pick("[data-testid=results-difference]"),
        "+6.0 points (+3.5 to +8.5 at 90%), 12 cells"
    );
    assert_eq!(
        pick("[data-testid=results-confidence]"),
        "Significant at 95%"
    );
    let retest = pick("[data-testid=retest]");
    assert!(retest.contains("12 cells"), "{retest}");
    assert!(retest.contains("p = 0.012"), "{retest}");
    assert!(retest.ends_with("confirmed."), "{retest}");
    let all = text(&host);
    for shown in ["P(best)", "P(beats control)", "Adjusted p", "93%"] {
        assert!(all.contains(shown), "{shown} missing: {all}");
    }
    assert_eq!(
        host.query_selector_all("[data-testid=variant-stats] thead th")
            .unwrap()
            .length(),
        9
    );
    assert!(host
        .query_selector("[data-testid=variant-stats] tr.winner-row")
        .unwrap()
        .is_some());
    host.remove();
}

#[wasm_bindgen_test]
async fn a_stopped_run_names_no_winner_anywhere() {
    let host = mount_host();
    let variants = winning_arms();
    let table_variants = variants.clone();
    let stopped = Disclosure {
        scripted: false,
        stopped: true,
    };
    let handle = leptos::mount::mount_to(host.clone(), move || {
        view! {
            <OptimizationResultsCard results=won(None) variants=variants.clone() disclosure=stopped/>
            <VariantStatsTable variants=table_variants.clone() disclosure=stopped/>
        }
    });
    handle.forget();
    settle().await;
    let all = text(&host);
    assert!(all.contains("a partial run names no winner"), "{all}");
    assert!(!all.contains("Winner"), "{all}");
    assert!(!all.contains("Significant at"), "{all}");
    assert!(host.query_selector("tr.winner-row").unwrap().is_none());
    assert!(host
        .query_selector(".results-sentence.winner")
        .unwrap()
        .is_none());
    host.remove();
}

#[wasm_bindgen_test]
fn a_reflective_run_shows_its_generation_while_it_evolves() {
    use converra_api::optimizations::{OptimizationPhase, OptimizationStrategy};
    use converra_dashboard::components::optimization_progress::progress_text;
    let mut run = optimization(OptimizationStatus::Running);
    run.optimization_strategy = OptimizationStrategy::Reflective;
    run.max_iterations = 3;
    run.progress.phase = OptimizationPhase::Generating;
    run.progress.simulations_completed = 0;
    run.progress.generation = Some(2);
    assert_eq!(
        progress_text(&run),
        "Evolving variants, generation 2 of 3, 0 of 18 simulations"
    );
    run.progress.phase = OptimizationPhase::Simulating;
    run.progress.generation = None;
    run.progress.simulations_completed = 4;
    assert_eq!(progress_text(&run), "Simulating, 4 of 18 simulations");
}
