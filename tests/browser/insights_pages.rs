//! The pure parts of the insights, step-failure, fleet and benchmark pages: ranking and
//! sorting, percentages and ordinals, the period and the fleet's order in the URL, the
//! regeneration's progress, bulk selection, the benchmark form's checks, and the addresses
//! of an agent's subpages.
#![cfg(target_arch = "wasm32")]

use std::collections::BTreeMap;

use converra_api::benchmarks::{BenchmarkBulkResult, BulkAction, BulkFailure};
use converra_api::insights::{
    AgentInsightsQueued, AgentIssue, FleetIntelligence, Metric, RootCause, RootCauseCount,
    Severity, StepFailureStats,
};
use converra_dashboard::api::benchmarks::benchmarks_query;
use converra_dashboard::components::agent_subpage_head::AgentSubpage;
use converra_dashboard::components::insight_parts::{
    metric_label, one_decimal, ordinal, percent, percent_of_100, period_days, period_query,
    score_domain, score_text,
};
use converra_dashboard::components::persona_picker::toggle_persona;
use converra_dashboard::components::poll::poll_delay;
use converra_dashboard::pages::agent_insights::{
    percentile_bars, rank_issues, RegenerationProgress,
};
use converra_dashboard::pages::benchmark_new::{form_field_of, split_list, BenchmarkForm};
use converra_dashboard::pages::benchmarks::{bulk_outcome_text, BulkSelection};
use converra_dashboard::pages::fleet::{
    failure_change, fleet_url_query, sort_fleet_rows, FleetFigures, FleetResult, FleetRow,
    FleetSort, FleetSortKey,
};
use converra_dashboard::pages::step_failures::{rank_steps, root_cause_bars};
use converra_dashboard::query::parse_query;
use wasm_bindgen_test::*;

fn issue(title: &str, frequency: f64, severity: Severity, affected: u64) -> AgentIssue {
    AgentIssue {
        id: format!("issue_{title}"),
        title: title.to_owned(),
        description: String::new(),
        frequency,
        severity,
        affected_conversations: affected,
        example_conversation_ids: Vec::new(),
        example_conversations: Vec::new(),
    }
}

#[wasm_bindgen_test]
fn issues_rank_by_frequency_then_severity_then_reach() {
    let ranked = rank_issues(vec![
        issue("rare", 0.05, Severity::Critical, 5),
        issue("common-medium", 0.3, Severity::Medium, 30),
        issue("common-high", 0.3, Severity::High, 30),
        issue("most", 0.5, Severity::Low, 50),
        issue("common-high-wider", 0.3, Severity::High, 31),
    ]);
    let titles: Vec<&str> = ranked.iter().map(|i| i.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "most",
            "common-high-wider",
            "common-high",
            "common-medium",
            "rare"
        ]
    );
}

fn step(name: &str, rate: f64, failures: u64) -> StepFailureStats {
    StepFailureStats {
        step: name.to_owned(),
        total: 100,
        failures,
        failure_rate: rate,
        top_root_cause: Some(RootCause::ToolIssue),
        top_errors: Vec::new(),
        last_failed_at: None,
        example_conversation_ids: Vec::new(),
        example_conversations: Vec::new(),
    }
}

#[wasm_bindgen_test]
fn steps_rank_by_failure_rate_and_root_causes_by_count() {
    let ranked = rank_steps(vec![
        step("lookup_order", 0.08, 16),
        step("turn:3", 1.0, 79),
        step("check_inventory", 0.08, 20),
    ]);
    let names: Vec<&str> = ranked.iter().map(|s| s.step.as_str()).collect();
    assert_eq!(names, ["turn:3", "check_inventory", "lookup_order"]);

    let bars = root_cause_bars(&[
        RootCauseCount {
            kind: RootCause::ToolIssue,
            count: 39,
            percentage: 33.1,
        },
        RootCauseCount {
            kind: RootCause::PromptIssue,
            count: 79,
            percentage: 66.9,
        },
    ]);
    assert_eq!(bars[0].label, "Prompt");
    assert_eq!(bars[0].value, 79.0);
    assert_eq!(bars[0].note.as_deref(), Some("66.9% of failed steps"));
    assert_eq!(bars[1].label, "Tool");
}

