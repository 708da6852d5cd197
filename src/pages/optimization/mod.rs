//! One optimization (`/optimizations/:id`): its phase and progress, followed live (polled
//! with backoff until it finishes), Stop while it runs, its results once evaluated (the
//! winner, or the engine's own reason for naming none), the comparison charts and the
//! statistics table, each variant's prompt diffed against the control with its change
//! summary and Apply, and sample simulated conversations. The URL keeps the per-persona
//! chart's variant (`?persona=`), the diff view (`?diffOnly=1`) and an open conversation
//! (`?sim=`).

use converra_api::optimizations::{
    AppliedVariant, ApplyVariant, Evidence, Optimization, OptimizationIntent, OptimizationPhase,
    OptimizationStatus, SimulationPlan, StopOptimization,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use leptos_router::params::ParamsMap;
use leptos_router::NavigateOptions;

use crate::api::optimizations::{apply_variant, stop_optimization};
use crate::components::confirm::ConfirmDialog;
use crate::components::disclosure::Disclosure;
use crate::components::error_panel::ErrorPanel;
use crate::components::loading::Loading;
use crate::components::optimization_charts::OptimizationCharts;
use crate::components::optimization_evidence::{
    run_duration, simulations_text, EvidenceNotice, OptimizationResultsCard,
};
use crate::components::optimization_progress::{is_live, phase_label, OptimizationProgressBar};
use crate::components::optimization_stats::VariantStatsTable;
use crate::components::page_title::use_page_title;
use crate::components::simulation_dialog::SimulationDialog;
use crate::components::status_badge::OptimizationStatusBadge;
use crate::components::timestamp::{now_ms, RelativeTime};
use crate::components::variant_card::VariantCard;
use crate::query::{build_query, encode_component};
use crate::signed_in::{client_of, use_signed_in};

pub mod poller;

use poller::{follow, Followed};

/// The page's view as the URL keeps it: `?persona=…&diffOnly=1&sim=…`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OptimizationViewQuery {
    /// The variant the per-persona chart shows.
    pub persona: Option<String>,
    /// Collapse unchanged runs in the prompt diffs.
    pub diff_only: bool,
    /// The simulated conversation open in the dialog.
    pub sim: Option<String>,
}

impl OptimizationViewQuery {
    /// The view the router's query map describes.
    pub fn from_params(params: &ParamsMap) -> Self {
        let text = |key: &str| params.get(key).filter(|v| !v.trim().is_empty());
        OptimizationViewQuery {
            persona: text("persona"),
            diff_only: matches!(params.get("diffOnly").as_deref(), Some("1" | "true")),
            sim: text("sim"),
        }
    }

    /// `?persona=…&diffOnly=1&sim=…`, leaving out what is unset.
    pub fn to_url_query(&self) -> String {
        let mut pairs = Vec::new();
        if let Some(persona) = &self.persona {
            pairs.push(("persona", persona.clone()));
        }
        if self.diff_only {
            pairs.push(("diffOnly", "1".to_owned()));
        }
        if let Some(sim) = &self.sim {
            pairs.push(("sim", sim.clone()));
        }
        build_query(pairs)
    }
}

/// The agent page showing the version an apply made, diffed against the one before.
pub fn applied_version_href(agent_id: &str, version: u32) -> String {
    let query = if version > 1 {
        build_query([
            ("diffBase", (version - 1).to_string()),
            ("diffTarget", version.to_string()),
        ])
    } else {
        String::new()
    };
    format!("/agents/{}{query}", encode_component(agent_id))
}

/// The fields of a run that change rarely, so the parts showing them skip the polls.
#[derive(Debug, Clone, PartialEq)]
struct RunFacts {
    id: String,
    agent_id: String,
    agent_name: String,
    agent_version: u32,
    status: OptimizationStatus,
    mode: &'static str,
    variant_count: u32,
    intent: Option<OptimizationIntent>,
    persona_count: usize,
    plan: SimulationPlan,
    engine: String,
    evidence: Evidence,
    created_at: String,
    started_at: Option<String>,
    completed_at: Option<String>,
    applied_variant_id: Option<String>,
    applied_at: Option<String>,
}

