//! One agent (`/agents/:id`): its prompt (as text), settings, the edit form, the version
//! history and a word diff between two versions chosen in the URL
//! (`?diffBase=2&diffTarget=4&diffOnly=1`), so a diff can be linked to.

use converra_api::agents::{Agent, AgentVersion, UpdateAgent, VersionSource};
use converra_api::FieldError;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use leptos_router::params::ParamsMap;
use leptos_router::NavigateOptions;

use crate::api::agents::{get_agent, list_agent_versions, update_agent};
use crate::api::ClientError;
use crate::components::agent_form::{server_field_error, AgentFields, AgentForm};
use crate::components::boundary_errors::BoundaryErrors;
use crate::components::diff::WordDiff;
use crate::components::error_panel::ErrorPanel;
use crate::components::loading::Loading;
use crate::components::page_title::use_page_title;
use crate::components::status_badge::StatusBadge;
use crate::components::timestamp::RelativeTime;
use crate::format;
use crate::query::{build_query, encode_component};
use crate::signed_in::client_of;
use crate::signed_in::use_signed_in;

/// The two versions the diff compares, as the URL asks for them (`diffBase`, `diffTarget`)
/// and whether unchanged runs are collapsed (`diffOnly=1`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiffQuery {
    pub base: Option<u32>,
    pub target: Option<u32>,
    pub differences_only: bool,
}

impl DiffQuery {
    pub fn from_params(params: &ParamsMap) -> Self {
        let number = |key: &str| params.get(key).and_then(|v| v.trim().parse().ok());
        DiffQuery {
            base: number("diffBase"),
            target: number("diffTarget"),
            differences_only: matches!(params.get("diffOnly").as_deref(), Some("1" | "true")),
        }
    }

    /// `?diffBase=…&diffTarget=…&diffOnly=1`, leaving out what is unset.
    pub fn to_url_query(&self) -> String {
        let mut pairs = Vec::new();
        if let Some(base) = self.base {
            pairs.push(("diffBase", base.to_string()));
        }
        if let Some(target) = self.target {
            pairs.push(("diffTarget", target.to_string()));
        }
        if self.differences_only {
            pairs.push(("diffOnly", "1".to_owned()));
        }
        build_query(pairs)
    }

    /// The versions to compare among `available` (any order): the asked-for ones when they
    /// exist, else the newest and the one before it. `None` with fewer than two versions.
    pub fn resolve(&self, available: &[u32]) -> Option<(u32, u32)> {
        let mut sorted = available.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() < 2 {
            return None;
        }
        let exists = |v: &u32| sorted.contains(v);
        let newest = sorted[sorted.len() - 1];
        let target = self.target.filter(exists).unwrap_or(newest);
        let before_target = sorted
            .iter()
            .rev()
            .find(|v| **v < target)
            .copied()
            // The target is the oldest: compare it with the next one instead.
            .unwrap_or(sorted[1]);
        let base = self.base.filter(exists).unwrap_or(before_target);
        Some((base, target))
    }
}

/// What a version's "note" column says: where a version came from beyond its source.
fn version_note(version: &AgentVersion) -> Option<String> {
    match (&version.optimization_id, &version.variant_id) {
        (Some(optimization), Some(variant)) => {
            Some(format!("Variant {variant} of optimization {optimization}"))
        }
        (Some(optimization), None) => Some(format!("From optimization {optimization}")),
        _ => None,
    }
}

fn source_label(source: VersionSource) -> &'static str {
    match source {
        VersionSource::Manual => "Manual",
        VersionSource::Optimization => "Optimization",
        VersionSource::Sdk => "SDK",
        VersionSource::Otel => "OpenTelemetry",
    }
}

