//! The pages the router loads on demand. Each is split into its own wasm chunk at build
//! time (`scripts/bundle-wasm.mjs`), so a first visit downloads only the shell and the
//! agents list; a page's code arrives the first time someone opens it.

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

use crate::pages;

/// A route whose view is `$page`, loaded from a chunk of its own.
macro_rules! page_chunk {
    ($route:ident => $page:path) => {
        #[doc = concat!("The route of [`", stringify!($page), "`], loaded on demand.")]
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_route: Self) -> AnyView {
                view! { <$page/> }.into_any()
            }
        }
    };
}

page_chunk!(AgentRoute => pages::agent::AgentPage);
page_chunk!(AgentInsightsRoute => pages::agent_insights::AgentInsightsPage);
page_chunk!(StepFailuresRoute => pages::step_failures::StepFailuresPage);
page_chunk!(FleetRoute => pages::fleet::FleetPage);
page_chunk!(OptimizationsRoute => pages::optimizations::OptimizationsPage);
page_chunk!(OptimizationNewRoute => pages::optimization_new::OptimizationNewPage);
page_chunk!(OptimizationRoute => pages::optimization::OptimizationPage);
page_chunk!(BenchmarksRoute => pages::benchmarks::BenchmarksPage);
page_chunk!(BenchmarkNewRoute => pages::benchmark_new::BenchmarkNewPage);
page_chunk!(BenchmarkRoute => pages::benchmark::BenchmarkPage);
page_chunk!(ConversationsRoute => pages::conversations::ConversationsPage);
page_chunk!(ConversationRoute => pages::conversation::ConversationPage);
page_chunk!(UsageRoute => pages::usage::UsagePage);
page_chunk!(SettingsRoute => pages::settings::SettingsPage);
page_chunk!(WebhookRoute => pages::webhook::WebhookPage);