impl RunFacts {
    fn of(o: &Optimization) -> RunFacts {
        RunFacts {
            id: o.id.clone(),
            agent_id: o.agent_id.clone(),
            agent_name: o.agent_name.clone(),
            agent_version: o.agent_version,
            status: o.status,
            mode: o.mode.as_str(),
            variant_count: o.variant_count,
            intent: o.intent.clone(),
            persona_count: o.persona_ids.len(),
            plan: o.simulation,
            engine: o.engine.clone(),
            evidence: o.evidence,
            created_at: o.created_at.clone(),
            started_at: o.started_at.clone(),
            completed_at: o.completed_at.clone(),
            applied_variant_id: o.applied_variant_id.clone(),
            applied_at: o.applied_at.clone(),
        }
    }
}

/// One optimization, followed until it finishes.
#[component]
pub fn OptimizationPage() -> impl IntoView {
    let signed_in = use_signed_in();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let followed = Followed {
        optimization: RwSignal::new(None),
        variants: RwSignal::new(Vec::new()),
        error: RwSignal::new(None),
        current: StoredValue::new(0),
    };
    use_page_title(move || {
        followed.optimization.with(|o| {
            o.as_ref().map_or_else(
                || "Optimization".to_owned(),
                |o| format!("Optimization of {}", o.agent_name),
            )
        })
    });
    let restart = RwSignal::new(0u32);
    Effect::new(move |_| {
        let id = id.get();
        restart.track();
        followed.error.set(None);
        if followed
            .optimization
            .with_untracked(|o| o.as_ref().is_some_and(|o| o.id != id))
        {
            followed.optimization.set(None);
            followed.variants.set(Vec::new());
        }
        match client_of(signed_in.get_untracked()) {
            Ok(client) => {
                let token = followed.current.get_value().wrapping_add(1);
                followed.current.set_value(token);
                spawn_local(follow(client, id, token, followed));
            }
            Err(error) => followed.error.set(Some(error)),
        }
    });
    let refollow = Callback::new(move |()| restart.update(|n| *n = n.wrapping_add(1)));
    let present = Memo::new(move |_| followed.optimization.with(Option::is_some));

    view! {
        <section class="optimization-page">
            <p class="back-link"><A href="/optimizations">"← All optimizations"</A></p>
            {move || followed.error.get().map(|error| view! {
                <ErrorPanel error/>
                <button type="button" class="retry" on:click=move |_| refollow.run(())>"Retry"</button>
            })}
            {move || if present.get() {
                view! { <OptimizationDetail followed refollow/> }.into_any()
            } else if followed.error.with(Option::is_none) {
                view! { <Loading what="the optimization" rows=6/> }.into_any()
            } else {
                ().into_any()
            }}
        </section>
    }
}

