//! What an optimization's numbers rest on, said where they are read. A scripted (offline)
//! run is a simulation that shows the workflow: every page showing it says so, and its
//! p-values, probabilities and confidence stay out of sight, because its personas reward
//! the very sentences its variants add. A model run shows its difference at the run's
//! level with the cells it rests on, and the validation retest. A stopped run names no
//! winner: its arms may not have met the same cells.

use converra_api::optimizations::{
    Evidence, OptimizationOutcome, OptimizationProgress, OptimizationResults, Retest, Variant,
};
use leptos::prelude::*;

use crate::components::disclosure::Disclosure;
use crate::components::optimization_stats::{
    format_interval, format_level, format_lift, format_p_value, signed,
};
use crate::format::{duration_ms, epoch_ms};

/// The notice every scripted run carries, in the words the page shows.
pub const SCRIPTED_NOTICE: &str = "This is a scripted simulation: the offline engine plays scripted personas that reward the instructions its own variants add. It shows how an optimization works; it is not evidence about how this agent would do with real users. P-values, probabilities and confidence are left out for that reason.";

/// The model an `engine` names (`model:gpt-4o-mini` → `gpt-4o-mini`).
pub fn model_name(engine: &str) -> Option<&str> {
    engine.strip_prefix("model:").filter(|m| !m.is_empty())
}

/// Simulations done of those planned: `"96 of 120 simulations"`.
pub fn simulations_text(progress: &OptimizationProgress) -> String {
    format!(
        "{} of {} simulations",
        progress.simulations_completed, progress.simulations_total
    )
}

/// How long the run took, or has taken so far when it has not finished: `"2 min 5 s"`.
pub fn run_duration(
    started_at: Option<&str>,
    completed_at: Option<&str>,
    now_ms: f64,
) -> Option<String> {
    let start = epoch_ms(started_at?)?;
    let end = match completed_at {
        Some(at) => epoch_ms(at)?,
        None => now_ms,
    };
    (end >= start).then(|| duration_ms((end - start).round() as u64))
}

/// The improvement in the results' own units: `"+6.1% of the control's mean (+4.3 points)"`.
pub fn improvement_text(results: &OptimizationResults) -> String {
    format!(
        "{} of the control's mean ({} points)",
        format_lift(results.improvement_percentage),
        signed(results.improvement_points, 1)
    )
}

/// The variant the results speak of: the named winner, else the arm that gained most.
pub fn compared_variant<'a>(
    results: &OptimizationResults,
    variants: &'a [Variant],
) -> Option<&'a Variant> {
    let named = results
        .winning_variant_id
        .as_ref()
        .and_then(|id| variants.iter().find(|v| &v.id == id));
    named.or_else(|| {
        variants
            .iter()
            .filter(|v| !v.is_control && v.difference.is_some())
            .max_by(|a, b| {
                let mean = |v: &Variant| v.difference.map_or(f64::NEG_INFINITY, |d| d.mean);
                mean(a).total_cmp(&mean(b))
            })
    })
}

/// The compared variant's difference at the run's level: `"+4.3 points (+1.2 to +7.4 at
/// 90%), 15 cells"`.
pub fn difference_text(variant: &Variant) -> Option<String> {
    let d = variant.difference?;
    Some(format!(
        "{} points ({} at {}), {} cells",
        signed(d.mean, 1),
        format_interval(d.low, d.high),
        format_level(d.level),
        d.cells
    ))
}

/// The validation retest in a sentence.
pub fn retest_text(retest: &Retest, variants: &[Variant]) -> String {
    let name = variants
        .iter()
        .find(|v| v.id == retest.variant_id)
        .map_or(retest.variant_id.as_str(), |v| v.name.as_str());
    let d = retest.difference;
    let verdict = if retest.confirmed {
        "confirmed"
    } else {
        "not confirmed: no winner is named"
    };
    format!(
        "{name} met the control again on fresh seeds: {} cells, {} points ({} at {}), p = {}; {verdict}.",
        retest.cells,
        signed(d.mean, 1),
        format_interval(d.low, d.high),
        format_level(d.level),
        format_p_value(retest.p_value)
    )
}

