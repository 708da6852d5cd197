//! The head of a page about one side of an agent (its insights, its step failures): a link
//! back to the agent, the page's title over the agent's name, and links to its other pages.

use leptos::prelude::*;

use crate::api::agents::get_agent;
use crate::components::page_title::use_page_title;
use crate::query::encode_component;
use crate::signed_in::client_of;
use crate::signed_in::use_signed_in;

/// The pages below `/agents/:id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgentSubpage {
    Insights,
    StepFailures,
}

impl AgentSubpage {
    const ALL: [AgentSubpage; 2] = [AgentSubpage::Insights, AgentSubpage::StepFailures];

    pub fn title(self) -> &'static str {
        match self {
            AgentSubpage::Insights => "Insights",
            AgentSubpage::StepFailures => "Step failures",
        }
    }

    /// The page's path for the agent `agent_id`.
    pub fn href(self, agent_id: &str) -> String {
        let segment = match self {
            AgentSubpage::Insights => "insights",
            AgentSubpage::StepFailures => "step-failures",
        };
        format!("/agents/{}/{segment}", encode_component(agent_id))
    }
}

/// Shows the agent's name once it has loaded, its id until then (or if it cannot load).
#[component]
pub fn AgentSubpageHead(
    #[prop(into)] agent_id: Signal<String>,
    page: AgentSubpage,
) -> impl IntoView {
    let signed_in = use_signed_in();
    let agent = LocalResource::new(move || {
        let id = agent_id.get();
        let client = client_of(signed_in.get());
        async move { get_agent(&client?, &id).await }
    });
    let agent_name = move || {
        agent
            .get()
            .and_then(Result::ok)
            .map(|a| a.name)
            .unwrap_or_else(|| agent_id.get())
    };
    use_page_title(move || format!("{} · {}", page.title(), agent_name()));
    let agent_href = move || format!("/agents/{}", encode_component(&agent_id.get()));
    let other_pages = AgentSubpage::ALL
        .into_iter()
        .filter(|other| *other != page)
        .map(|other| view! { <a href=move || other.href(&agent_id.get())>{other.title()}</a> })
        .collect_view();

    view! {
        <p class="back-link"><a href=agent_href>"← " {agent_name}</a></p>
        <header class="page-head">
            <div>
                <h1>{page.title()}</h1>
                <p class="muted page-subtitle">{agent_name}</p>
            </div>
            <nav class="page-links" aria-label="More about this agent">
                {other_pages}
                <a href="/fleet">"Fleet"</a>
            </nav>
        </header>
    }
}