/// Everything about a loaded optimization.
#[component]
fn OptimizationDetail(followed: Followed, refollow: Callback<()>) -> impl IntoView {
    let signed_in = use_signed_in();
    let query_map = use_query_map();
    let navigate = use_navigate();
    let view_query = Memo::new(move |_| OptimizationViewQuery::from_params(&query_map.get()));
    let optimization = followed.optimization;
    let variants = followed.variants;
    let facts = Memo::new(move |_| optimization.with(|o| o.as_ref().map(RunFacts::of)));
    let status = Memo::new(move |_| {
        optimization.with(|o| o.as_ref().map_or(OptimizationStatus::Queued, |o| o.status))
    });
    let live_run =
        Memo::new(move |_| optimization.with(|o| o.as_ref().filter(|o| is_live(o)).cloned()));
    let results =
        Memo::new(move |_| optimization.with(|o| o.as_ref().and_then(|o| o.results.clone())));
    let job_error =
        Memo::new(move |_| optimization.with(|o| o.as_ref().and_then(|o| o.error.clone())));
    let evaluated = Memo::new(move |_| variants.with(|vs| vs.iter().any(|v| v.status == "tested")));
    let variants_signal = Signal::derive(move || variants.get());

    let go = move |next: OptimizationViewQuery| {
        let path = facts.with_untracked(|f| {
            f.as_ref()
                .map(|f| format!("/optimizations/{}", encode_component(&f.id)))
                .unwrap_or_default()
        });
        navigate(
            &format!("{path}{}", next.to_url_query()),
            NavigateOptions {
                scroll: false,
                ..NavigateOptions::default()
            },
        );
    };

    // Stop, confirmed.
    let confirm_stop = RwSignal::new(false);
    let stop = Action::new_local(move |id: &String| {
        let id = id.clone();
        let client = client_of(signed_in.get_untracked());
        async move { stop_optimization(&client?, &id, &StopOptimization::default()).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(stopped)) = stop.value().get() {
            confirm_stop.set(false);
            optimization.set(Some(stopped));
            refollow.run(());
        }
    });
    let stop_error = Signal::derive(move || stop.value().get().and_then(Result::err));

    // Apply, confirmed per variant.
    let apply_target = RwSignal::new(None::<(String, String)>);
    let apply = Action::new_local(move |(id, variant_id): &(String, String)| {
        let request = ApplyVariant {
            variant_id: Some(variant_id.clone()),
        };
        let id = id.clone();
        let client = client_of(signed_in.get_untracked());
        async move { apply_variant(&client?, &id, &request).await }
    });
    let applied = RwSignal::new(None::<(String, AppliedVariant)>);
    Effect::new(move |_| {
        if let Some(Ok(done)) = apply.value().get() {
            let name = apply_target
                .get_untracked()
                .map(|(_, name)| name)
                .unwrap_or_else(|| done.variant_id.clone());
            apply_target.set(None);
            applied.set(Some((name, done)));
            refollow.run(());
        }
    });
    let apply_error = Signal::derive(move || apply.value().get().and_then(Result::err));
    let request_apply = Callback::new(move |(variant_id, name): (String, String)| {
        apply.value().set(None);
        apply_target.set(Some((variant_id, name)));
    });

    // Polled: the counts and the running time follow the run.
    let run_counts = move || {
        optimization.with(|o| {
            o.as_ref().map(|o| {
                let duration =
                    run_duration(o.started_at.as_deref(), o.completed_at.as_deref(), now_ms())
                        .map(|d| format!(" · {d}"))
                        .unwrap_or_default();
                format!("{}{duration}", simulations_text(&o.progress))
            })
        })
    };
    let disclosure = Memo::new(move |_| {
        optimization.with(|o| o.as_ref().map(Disclosure::of).unwrap_or_default())
    });

    let header = move || {
        facts.get().map(|f| {
            let agent_href = format!("/agents/{}", encode_component(&f.agent_id));
            view! {
                <header class="opt-head">
                    <div class="opt-title">
                        <h1>"Optimization of " {f.agent_name.clone()}</h1>
                        <OptimizationStatusBadge status=f.status/>
                        <span class="version-pill">{f.mode}</span>
                    </div>
                    <p class="muted opt-subtitle">
                        <code>{f.id.clone()}</code>
                        " · control: "<A href=agent_href>{format!("{} v{}", f.agent_name, f.agent_version)}</A>
                        " · engine "<code>{f.engine.clone()}</code>
                    </p>
                    <p class="opt-run-counts" data-testid="run-counts">{run_counts}</p>
                </header>
                <EvidenceNotice evidence=f.evidence engine=f.engine.clone()/>
                <RunFactsList facts=f/>
            }
        })
    };

    // The panel stays while the run is live (so an open Stop dialog survives the polls);
    // only the phases and the bar inside follow each poll.
    let live_now = Memo::new(move |_| live_run.with(Option::is_some));
    let live_panel = move || {
        live_now.get().then(|| {
            view! {
                <section class="card opt-live" aria-labelledby="opt-live-title" data-testid="live-progress">
                    <h2 id="opt-live-title">"In progress"</h2>
                    {move || live_run.get().map(|run| view! {
                        <PhaseSteps phase=run.progress.phase/>
                        <OptimizationProgressBar optimization=run/>
                    })}
                    <p class="hint">"Updates on its own; you can leave this page and come back."</p>
                    <button type="button" class="danger" data-testid="stop-optimization"
                        on:click=move |_| { stop.value().set(None); confirm_stop.set(true); }>"Stop"</button>
                    {move || stop_error.get().map(|error| view! { <ErrorPanel error/> })}
                    <ConfirmDialog open=confirm_stop title="Stop this optimization?"
                        message=Signal::derive(|| "The simulations run so far are kept and evaluated; the rest are skipped. A stopped optimization cannot be resumed.".to_owned())
                        confirm_label="Stop optimization" danger=true busy=stop.pending()
                        on_confirm=move |()| {
                            if let Some(id) = facts.with_untracked(|f| f.as_ref().map(|f| f.id.clone())) {
                                stop.dispatch_local(id);
                            }
                        }
                        on_cancel=move |()| confirm_stop.set(false)/>
                </section>
            }
        })
    };

    let failure = move || {
        job_error.get().map(|error| {
            let stopped = status.get() == OptimizationStatus::Stopped;
            view! {
                <div class=if stopped { "notice" } else { "error-panel" } role="status" data-testid="job-error">
                    <strong class="error-code">{error.code.clone()}</strong>
                    <p class="error-message">{error.message.clone()}</p>
                </div>
            }
        })
    };

    let outcome = move || {
        results.get().map(|results| {
            let variants = variants.get();
            let disclosure = disclosure.get();
            view! { <OptimizationResultsCard results variants disclosure/> }
        })
    };

    let applied_notice = move || {
        if let Some((name, done)) = applied.get() {
            let href = applied_version_href(&done.agent_id, done.agent.version);
            return Some(
                view! {
                    <p class="notice applied-notice" role="status" data-testid="applied-notice">
                        {format!("{name} is now version {} of {}. ", done.agent.version, done.agent.name)}
                        <A href=href>{format!("See version {} on the agent's page", done.agent.version)}</A>
                    </p>
                }
                .into_any(),
            );
        }
        let f = facts.get()?;
        let variant_id = f.applied_variant_id.clone()?;
        let name = variants.with(|vs| {
            vs.iter()
                .find(|v| v.id == variant_id)
                .map(|v| v.name.clone())
                .unwrap_or(variant_id.clone())
        });
        let href = format!("/agents/{}", encode_component(&f.agent_id));
        Some(
            view! {
                <p class="notice applied-notice" role="status">
                    {format!("{name} was applied")}
                    {f.applied_at.clone().map(|at| view! { " " <RelativeTime at/> })}
                    ". " <A href=href>{format!("See {}'s versions", f.agent_name)}</A>
                </p>
            }
            .into_any(),
        )
    };

    let persona_variant = Signal::derive(move || view_query.get().persona);
    let on_persona_variant = {
        let go = go.clone();
        Callback::new(move |variant: String| {
            go(OptimizationViewQuery {
                persona: Some(variant),
                ..view_query.get_untracked()
            })
        })
    };
    let analysis = move || {
        if evaluated.get() {
            view! {
                <section class="opt-analysis" aria-labelledby="opt-analysis-title">
                    <h2 id="opt-analysis-title">"How the variants compare"</h2>
                    <OptimizationCharts variants=variants_signal persona_variant on_persona_variant/>
                    <section class="card" aria-labelledby="opt-stats-title">
                        <h3 id="opt-stats-title">"Statistics"</h3>
                        <VariantStatsTable variants=variants_signal disclosure/>
                    </section>
                </section>
            }
            .into_any()
        } else {
            view! {
                <p class="muted opt-waiting">"Charts and statistics appear once the variants have been evaluated."</p>
            }
            .into_any()
        }
    };

    let diff_only = Signal::derive(move || view_query.get().diff_only);
    let toggle_diff_only = {
        let go = go.clone();
        move |ev: leptos::ev::Event| {
            go(OptimizationViewQuery {
                diff_only: event_target_checked(&ev),
                ..view_query.get_untracked()
            })
        }
    };
    let open_sim = {
        let go = go.clone();
        Callback::new(move |sim: String| {
            go(OptimizationViewQuery {
                sim: Some(sim),
                ..view_query.get_untracked()
            })
        })
    };
    let close_sim = {
        let go = go.clone();
        Callback::new(move |()| {
            go(OptimizationViewQuery {
                sim: None,
                ..view_query.get_untracked()
            })
        })
    };
    let variant_ids =
        Memo::new(move |_| variants.with(|vs| vs.iter().map(|v| v.id.clone()).collect::<Vec<_>>()));
    let variant_cards = move || {
        variant_ids
            .get()
            .into_iter()
            .map(|variant_id| {
                view! { <VariantCard variant_id optimization variants diff_only on_apply=request_apply on_open_sim=open_sim/> }
            })
            .collect_view()
    };

    let apply_message = Signal::derive(move || {
        let name = apply_target.get().map(|(_, name)| name).unwrap_or_default();
        let agent = facts.with(|f| f.as_ref().map(|f| f.agent_name.clone()).unwrap_or_default());
        format!(
            "{agent} gets {name}'s prompt as a new version; conversations from now on use it. The current version stays in the history."
        )
    });
    let apply_open = Signal::derive(move || apply_target.with(Option::is_some));
    let confirm_apply = move |()| {
        let (Some((variant_id, _)), Some(id)) = (
            apply_target.get_untracked(),
            facts.with_untracked(|f| f.as_ref().map(|f| f.id.clone())),
        ) else {
            return;
        };
        apply.dispatch_local((id, variant_id));
    };

    let sim_id = Signal::derive(move || view_query.get().sim);
    let run_id = Signal::derive(move || {
        facts.with(|f| f.as_ref().map(|f| f.id.clone()).unwrap_or_default())
    });

    view! {
        {header}
        {live_panel}
        {failure}
        {outcome}
        {applied_notice}
        {move || apply_error.get().map(|error| view! { <ErrorPanel error/> })}
        {analysis}
        <section class="opt-variants" aria-labelledby="opt-variants-title">
            <div class="section-head">
                <h2 id="opt-variants-title">"Variants"</h2>
                <label class="choice diff-only-toggle">
                    <input type="checkbox" prop:checked=move || diff_only.get() on:change=toggle_diff_only/>
                    "Show differences only"
                </label>
            </div>
            {move || variant_ids.with(Vec::is_empty).then(|| view! {
                <p class="muted">"The variants are being written."</p>
            })}
            {variant_cards}
        </section>
        <ConfirmDialog open=apply_open title="Apply this variant?" message=apply_message
            confirm_label="Apply variant" busy=apply.pending()
            on_confirm=confirm_apply on_cancel=move |()| apply_target.set(None)/>
        <SimulationDialog optimization_id=run_id sim_id on_close=close_sim/>
    }
}

