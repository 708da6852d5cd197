//! An optimization's progress: whether it is still live, its phase in words, and the bar
//! the list and the detail page show while it runs.

use converra_api::optimizations::{Optimization, OptimizationPhase};
use leptos::prelude::*;

/// Whether an optimization may still change on its own (queued or running).
pub fn is_live(optimization: &Optimization) -> bool {
    !optimization.status.is_finished()
}

/// The run's progress as a bar screen readers read as a progressbar ("Simulating, 12 of 40
/// simulations").
#[component]
pub fn OptimizationProgressBar(optimization: Optimization) -> impl IntoView {
    let progress = optimization.progress;
    let percent = if progress.percent.is_finite() {
        progress.percent.clamp(0.0, 100.0)
    } else {
        0.0
    };
    let text = progress_text(&optimization);
    let label = format!(
        "Progress of the optimization of {}",
        optimization.agent_name
    );
    view! {
        <div class="opt-progress">
            <div class="progress-track" role="progressbar" aria-label=label
                aria-valuemin="0" aria-valuemax="100" aria-valuenow=format!("{percent:.0}")
                aria-valuetext=text.clone()>
                <div class="progress-fill" style:width=format!("{percent:.1}%")></div>
            </div>
            <span class="opt-progress-text">{format!("{percent:.0}% · {text}")}</span>
        </div>
    }
}

/// The run's progress in words: the phase, the reflective strategy's generation while it
/// evolves, and the simulations played of those planned.
pub fn progress_text(optimization: &Optimization) -> String {
    let progress = &optimization.progress;
    let phase = match (progress.phase, progress.generation) {
        (OptimizationPhase::Generating, Some(generation)) => format!(
            "Evolving variants, generation {generation} of {}",
            optimization.max_iterations.max(generation)
        ),
        (phase, _) => phase_label(phase).to_owned(),
    };
    format!(
        "{phase}, {} of {} simulations",
        progress.simulations_completed, progress.simulations_total
    )
}

/// A phase as people read it.
pub fn phase_label(phase: OptimizationPhase) -> &'static str {
    use OptimizationPhase as P;
    match phase {
        P::Analyzing => "Analyzing",
        P::Generating => "Generating variants",
        P::Simulating => "Simulating",
        P::Evaluating => "Evaluating",
        P::Selecting => "Selecting",
        P::Done => "Done",
    }
}