#[wasm_bindgen_test]
fn shares_scores_and_ranks_read_well() {
    assert_eq!(percent(0.321), "32.1%");
    assert_eq!(percent(1.0), "100%");
    assert_eq!(percent(0.0), "0%");
    assert_eq!(percent(0.12345), "12.3%");
    assert_eq!(percent(f64::NAN), "–");
    assert_eq!(percent_of_100(66.94), "66.9%");
    assert_eq!(one_decimal(-0.04), "0");
    assert_eq!(one_decimal(91.66), "91.7");
    assert_eq!(score_text(None), "—");
    assert_eq!(score_text(Some(88.0)), "88");
    assert_eq!(ordinal(1), "1st");
    assert_eq!(ordinal(2), "2nd");
    assert_eq!(ordinal(3), "3rd");
    assert_eq!(ordinal(11), "11th");
    assert_eq!(ordinal(12), "12th");
    assert_eq!(ordinal(13), "13th");
    assert_eq!(ordinal(22), "22nd");
    assert_eq!(ordinal(60), "60th");
    assert_eq!(ordinal(101), "101st");
    assert_eq!(metric_label("hallucinationScore"), "Groundedness");
    assert_eq!(metric_label("somethingNew"), "somethingNew");
}

#[wasm_bindgen_test]
fn the_period_round_trips_through_the_query_string() {
    for days in [7, 30, 90] {
        let query = period_query(days);
        let pairs = parse_query(&query);
        let value = pairs
            .iter()
            .find(|(k, _)| k == "days")
            .map(|(_, v)| v.as_str());
        assert_eq!(period_days(value), days, "{query}");
    }
    // The default stays out of the URL; anything else falls back to it.
    assert_eq!(period_query(30), "");
    assert_eq!(period_query(7), "?days=7");
    assert_eq!(period_days(None), 30);
    assert_eq!(period_days(Some("14")), 30);
    assert_eq!(period_days(Some("abc")), 30);
    assert_eq!(period_days(Some(" 90 ")), 90);
}

#[wasm_bindgen_test]
fn regeneration_progress_counts_what_left_the_queue() {
    let mut progress = RegenerationProgress::started(&AgentInsightsQueued {
        agent_id: "agent_1".into(),
        total: 50,
        queued: 40,
        skipped: 10,
        status: "queued".into(),
    });
    assert!(!progress.finished);
    assert_eq!(progress.text(), "0 of 40 analysed");
    progress.observe(25);
    assert_eq!(progress.analysed, 15);
    assert!(!progress.finished);
    // More pending than queued (others were pending already) never goes negative.
    progress.observe(60);
    assert_eq!(progress.analysed, 0);
    progress.observe(0);
    assert_eq!(progress.text(), "40 of 40 analysed");
    assert!(progress.finished);

    let nothing = RegenerationProgress::started(&AgentInsightsQueued {
        agent_id: "agent_1".into(),
        total: 50,
        queued: 0,
        skipped: 50,
        status: "queued".into(),
    });
    assert!(nothing.finished);
}

#[wasm_bindgen_test]
fn heat_maps_span_from_the_lowest_score_to_100() {
    assert_eq!(score_domain([54.2, 93.0, f64::NAN]), (50.0, 100.0));
    assert_eq!(score_domain([99.5]), (90.0, 100.0));
    assert_eq!(score_domain([3.0, 100.0]), (0.0, 100.0));
    assert_eq!(score_domain(std::iter::empty()), (0.0, 100.0));
}

#[wasm_bindgen_test]
fn polling_backs_off_to_a_ceiling() {
    assert!(poll_delay(0) < poll_delay(1));
    assert!(poll_delay(1) < poll_delay(3));
    assert_eq!(poll_delay(50).as_millis(), 8_000);
    assert_eq!(poll_delay(u32::MAX).as_millis(), 8_000);
}

#[wasm_bindgen_test]
fn percentiles_chart_in_metric_order() {
    let fleet = FleetIntelligence {
        fleet_average_score: Some(80.0),
        agent_score: Some(90.0),
        percentile: Some(60.0),
        rank: Some(2),
        total_agents: 6,
        percentiles: BTreeMap::from([
            ("clarity".to_owned(), 80.0),
            ("successScore".to_owned(), 40.0),
        ]),
        shared_patterns: Vec::new(),
        best_practices_from: Vec::new(),
    };
    let bars = percentile_bars(&fleet);
    assert_eq!(bars.len(), 2);
    assert_eq!(bars[0].label, Metric::SuccessScore.label());
    assert_eq!(bars[0].value, 40.0);
    assert_eq!(bars[1].label, Metric::Clarity.label());
}

fn row(name: &str, score: Option<f64>, conversations: u64, clarity: Option<f64>) -> FleetRow {
    let mut averages = BTreeMap::new();
    if let Some(c) = clarity {
        averages.insert("clarity".to_owned(), c);
    }
    FleetRow {
        agent_id: format!("agent_{name}"),
        agent_name: name.to_owned(),
        result: FleetResult::Ready(FleetFigures {
            score,
            conversations,
            analysed: conversations,
            rank: None,
            averages,
        }),
    }
}

fn names(rows: &[FleetRow]) -> Vec<&str> {
    rows.iter().map(|r| r.agent_name.as_str()).collect()
}

