//! One simulated conversation of an optimization in a dialog: who talked, about what, how
//! it scored, and the messages.

use converra_api::insights::Metric;
use converra_api::optimizations::SimulatedTranscript;
use leptos::prelude::*;

use crate::api::optimizations::get_simulation;
use crate::components::confirm::Dialog;
use crate::components::error_panel::ErrorPanel;
use crate::components::loading::Loading;
use crate::components::optimization_stats::format_score;
use crate::components::transcript::Transcript;
use crate::format;
use crate::signed_in::{client_of, use_signed_in};

/// The simulated conversation the URL names, in a dialog: who talked, about what, how it
/// scored, and the messages.
#[component]
pub fn SimulationDialog(
    #[prop(into)] optimization_id: Signal<String>,
    #[prop(into)] sim_id: Signal<Option<String>>,
    on_close: Callback<()>,
) -> impl IntoView {
    let signed_in = use_signed_in();
    let open = Signal::derive(move || sim_id.with(Option::is_some));
    let simulation = LocalResource::new(move || {
        let sim = sim_id.get();
        let id = optimization_id.get();
        let client = client_of(signed_in.get());
        async move {
            match sim {
                Some(sim) => get_simulation(&client?, &id, &sim).await.map(Some),
                None => Ok(None),
            }
        }
    });
    let body = move || match simulation.get() {
        None => view! { <Loading what="the conversation" rows=4/> }.into_any(),
        Some(Err(error)) => view! { <ErrorPanel error/> }.into_any(),
        Some(Ok(None)) => ().into_any(),
        Some(Ok(Some(transcript))) => view! { <SimulatedConversation transcript/> }.into_any(),
    };
    view! {
        <Dialog open=open title="Simulated conversation" on_close=on_close class="wide sim-dialog">
            <div class="sim-body" data-testid="simulation">{body}</div>
            <div class="dialog-actions">
                <button type="button" class="secondary" on:click=move |_| on_close.run(())>"Close"</button>
            </div>
        </Dialog>
    }
}

#[component]
fn SimulatedConversation(transcript: SimulatedTranscript) -> impl IntoView {
    let metrics = Metric::ALL
        .iter()
        .filter_map(|m| {
            transcript
                .metrics
                .get(m.as_str())
                .map(|v| view! { <div><dt>{m.label()}</dt><dd>{format_score(*v)}</dd></div> })
        })
        .collect_view();
    let raw = RwSignal::new(false);
    let focus = RwSignal::new(None::<usize>);
    view! {
        <dl class="facts sim-facts">
            <div><dt>"Variant"</dt><dd>{transcript.variant_name.clone()}</dd></div>
            <div><dt>"Persona"</dt><dd>{transcript.persona_name.clone()}</dd></div>
            <div><dt>"Scenario"</dt><dd>{transcript.scenario_title.clone()}</dd></div>
            <div><dt>"Overall score"</dt><dd>{format_score(transcript.overall_score)}</dd></div>
            <div><dt>"Task completed"</dt><dd>{if transcript.task_completed { "Yes" } else { "No" }}</dd></div>
            <div><dt>"Messages"</dt><dd>{format::thousands(transcript.messages.len() as u64)}</dd></div>
        </dl>
        <details class="sim-metrics">
            <summary>"The 11 metrics"</summary>
            <dl class="facts">{metrics}</dl>
        </details>
        <Transcript messages=transcript.messages raw=raw focus=focus/>
    }
}
