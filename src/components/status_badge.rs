//! Statuses as coloured pills: an agent's, an optimization's and a benchmark's, shared by
//! the list pages and the detail pages.

use converra_api::agents::AgentStatus;
use converra_api::benchmarks::BenchmarkStatus;
use converra_api::optimizations::OptimizationStatus;
use leptos::prelude::*;

/// An agent's status as a coloured pill.
#[component]
pub fn StatusBadge(status: AgentStatus) -> impl IntoView {
    view! { <span class=format!("status-badge status-{}", status.as_str())>{status.as_str()}</span> }
}

/// A status as people read it.
pub fn status_label(status: OptimizationStatus) -> &'static str {
    match status {
        OptimizationStatus::Queued => "Queued",
        OptimizationStatus::Running => "Running",
        OptimizationStatus::Completed => "Completed",
        OptimizationStatus::Failed => "Failed",
        OptimizationStatus::Stopped => "Stopped",
    }
}

/// An optimization's status as a coloured pill.
#[component]
pub fn OptimizationStatusBadge(status: OptimizationStatus) -> impl IntoView {
    view! {
        <span class=format!("status-badge opt-status-{}", status.as_str())>{status_label(status)}</span>
    }
}

/// A benchmark's status as a coloured pill.
#[component]
pub fn BenchmarkStatusBadge(status: BenchmarkStatus) -> impl IntoView {
    view! {
        <span class=format!("status-badge benchmark-{}", status.as_str())>{status.as_str()}</span>
    }
}