#[wasm_bindgen_test]
fn the_fleet_table_sorts_with_gaps_and_loading_rows_last() {
    let loading = FleetRow {
        agent_id: "agent_l".into(),
        agent_name: "Loading one".into(),
        result: FleetResult::Loading,
    };
    let mut rows = vec![
        loading,
        row("beta", Some(80.0), 10, Some(90.0)),
        row("Alpha", Some(92.0), 5, None),
        row("gamma", None, 0, Some(70.0)),
        row("delta", Some(80.0), 30, Some(95.0)),
    ];
    sort_fleet_rows(&mut rows, FleetSort::default());
    assert_eq!(
        names(&rows),
        ["Alpha", "beta", "delta", "gamma", "Loading one"]
    );

    sort_fleet_rows(
        &mut rows,
        FleetSort {
            key: FleetSortKey::Score,
            descending: false,
        },
    );
    // Ascending still puts the missing score last.
    assert_eq!(
        names(&rows),
        ["beta", "delta", "Alpha", "gamma", "Loading one"]
    );

    sort_fleet_rows(
        &mut rows,
        FleetSort {
            key: FleetSortKey::Metric(Metric::Clarity),
            descending: true,
        },
    );
    assert_eq!(
        names(&rows),
        ["delta", "beta", "gamma", "Alpha", "Loading one"]
    );

    sort_fleet_rows(
        &mut rows,
        FleetSort {
            key: FleetSortKey::Name,
            descending: false,
        },
    );
    assert_eq!(
        names(&rows),
        ["Alpha", "beta", "delta", "gamma", "Loading one"]
    );

    sort_fleet_rows(
        &mut rows,
        FleetSort {
            key: FleetSortKey::Conversations,
            descending: true,
        },
    );
    assert_eq!(
        names(&rows),
        ["delta", "beta", "Alpha", "gamma", "Loading one"]
    );
}

#[wasm_bindgen_test]
fn the_fleet_order_round_trips_through_the_query_string() {
    let sorts = [
        FleetSort::default(),
        FleetSort {
            key: FleetSortKey::Name,
            descending: false,
        },
        FleetSort {
            key: FleetSortKey::Metric(Metric::ContextRetentionScore),
            descending: false,
        },
        FleetSort {
            key: FleetSortKey::Conversations,
            descending: true,
        },
    ];
    for sort in sorts {
        for days in [7, 30, 90] {
            let query = fleet_url_query(days, sort);
            let pairs = parse_query(&query);
            let get = |key: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| v.as_str())
            };
            assert_eq!(
                FleetSort::from_query(get("sort"), get("dir")),
                sort,
                "{query}"
            );
            assert_eq!(period_days(get("days")), days, "{query}");
        }
    }
    assert_eq!(fleet_url_query(30, FleetSort::default()), "");
    assert_eq!(
        FleetSort::from_query(Some("nonsense"), Some("asc")),
        FleetSort::default()
    );
    // A missing direction is the key's natural one.
    assert!(!FleetSort::from_query(Some("name"), None).descending);
    assert!(FleetSort::from_query(Some("clarity"), None).descending);
    // Clicking the same header flips; another starts in its natural direction.
    let by_score = FleetSort::default();
    assert!(!by_score.toggled(FleetSortKey::Score).descending);
    assert!(!by_score.toggled(FleetSortKey::Name).descending);
    assert!(
        by_score
            .toggled(FleetSortKey::Name)
            .toggled(FleetSortKey::Metric(Metric::Clarity))
            .descending
    );
}

#[wasm_bindgen_test]
fn bulk_selection_ticks_all_and_forgets_what_left() {
    let visible: Vec<String> = ["b1", "b2", "b3"].map(String::from).to_vec();
    let mut selection = BulkSelection::default();
    assert!(!selection.all_selected(&visible));
    assert!(!selection.partly_selected(&visible));
    selection.set("b2", true);
    assert!(selection.partly_selected(&visible));
    selection.toggle_all(&visible);
    assert!(selection.all_selected(&visible));
    assert_eq!(selection.len(), 3);
    selection.toggle_all(&visible);
    assert!(selection.is_empty());

    selection.toggle_all(&visible);
    selection.remove_all(&["b1".to_owned()]);
    assert_eq!(selection.ids(), ["b2", "b3"]);
    selection.retain_visible(&["b3".to_owned(), "b4".to_owned()]);
    assert_eq!(selection.ids(), ["b3"]);
    selection.set("b3", false);
    assert!(!selection.is_selected("b3"));
    // Nothing listed is never "all selected".
    assert!(!selection.all_selected(&[]));
}

#[wasm_bindgen_test]
fn bulk_outcomes_say_what_happened() {
    let result = BenchmarkBulkResult {
        action: BulkAction::Delete,
        succeeded: vec!["b1".into(), "b2".into()],
        failed: Vec::new(),
    };
    assert_eq!(bulk_outcome_text(&result), "Deleted 2 benchmarks.");
    let result = BenchmarkBulkResult {
        action: BulkAction::Cancel,
        succeeded: vec!["b1".into()],
        failed: vec![BulkFailure {
            id: "b2".into(),
            error: "already completed".into(),
        }],
    };
    assert_eq!(
        bulk_outcome_text(&result),
        "Cancelled 1 benchmark; 1 could not be: see below."
    );
}