#[component]
pub fn AgentPage() -> impl IntoView {
    let signed_in = use_signed_in();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));

    let save = Action::new_local(move |(id, change): &(String, UpdateAgent)| {
        let (id, change) = (id.clone(), change.clone());
        let client = client_of(signed_in.get_untracked());
        async move { update_agent(&client?, &id, &change).await }
    });
    // Bumped by a save that succeeded only, to reload the version history. A refused save
    // must not touch the agent, since that would rebuild the form over what the user typed.
    let saved = RwSignal::new(0u32);
    let agent = LocalResource::new(move || {
        let id = id.get();
        let client = client_of(signed_in.get());
        async move { get_agent(&client?, &id).await }
    });
    use_page_title(move || {
        agent
            .try_get()
            .flatten()
            .and_then(Result::ok)
            .map_or_else(|| "Agent".to_owned(), |a| a.name)
    });
    let versions = LocalResource::new(move || {
        let id = id.get();
        saved.track();
        let client = client_of(signed_in.get());
        async move { list_agent_versions(&client?, &id).await }
    });

    let editing = RwSignal::new(false);
    // Lives here rather than in the detail, so nothing the page redraws loses what is typed.
    let form = RwSignal::new(AgentForm::default());
    let notice = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(updated)) = save.value().get() {
            editing.set(false);
            notice.set(Some(format!(
                "Saved. {} is at version {}.",
                updated.name, updated.version
            )));
            // The answer is the saved agent: shown at once, the settings never sit beside the
            // notice still showing the version before, as a refetch in flight would.
            agent.set(Some(Ok(updated)));
            saved.update(|n| *n += 1);
        }
    });

    let detail = move || {
        Suspend::new(async move {
            agent.await.map(|agent| {
                view! { <AgentDetail agent editing form save notice/> }
            })
        })
    };
    let history = move || {
        Suspend::new(async move {
            versions.await.map(|page| {
                let shown = page.data.len();
                let total = page.pagination.total;
                let versions = page.data;
                view! {
                    <VersionHistory agent_id=id.get_untracked() versions/>
                    {(total > shown as u64).then(|| view! {
                        <p class="muted">{format!("Showing the newest {shown} of {total} versions.")}</p>
                    })}
                }
            })
        })
    };

    view! {
        <section class="agent-page">
            <p class="back-link"><A href="/agents">"← All agents"</A></p>
            <Transition fallback=|| view! { <Loading what="the agent" rows=6/> }>
                <ErrorBoundary fallback=move |errors| view! {
                    <BoundaryErrors errors/>
                    <button type="button" class="retry" on:click=move |_| agent.refetch()>"Retry"</button>
                }>
                    {detail}
                </ErrorBoundary>
            </Transition>
            <section class="card versions" aria-labelledby="versions-title">
                <h2 id="versions-title">"Version history"</h2>
                <Transition fallback=|| view! { <Loading what="versions" rows=3/> }>
                    <ErrorBoundary fallback=move |errors| view! {
                        <BoundaryErrors errors/>
                        <button type="button" class="retry" on:click=move |_| versions.refetch()>"Retry"</button>
                    }>
                        {history}
                    </ErrorBoundary>
                </Transition>
            </section>
        </section>
    }
}

