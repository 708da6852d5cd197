//! A quantity against its limit: a labelled bar that screen readers read as a progressbar
//! ("Conversations, 1,234 of 10,000"), or the count alone when there is no limit.

use leptos::prelude::*;

use crate::format::thousands;

/// Share of the limit used, in percent (0..=100, more when over the limit).
pub fn percent_used(used: u64, limit: u64) -> f64 {
    if limit == 0 {
        if used == 0 {
            0.0
        } else {
            100.0
        }
    } else {
        used as f64 * 100.0 / limit as f64
    }
}

#[component]
pub fn ProgressBar(
    /// What is counted ("Conversations this month").
    #[prop(into)]
    label: String,
    #[prop(into)] used: Signal<u64>,
    /// `None`: unlimited.
    #[prop(into)]
    limit: Signal<Option<u64>>,
    /// A note after the numbers ("2 running now").
    #[prop(optional, into)]
    note: MaybeProp<String>,
) -> impl IntoView {
    let value_text = move || match limit.get() {
        Some(limit) => format!("{} of {}", thousands(used.get()), thousands(limit)),
        None => format!("{} (unlimited)", thousands(used.get())),
    };
    let level = move || match limit.get() {
        Some(limit) => {
            let percent = percent_used(used.get(), limit);
            if percent >= 100.0 {
                "progress full"
            } else if percent >= 80.0 {
                "progress high"
            } else {
                "progress"
            }
        }
        None => "progress unlimited",
    };
    let bar_label = label.clone();
    view! {
        <div class=level>
            <div class="progress-head">
                <span class="progress-label">{label}</span>
                <span class="progress-value">
                    {move || match limit.get() {
                        Some(limit) => view! {
                            <strong>{thousands(used.get())}</strong>
                            {format!(" of {} ({:.0}%)", thousands(limit), percent_used(used.get(), limit).floor())}
                        }.into_any(),
                        None => view! {
                            <strong>{thousands(used.get())}</strong>
                            <span class="muted">" · unlimited"</span>
                        }.into_any(),
                    }}
                </span>
            </div>
            {move || match limit.get() {
                Some(limit) => {
                    let width = format!("{:.1}%", percent_used(used.get(), limit).min(100.0));
                    view! {
                        <div class="progress-track" role="progressbar" aria-label=bar_label.clone()
                            aria-valuemin="0" aria-valuemax=limit.to_string()
                            aria-valuenow=used.get().min(limit).to_string() aria-valuetext=value_text()>
                            <div class="progress-fill" style:width=width></div>
                        </div>
                    }.into_any()
                }
                // Nothing to measure against: a plain track, hidden from screen readers,
                // keeps the rows aligned; the text above says it all.
                None => view! { <div class="progress-track" aria-hidden="true"></div> }.into_any(),
            }}
            {move || note.get().map(|note| view! { <p class="progress-note muted">{note}</p> })}
        </div>
    }
}