#[wasm_bindgen_test]
fn the_benchmark_form_checks_like_the_server() {
    let mut form = BenchmarkForm::default();
    let fields = |form: &BenchmarkForm| {
        form.validate()
            .into_iter()
            .map(|e| e.field)
            .collect::<Vec<_>>()
    };
    assert_eq!(fields(&form), ["agentIds"]);
    form.agent_ids = vec!["agent_a".into(), "agent_b".into()];
    assert!(form.validate().is_empty());
    let request = form.to_create();
    assert_eq!(request.agent_ids.as_deref(), Some(&form.agent_ids[..]));
    assert_eq!(request.name, None);
    assert_eq!(request.models, None);
    assert_eq!(request.scenario_count, Some(5));
    assert_eq!(request.max_turns, Some(8));

    form.scenario_count = "11".into();
    form.max_turns = "1".into();
    form.models = "gpt-4o, gpt-4o-mini".into();
    assert_eq!(fields(&form), ["agentIds", "scenarioCount", "maxTurns"]);
    form.agent_ids.truncate(1);
    form.scenario_count = "3".into();
    form.max_turns = "12".into();
    assert!(form.validate().is_empty());
    assert_eq!(
        form.to_create().models,
        Some(vec!["gpt-4o".to_owned(), "gpt-4o-mini".to_owned()])
    );
    form.models = "gpt-4o".into();
    assert_eq!(fields(&form), ["models"]);
    form.models = "a, b, a".into();
    assert_eq!(fields(&form), ["models"]);
    form.models.clear();
    toggle_persona(&mut form.persona_ids, "persona_a", true);
    toggle_persona(&mut form.persona_ids, "persona_b", true);
    toggle_persona(&mut form.persona_ids, "persona_a", true);
    assert_eq!(
        form.persona_ids,
        ["persona_b", "persona_a"],
        "ticked twice, listed once"
    );
    toggle_persona(&mut form.persona_ids, "persona_b", false);
    toggle_persona(&mut form.persona_ids, "persona_b", true);
    form.name = "x".repeat(201);
    assert_eq!(fields(&form), ["name"]);
    form.name = "  Weekly  ".into();
    let request = form.to_create();
    assert_eq!(request.name.as_deref(), Some("Weekly"));
    assert_eq!(
        request.persona_ids,
        Some(vec!["persona_a".to_owned(), "persona_b".to_owned()])
    );

    assert_eq!(split_list(" a,, b \n c "), ["a", "b", "c"]);
    assert_eq!(form_field_of("agentIds[2]"), "agentIds");
    assert_eq!(form_field_of("maxTurns"), "maxTurns");
}

#[wasm_bindgen_test]
fn the_benchmarks_query_names_only_what_is_set() {
    use converra_api::benchmarks::{BenchmarkFilter, BenchmarkStatus};
    assert_eq!(
        benchmarks_query(&BenchmarkFilter::default(), 25, None),
        "?limit=25"
    );
    assert_eq!(
        benchmarks_query(
            &BenchmarkFilter {
                agent_id: Some("agent 1".into()),
                status: Some(BenchmarkStatus::Running),
            },
            25,
            Some("c/1"),
        ),
        "?agentId=agent%201&status=running&limit=25&cursor=c%2F1"
    );
}

#[wasm_bindgen_test]
fn an_agents_subpages_are_addressed_by_its_encoded_id() {
    assert_eq!(
        AgentSubpage::Insights.href("agent_1"),
        "/agents/agent_1/insights"
    );
    assert_eq!(
        AgentSubpage::StepFailures.href("a b/c"),
        "/agents/a%20b%2Fc/step-failures"
    );
    assert_eq!(AgentSubpage::StepFailures.title(), "Step failures");
}

#[wasm_bindgen_test]
fn a_change_in_failures_says_its_direction_so_a_rise_never_reads_as_a_fix() {
    assert_eq!(failure_change(0.4, 0.1, 75.0), "fell 75%");
    // A 0.2% rise reads as one, not as "0%".
    assert_eq!(failure_change(0.5, 0.501, -0.2), "rose 0.2%");
    assert_eq!(failure_change(0.3, 0.3, 0.0), "unchanged");
    // Rates shown as 49.5% and 49.6% whose change rounds to 0.0% still read as a rise.
    assert_eq!(failure_change(0.495, 0.496, -0.0), "rose under 0.1%");
    assert_eq!(failure_change(0.496, 0.495, 0.04), "fell under 0.1%");
}