/// The agent's header, links, edit form, prompt and settings.
#[component]
fn AgentDetail(
    agent: Agent,
    editing: RwSignal<bool>,
    form: RwSignal<AgentForm>,
    save: Action<(String, UpdateAgent), Result<Agent, ClientError>>,
    notice: RwSignal<Option<String>>,
) -> impl IntoView {
    let agent = StoredValue::new(agent);
    let id = agent.with_value(|a| a.id.clone());
    let encoded_id = encode_component(&id);
    let field_errors = RwSignal::new(Vec::<FieldError>::new());
    let unchanged = RwSignal::new(false);
    let failure = Signal::derive(move || save.value().get().and_then(Result::err));
    let server_error = Signal::derive(move || failure.get().as_ref().and_then(server_field_error));

    let start_editing = move |_| {
        form.set(agent.with_value(AgentForm::of));
        field_errors.set(Vec::new());
        unchanged.set(false);
        save.value().set(None);
        notice.set(None);
        editing.set(true);
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let errors = agent.with_value(|a| form.with(|f| f.validate(Some(a))));
        let valid = errors.is_empty();
        field_errors.set(errors);
        save.value().set(None);
        if !valid {
            return;
        }
        match agent.with_value(|a| form.with(|f| f.to_update(a))) {
            Some(change) => {
                unchanged.set(false);
                save.dispatch_local((agent.with_value(|a| a.id.clone()), change));
            }
            None => unchanged.set(true),
        }
    };
    let pending = save.pending();

    let a = agent.get_value();
    let optional_row = |label: &'static str, value: Option<String>| {
        value.map(|value| view! { <div><dt>{label}</dt><dd>{value}</dd></div> })
    };
    let settings = view! {
        <dl class="settings-list">
            <div><dt>"Model"</dt><dd><code>{a.llm_model.clone()}</code></dd></div>
            <div><dt>"Status"</dt><dd><StatusBadge status=a.status/></dd></div>
            <div><dt>"Version"</dt><dd>{a.version}</dd></div>
            <div><dt>"Conversations"</dt><dd>{format::thousands(a.conversation_count)}</dd></div>
            <div><dt>"Quality"</dt><dd>{format::quality_text(a.avg_quality_score)}</dd></div>
            {optional_row("Description", a.description.clone())}
            {optional_row("Tags", (!a.tags.is_empty()).then(|| a.tags.join(", ")))}
            {optional_row("Objective", a.objective.clone())}
            {optional_row("Constraints", a.constraints.clone())}
            {optional_row("Temperature", a.temperature.map(format::number))}
            {optional_row("Top P", a.top_p.map(format::number))}
            {optional_row("Max tokens", a.max_tokens.map(|t| format::thousands(u64::from(t))))}
            {optional_row("Reasoning effort", a.reasoning_effort.clone())}
            {a.last_optimized_at.clone().map(|at| view! { <div><dt>"Last optimized"</dt><dd><RelativeTime at/></dd></div> })}
            <div><dt>"Created"</dt><dd><RelativeTime at=a.created_at.clone()/></dd></div>
            <div><dt>"Updated"</dt><dd><RelativeTime at=a.updated_at.clone()/></dd></div>
            <div><dt>"Content hash"</dt><dd><code title=a.content_hash.clone()>{a.content_hash.chars().take(12).collect::<String>()}"…"</code></dd></div>
        </dl>
    };

    view! {
        <header class="agent-head">
            <div class="agent-title">
                <h1>{a.name.clone()}</h1>
                <StatusBadge status=a.status/>
                <span class="version-pill">{format!("v{}", a.version)}</span>
            </div>
            <nav class="agent-links" aria-label="About this agent">
                <A href=format!("/conversations?agentId={encoded_id}")>"Conversations"</A>
                <A href=format!("/agents/{encoded_id}/insights")>"Insights"</A>
                <A href=format!("/agents/{encoded_id}/step-failures")>"Step failures"</A>
                <A href=format!("/optimizations?agentId={encoded_id}")>"Optimizations"</A>
                <A href=format!("/optimizations/new?agentId={encoded_id}")>"Optimize this agent"</A>
            </nav>
            <button type="button" class="secondary" aria-expanded=move || editing.get().to_string()
                on:click=start_editing disabled=move || editing.get()>"Edit agent"</button>
        </header>
        {move || notice.get().map(|text| view! { <p class="notice saved-notice" role="status">{text}</p> })}
        <Show when=move || editing.get()>
            <form class="card edit-agent" on:submit=submit novalidate aria-labelledby="edit-agent-title">
                <h2 id="edit-agent-title">"Edit agent"</h2>
                <AgentFields form field_errors server_error prefix="edit-agent"
                    model_hint="A new prompt or model makes a new version."/>
                <div class="form-actions">
                    <button type="submit" disabled=move || pending.get()>
                        {move || if pending.get() { "Saving…" } else { "Save" }}
                    </button>
                    <button type="button" class="secondary" on:click=move |_| editing.set(false)>"Cancel"</button>
                </div>
                {move || unchanged.get().then(|| view! { <p class="hint" role="status">"Nothing has changed yet."</p> })}
                {move || failure.get().map(|error| view! { <ErrorPanel error/> })}
            </form>
        </Show>
        <div class="agent-body">
            // While editing, the prompt is in the form; showing it twice invites editing the
            // wrong one.
            <Show when=move || !editing.get()>
                <section class="card prompt-card" aria-labelledby="prompt-title">
                    <h2 id="prompt-title">"System prompt"</h2>
                    <pre class="prompt" tabindex="0" aria-labelledby="prompt-title">{agent.with_value(|a| a.content.clone())}</pre>
                </section>
            </Show>
            <section class="card settings-card" aria-labelledby="settings-title">
                <h2 id="settings-title">"Settings"</h2>
                {settings}
            </section>
        </div>
    }
}