/// The run's settings and times.
#[component]
fn RunFactsList(facts: RunFacts) -> impl IntoView {
    let plan = facts.plan;
    let personas = if facts.persona_count > 0 {
        format!("{} named", facts.persona_count)
    } else {
        plan.persona_count.to_string()
    };
    let intent = facts.intent.clone().map(|intent| {
        let targets = intent.target_improvements.clone();
        view! {
            <div class="facts-wide">
                <dt>"Objective"</dt>
                <dd>
                    {(!targets.is_empty()).then(|| view! {
                        <ul class="targets">{targets.into_iter().map(|t| view! { <li>{t}</li> }).collect_view()}</ul>
                    })}
                    {intent.hypothesis.clone().map(|h| view! { <p class="hypothesis">"Hypothesis: "{h}</p> })}
                </dd>
            </div>
        }
    });
    view! {
        <dl class="facts opt-facts">
            <div><dt>"Variants"</dt><dd>{format!("{} + control", facts.variant_count)}</dd></div>
            <div><dt>"Conversations per variant"</dt><dd>{plan.conversations_per_variant}</dd></div>
            <div><dt>"Personas × scenarios"</dt><dd>{format!("{personas} × {}", plan.scenarios_per_simulation)}</dd></div>
            <div><dt>"Turns, at most"</dt><dd>{plan.max_turns}</dd></div>
            <div><dt>"Confidence needed"</dt><dd>{format!("{:.0}%", plan.confidence_level * 100.0)}</dd></div>
            <div><dt>"Created"</dt><dd><RelativeTime at=facts.created_at.clone()/></dd></div>
            {facts.started_at.clone().map(|at| view! { <div><dt>"Started"</dt><dd><RelativeTime at/></dd></div> })}
            {facts.completed_at.clone().map(|at| view! { <div><dt>"Finished"</dt><dd><RelativeTime at/></dd></div> })}
            {intent}
        </dl>
    }
}

/// The phases in order, the current one marked.
#[component]
fn PhaseSteps(phase: OptimizationPhase) -> impl IntoView {
    const PHASES: [OptimizationPhase; 6] = [
        OptimizationPhase::Analyzing,
        OptimizationPhase::Generating,
        OptimizationPhase::Simulating,
        OptimizationPhase::Evaluating,
        OptimizationPhase::Selecting,
        OptimizationPhase::Done,
    ];
    let current = PHASES.iter().position(|p| *p == phase).unwrap_or(0);
    view! {
        <ol class="phase-steps" aria-label="Phases">
            {PHASES.iter().enumerate().map(|(i, p)| {
                let class = match i.cmp(&current) {
                    std::cmp::Ordering::Less => "done",
                    std::cmp::Ordering::Equal => "current",
                    std::cmp::Ordering::Greater => "upcoming",
                };
                view! {
                    <li class=class aria-current=(i == current).then_some("step")>{phase_label(*p)}</li>
                }
            }).collect_view()}
        </ol>
    }
}