/// What the results say, in a sentence: the winner and its gain, or why there is none.
/// Scripted runs claim no confidence; stopped runs name no winner.
pub fn results_sentence(
    results: &OptimizationResults,
    variants: &[Variant],
    disclosure: Disclosure,
) -> String {
    if disclosure.stopped {
        return "Stopped before the end: a partial run names no winner.".to_owned();
    }
    let winner = results
        .winning_variant_id
        .as_ref()
        .and_then(|id| variants.iter().find(|v| &v.id == id))
        .map(|v| v.name.clone());
    let gain = format!(
        "{} on the overall score ({} points)",
        format_lift(results.improvement_percentage),
        signed(results.improvement_points, 1)
    );
    match (results.winner_selected, winner, results.outcome) {
        (true, Some(name), _) if disclosure.scripted => {
            format!("{name} did best in the scripted simulation: {gain}.")
        }
        (true, Some(name), _) => format!(
            "{name} won: {gain}, significant at the {} level.",
            format_level(results.confidence)
        ),
        (_, _, OptimizationOutcome::OriginalWon) => {
            "The original prompt (the control) did best; no variant beat it.".to_owned()
        }
        (_, _, OptimizationOutcome::VariantWon) => format!("A variant won: {gain}."),
        (_, _, OptimizationOutcome::Inconclusive) => {
            "Inconclusive: no variant is clearly better than the control.".to_owned()
        }
    }
}

fn outcome_label(outcome: OptimizationOutcome, disclosure: Disclosure) -> &'static str {
    if disclosure.stopped {
        return "Stopped: no winner named";
    }
    match outcome {
        OptimizationOutcome::VariantWon => "A variant won",
        OptimizationOutcome::OriginalWon => "The original won",
        OptimizationOutcome::Inconclusive => "Inconclusive",
    }
}

/// The notice on a scripted run, or the model a model run was played and judged by.
#[component]
pub fn EvidenceNotice(evidence: Evidence, #[prop(into)] engine: String) -> impl IntoView {
    match evidence {
        Evidence::Scripted => view! {
            <div class="notice evidence-notice" role="note" data-testid="evidence-notice" data-evidence="scripted">
                <strong>"Scripted simulation, not evidence"</strong>
                <p>{SCRIPTED_NOTICE}</p>
            </div>
        }
        .into_any(),
        Evidence::Model => {
            let model = model_name(&engine).unwrap_or("a language model").to_owned();
            view! {
                <p class="muted evidence-note" data-testid="evidence-notice" data-evidence="model">
                    {format!("Conversations played and judged by {model}; the paired test runs over persona × scenario cells.")}
                </p>
            }
            .into_any()
        }
    }
}

/// The results of a run as its evidence allows: the sentence, the reason there is no
/// winner, the improvement, and on model runs the difference at the run's level, the
/// confidence and the validation retest.
#[component]
pub fn OptimizationResultsCard(
    results: OptimizationResults,
    variants: Vec<Variant>,
    disclosure: Disclosure,
) -> impl IntoView {
    let sentence = results_sentence(&results, &variants, disclosure);
    let reason = results.reason.clone();
    let model_facts = disclosure.shows_probabilities().then(|| {
        let difference = compared_variant(&results, &variants).and_then(difference_text);
        let confidence = if results.confidence > 0.0 && disclosure.names_winner() {
            format!("Significant at {}", format_level(results.confidence))
        } else {
            format!(
                "Not significant at {}",
                format_level(results.confidence_level)
            )
        };
        view! {
            {difference.map(|d| view! {
                <div><dt>"Difference"</dt><dd data-testid="results-difference">{d}</dd></div>
            })}
            <div><dt>"Confidence"</dt><dd data-testid="results-confidence">{confidence}</dd></div>
        }
    });
    let retest = results
        .retest
        .as_ref()
        .filter(|_| disclosure.shows_probabilities())
        .map(|retest| {
            let text = retest_text(retest, &variants);
            view! {
                <p class="retest" class:confirmed=retest.confirmed data-testid="retest">
                    <strong>"Validation retest: "</strong>{text}
                </p>
            }
        });
    view! {
        <section class="card opt-results" aria-labelledby="opt-results-title" data-testid="results">
            <h2 id="opt-results-title">"Results"</h2>
            <p class="results-sentence" class:winner=results.winner_selected && disclosure.names_winner()>{sentence}</p>
            {reason.map(|reason| view! { <p class="no-winner-reason" data-testid="no-winner-reason">{reason}</p> })}
            <dl class="facts results-facts">
                <div><dt>"Outcome"</dt><dd>{outcome_label(results.outcome, disclosure)}</dd></div>
                <div><dt>"Improvement"</dt><dd data-testid="results-improvement">{improvement_text(&results)}</dd></div>
                {model_facts}
            </dl>
            {retest}
        </section>
    }
}