/// The versions, newest first, and the diff between the two the URL chooses.
#[component]
fn VersionHistory(agent_id: String, versions: Vec<AgentVersion>) -> impl IntoView {
    let query_map = use_query_map();
    let navigate = use_navigate();
    let diff_query = Memo::new(move |_| DiffQuery::from_params(&query_map.get()));
    let numbers: Vec<u32> = versions.iter().map(|v| v.version).collect();
    let versions = StoredValue::new(versions);
    let choice = Memo::new(move |_| diff_query.get().resolve(&numbers));
    let path = format!("/agents/{}", encode_component(&agent_id));

    let go = move |next: DiffQuery| {
        navigate(
            &format!("{path}{}", next.to_url_query()),
            NavigateOptions {
                scroll: false,
                ..NavigateOptions::default()
            },
        );
    };
    // A change to one select pins both, so the link says exactly what is shown.
    let set_base = {
        let go = go.clone();
        move |ev: leptos::ev::Event| {
            if let (Ok(base), Some((_, target))) =
                (event_target_value(&ev).parse(), choice.get_untracked())
            {
                go(DiffQuery {
                    base: Some(base),
                    target: Some(target),
                    ..diff_query.get_untracked()
                });
            }
        }
    };
    let set_target = {
        let go = go.clone();
        move |ev: leptos::ev::Event| {
            if let (Ok(target), Some((base, _))) =
                (event_target_value(&ev).parse(), choice.get_untracked())
            {
                go(DiffQuery {
                    base: Some(base),
                    target: Some(target),
                    ..diff_query.get_untracked()
                });
            }
        }
    };
    let toggle_only = move |ev: leptos::ev::Event| {
        go(DiffQuery {
            differences_only: event_target_checked(&ev),
            ..diff_query.get_untracked()
        });
    };

    let content_of = move |number: u32| {
        versions.with_value(|vs| {
            vs.iter()
                .find(|v| v.version == number)
                .map(|v| (v.content.clone(), v.llm_model.clone()))
                .unwrap_or_default()
        })
    };
    let old = Signal::derive(move || {
        choice
            .get()
            .map(|(b, _)| content_of(b).0)
            .unwrap_or_default()
    });
    let new = Signal::derive(move || {
        choice
            .get()
            .map(|(_, t)| content_of(t).0)
            .unwrap_or_default()
    });
    let differences_only = Signal::derive(move || diff_query.get().differences_only);
    let model_change =
        move || {
            let (base, target) = choice.get()?;
            let (from, to) = (content_of(base).1, content_of(target).1);
            (from != to).then(|| view! {
            <p class="model-change">"Model: " <code>{from}</code> " → " <code>{to}</code></p>
        })
        };

    let options = move |selected: fn((u32, u32)) -> u32| {
        versions.with_value(|vs| {
            vs.iter()
                .map(|v| {
                    let number = v.version;
                    let label = format!(
                        "v{number} · {} · {}",
                        source_label(v.source),
                        format::date(&v.created_at)
                    );
                    view! {
                        <option value=number.to_string()
                            selected=move || choice.get().map(selected) == Some(number)>{label}</option>
                    }
                })
                .collect_view()
        })
    };

    let rows = versions.with_value(|vs| {
        vs.iter()
            .map(|v| {
                let note = version_note(v).unwrap_or_else(|| "—".to_owned());
                view! {
                    <tr>
                        <th scope="row" data-label="Version">{format!("v{}", v.version)}</th>
                        <td data-label="Source"><span class=format!("status-badge source-{}", v.source.as_str())>{source_label(v.source)}</span></td>
                        <td data-label="Date"><RelativeTime at=v.created_at.clone()/></td>
                        <td data-label="Model"><code>{v.llm_model.clone()}</code></td>
                        <td data-label="Note" class="version-note">{note}</td>
                    </tr>
                }
            })
            .collect_view()
    });
    let single = versions.with_value(|vs| vs.len() < 2);

    view! {
        <table class="list-table versions-table">
            <caption class="visually-hidden">"Versions, newest first"</caption>
            <thead>
                <tr>
                    <th scope="col">"Version"</th>
                    <th scope="col">"Source"</th>
                    <th scope="col">"Date"</th>
                    <th scope="col">"Model"</th>
                    <th scope="col">"Note"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        <section class="diff-section" aria-labelledby="diff-title">
            <h2 id="diff-title">"Compare versions"</h2>
            {if single {
                view! { <p class="muted">"There is one version so far. Edit the prompt or model to make another, then compare them here."</p> }.into_any()
            } else {
                view! {
                    <div class="diff-controls">
                        <div class="field">
                            <label for="diff-base">"From"</label>
                            <select id="diff-base" on:change=set_base>{options(|(b, _)| b)}</select>
                        </div>
                        <div class="field">
                            <label for="diff-target">"To"</label>
                            <select id="diff-target" on:change=set_target>{options(|(_, t)| t)}</select>
                        </div>
                        <label class="checkbox">
                            <input type="checkbox" prop:checked=move || differences_only.get() on:change=toggle_only/>
                            "Show differences only"
                        </label>
                    </div>
                    {model_change}
                    <WordDiff old new differences_only/>
                }.into_any()
            }}
        </section>
    }
}
