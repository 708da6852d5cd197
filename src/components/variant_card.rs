//! One variant of an optimization on its page: the change summary, its numbers, its prompt
//! diffed against the control's, Apply, and its sample conversations.

use converra_api::optimizations::{Optimization, OptimizationStatus, Variant};
use leptos::prelude::*;

use crate::components::diff::WordDiff;
use crate::components::disclosure::Disclosure;
use crate::components::optimization_charts::overall_mean;
use crate::components::optimization_stats::{format_lift, format_score};

/// The status of an arm a stopped run never simulated.
pub const NOT_RUN: &str = "not_run";

/// Whether a variant can be applied now: the run completed (or stopped with results), it
/// is not the control, and it was simulated (an arm that never ran has nothing behind it).
pub fn can_apply(optimization: &Optimization, variant: &Variant) -> bool {
    let finished_with_results = optimization.status == OptimizationStatus::Completed
        || (optimization.status == OptimizationStatus::Stopped && optimization.results.is_some());
    finished_with_results && !variant.is_control && variant.status != NOT_RUN
}

/// One variant: its change summary, its numbers, its prompt against the control's, Apply,
/// and its sample conversations. Reads its variant from `variants` by id, so a poll
/// re-renders only what changed.
#[component]
pub fn VariantCard(
    variant_id: String,
    optimization: RwSignal<Option<Optimization>>,
    variants: RwSignal<Vec<Variant>>,
    diff_only: Signal<bool>,
    on_apply: Callback<(String, String)>,
    on_open_sim: Callback<String>,
) -> impl IntoView {
    let variant = Memo::new({
        let variant_id = variant_id.clone();
        move |_| variants.with(|vs| vs.iter().find(|v| v.id == variant_id).cloned())
    });
    let control_content = Memo::new(move |_| {
        variants.with(|vs| {
            vs.iter()
                .find(|v| v.is_control)
                .map(|v| v.content.clone())
                .unwrap_or_default()
        })
    });
    let appliable = Memo::new(move |_| {
        let v = variant.get();
        optimization.with(|o| match (o, v) {
            (Some(o), Some(v)) => can_apply(o, &v),
            _ => false,
        })
    });
    let applied = Memo::new({
        let variant_id = variant_id.clone();
        move |_| {
            optimization.with(|o| {
                o.as_ref()
                    .and_then(|o| o.applied_variant_id.as_deref())
                    .is_some_and(|a| a == variant_id)
            })
        }
    });
    let disclosure = Memo::new(move |_| {
        optimization.with(|o| o.as_ref().map(Disclosure::of).unwrap_or_default())
    });
    let title_id = format!(
        "variant-{}",
        variant_id.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
    );

    move || {
        let Some(v) = variant.get() else {
            return ().into_any();
        };
        let name = v.name.clone();
        let winner = disclosure.get().shows_winner(&v);
        let new_content = v.content.clone();
        let tested = v.metrics.simulation_count > 0;
        let numbers = tested.then(|| {
            let lift = (!v.is_control).then(|| format!(" · lift {}", format_lift(v.metrics.lift)));
            format!(
                "Mean score {}{} · {} conversations",
                format_score(overall_mean(&v)),
                lift.unwrap_or_default(),
                v.metrics.simulation_count
            )
        });
        let body = if v.is_control {
            view! {
                <details class="control-prompt">
                    <summary>"The control's prompt (the agent's current version)"</summary>
                    <pre class="prompt" tabindex="0">{v.content.clone()}</pre>
                </details>
            }
            .into_any()
        } else {
            view! {
                <div class="variant-diff">
                    <h4>"Prompt against the control"</h4>
                    <WordDiff old=control_content new=new_content differences_only=diff_only/>
                </div>
            }
            .into_any()
        };
        let apply_button = {
            let (id, name) = (v.id.clone(), v.name.clone());
            move || {
                appliable.get().then(|| {
                    let (id, name) = (id.clone(), name.clone());
                    let label = format!("Apply {name}");
                    view! {
                        <button type="button" class="apply-variant" data-testid="apply-variant"
                            data-variant=id.clone() aria-label=label
                            on:click=move |_| on_apply.run((id.clone(), name.clone()))>"Apply"</button>
                    }
                })
            }
        };
        let samples = v.sample_conversation_ids.clone();
        let samples = (!samples.is_empty()).then(|| {
            view! {
                <div class="variant-samples">
                    <h4>"Sample simulated conversations"</h4>
                    <ul>
                        {samples.into_iter().enumerate().map(|(i, sim)| {
                            let label = format!("Conversation {}", i + 1);
                            let open = sim.clone();
                            view! {
                                <li>
                                    <button type="button" class="link-button" data-testid="open-simulation"
                                        on:click=move |_| on_open_sim.run(open.clone())>{label}</button>
                                    " "<code class="muted">{sim}</code>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </div>
            }
        });
        view! {
            <article class="card variant-card" class:winner=winner class:control=v.is_control
                aria-labelledby=title_id.clone() data-testid="variant-card" data-variant=v.id.clone()>
                <header class="variant-head">
                    <h3 id=title_id.clone()>{name}</h3>
                    {v.is_control.then(|| view! { <span class="status-badge">"Control"</span> })}
                    {winner.then(|| view! { <span class="status-badge badge-winner">"Winner"</span> })}
                    {move || applied.get().then(|| view! { <span class="status-badge badge-applied">"Applied"</span> })}
                    <span class="muted variant-status">{v.status.replace('_', " ")}</span>
                    <span class="variant-actions">{apply_button}</span>
                </header>
                {(!v.change_summary.is_empty()).then(|| view! { <p class="change-summary">{v.change_summary.clone()}</p> })}
                {numbers.map(|n| view! { <p class="muted variant-numbers">{n}</p> })}
                {body}
                {samples}
            </article>
        }
        .into_any()
    }
}
