//! The simulated users a run meets, picked by name: the engine's catalogue as tick boxes,
//! the same in the optimization form and the benchmark form.

use leptos::prelude::*;

/// The simulated users `personaIds` accepts: the engine's catalogue, whose ids are stable
/// (stored optimizations and benchmarks name them) and which the server lists when refusing
/// another id.
pub const PERSONAS: [(&str, &str); 8] = [
    ("persona_frustrated_customer", "Frustrated customer"),
    ("persona_vague_requester", "Vague requester"),
    ("persona_busy_professional", "Busy professional"),
    ("persona_power_user", "Power user"),
    ("persona_first_time_user", "First-time user"),
    ("persona_human_seeker", "Human seeker"),
    ("persona_polite_regular", "Polite regular"),
    ("persona_non_native_speaker", "Non-native speaker"),
];

/// `chosen` with `id` ticked (`on`) or not, kept in the order ticked.
pub fn toggle_persona(chosen: &mut Vec<String>, id: &str, on: bool) {
    chosen.retain(|p| p != id);
    if on {
        chosen.push(id.to_owned());
    }
}

/// A tick box per persona. `chosen` holds the ticked ids; `on_toggle` gets each change;
/// `error_id` is the id of the field's error line, which describes the group.
#[component]
pub fn PersonaPicker(
    #[prop(into)] chosen: Signal<Vec<String>>,
    on_toggle: Callback<(&'static str, bool)>,
    #[prop(into)] error_id: String,
    /// Extra classes of the grid.
    #[prop(optional, into)]
    class: String,
) -> impl IntoView {
    view! {
        <div class=format!("persona-grid {class}") role="group" aria-label="Personas"
            aria-describedby=error_id>
            {PERSONAS.into_iter().map(|(id, name)| view! {
                <label class="choice">
                    <input type="checkbox" value=id
                        prop:checked=move || chosen.with(|c| c.iter().any(|p| p == id))
                        on:change=move |ev| on_toggle.run((id, event_target_checked(&ev)))/>
                    <span>{name}</span>
                </label>
            }).collect_view()}
        </div>
    }
}
