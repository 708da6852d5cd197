//! The optimization pages' pieces: the generic bar, heat-map and spread charts draw (on a
//! mounted component and on an offscreen canvas) and label what they draw; the interval
//! maths and number formatting; the statistics table's "not enough data" case; the list
//! filters' query string; the start form's checks; the poller's backoff.
#![cfg(target_arch = "wasm32")]

use converra_api::optimizations::{OptimizationMode, OptimizationStatus};
use converra_dashboard::api::optimizations::optimizations_query;
use converra_dashboard::components::charts::bar_chart::draw_bar_chart;
use converra_dashboard::components::charts::frame::{nice_domain, nice_ticks};
use converra_dashboard::components::charts::heat_map::draw_heat_map;
use converra_dashboard::components::charts::score_spread::draw_score_spread;
use converra_dashboard::components::charts::{
    Bar, BarChart, BarChartData, BarColoring, ChartTheme, DrawContext, FramedChart, HeatMapChart,
    HeatMapData, ReferenceLine,
};
use converra_dashboard::components::disclosure::Disclosure;
use converra_dashboard::components::optimization_charts::{
    metrics_heat_map_data, persona_chart_data, score_chart_data, spread_data,
};
use converra_dashboard::components::optimization_stats::{
    format_interval, format_lift, format_p_value, format_probability, quartiles, signed, stats_row,
    VariantStatsTable, NOT_ENOUGH_DATA,
};
use converra_dashboard::components::variant_card::can_apply;
use converra_dashboard::pages::optimization::poller::keep_following;
use converra_dashboard::pages::optimization::{applied_version_href, OptimizationViewQuery};
use converra_dashboard::pages::optimization_new::{
    concurrency_explanation, OptimizationForm, PersonaChoice,
};
use converra_dashboard::pages::optimizations::OptimizationListQuery;
use converra_dashboard::query::QueryState;
use leptos::prelude::*;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

use crate::support::{arms, has_drawing, mount_host, optimization, settle, variant};

/// An offscreen canvas of `width` × `height` device pixels.
fn offscreen(width: u32, height: u32) -> web_sys::HtmlCanvasElement {
    let canvas: web_sys::HtmlCanvasElement = document()
        .create_element("canvas")
        .unwrap()
        .unchecked_into();
    canvas.set_width(width);
    canvas.set_height(height);
    canvas
}

#[wasm_bindgen_test]
fn the_pure_draws_paint_an_offscreen_canvas_and_return_hover_regions() {
    let theme = ChartTheme::from_css();
    let ctx = DrawContext {
        theme: &theme,
        scale: 1.0,
    };
    let format = |v: f64| format!("{v:.1}");
    let variants = arms();

    let canvas = offscreen(640, 320);
    let root = CanvasBackend::with_canvas_object(canvas.clone())
        .unwrap()
        .into_drawing_area();
    root.fill(&theme.surface).unwrap();
    let regions = draw_heat_map(&root, &ctx, &metrics_heat_map_data(&variants), &format).unwrap();
    assert!(has_drawing(&canvas), "the heat map drew");
    assert_eq!(regions.len(), 3 * 11);
    assert_eq!(regions[0].lines[0], "Control");
    assert_eq!(regions[0].lines[1], "Success: 65.0");
    assert_eq!(regions[11].lines[0], "Variant A");

    let fresh = || {
        let canvas = offscreen(640, 320);
        let root = CanvasBackend::with_canvas_object(canvas.clone())
            .unwrap()
            .into_drawing_area();
        root.fill(&theme.surface).unwrap();
        (canvas, root)
    };
    let (canvas, root) = fresh();
    let regions = draw_bar_chart(&root, &ctx, &persona_chart_data(&variants[1]), &format).unwrap();
    assert!(has_drawing(&canvas), "the persona chart drew");
    assert_eq!(regions.len(), 3);
    assert_eq!(
        regions[0].lines[1],
        "Variant A − control (score points): -4.5"
    );
    let (canvas, root) = fresh();
    let regions = draw_score_spread(&root, &ctx, &spread_data(&variants), &format).unwrap();
    assert!(has_drawing(&canvas), "the spread chart drew");
    assert_eq!(regions.len(), 3);
    assert!(regions[1]
        .lines
        .contains(&"One simulated conversation · Conversation 8 of 8: 83.0".to_owned()));

    let scores = draw_bar_chart(&root, &ctx, &score_chart_data(&variants), &format).unwrap();
    assert_eq!(scores[1].lines[0], "Variant A");
    assert_eq!(scores[1].lines[1], "Overall score (0–100): 76.0");
    assert_eq!(scores[1].lines[2], "95% CI: 71.0 to 81.0");
}

#[wasm_bindgen_test]
fn the_heat_map_labels_its_rows_columns_and_cells() {
    let data = metrics_heat_map_data(&arms());
    assert_eq!(data.rows, vec!["Control", "Variant A", "Variant B"]);
    assert_eq!(data.columns.len(), 11);
    assert_eq!(data.columns[0], "Success");
    assert_eq!(data.columns[10], "Clarity");
    assert_eq!(data.value(1, 0), Some(71.0));
    assert_eq!(data.cell_label(71.4), "71");
    let (columns, rows) = data.table(&|v| format!("{v:.1}"));
    assert_eq!(columns[0], "Variant");
    assert_eq!(columns[11], "Clarity");
    assert_eq!(rows[2][0], "Variant B");
    assert_eq!(rows[2][1], "59.0");
    let summary = data.summary(&|v| format!("{v:.1}"));
    assert_eq!(
        summary,
        "3 rows (Variant) by 11 columns (Metric) of Mean score (0–100). Highest: Variant A, Clarity at 81.0; lowest: Variant B, Success at 59.0."
    );
    // A missing value is an empty cell, not a zero.
    let sparse = HeatMapData {
        rows: vec!["Agent".to_owned()],
        columns: vec!["Clarity".to_owned(), "Sentiment".to_owned()],
        values: vec![vec![Some(50.0)]],
        ..HeatMapData::default()
    };
    assert_eq!(sparse.value(0, 1), None);
    assert_eq!(
        sparse.table(&|v| v.to_string()).1[0],
        vec!["Agent", "50", "–"]
    );
}

#[wasm_bindgen_test]
fn bars_reach_from_zero_and_hold_their_intervals_and_reference() {
    let data = BarChartData {
        bars: vec![
            Bar::new("Frustrated customer", -6.5),
            Bar::new("Power user", 12.0).with_interval(8.0, 14.0),
        ],
        coloring: BarColoring::BySign,
        reference: Some(ReferenceLine {
            value: 3.0,
            label: "Goal".to_owned(),
        }),
        value_label: "Difference (points)".to_owned(),
        interval_label: "95% CI".to_owned(),
        ..BarChartData::default()
    };
    let (low, high) = data.value_domain();
    assert!(low < -6.5 && high >= 14.0, "{low}..{high}");
    let (columns, rows) = data.table(&|v| v.to_string());
    assert_eq!(
        columns,
        vec!["", "Difference (points)", "95% CI low", "95% CI high"]
    );
    assert_eq!(rows[0], vec!["Frustrated customer", "-6.5", "–", "–"]);
    assert_eq!(rows[1], vec!["Power user", "12", "8", "14"]);
    assert_eq!(nice_domain(3.0, 97.0, true), (0.0, 100.0));
    assert_eq!(
        nice_ticks(0.0, 100.0, 5),
        vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
    );
    assert_eq!(
        nice_ticks(-0.3, 0.3, 6),
        vec![-0.3, -0.2, -0.1, 0.0, 0.1, 0.2, 0.3]
    );
}

#[wasm_bindgen_test]
fn the_spread_shows_every_conversation_and_the_middle_half() {
    assert_eq!(quartiles(&[]), None);
    assert_eq!(quartiles(&[50.0]), None);
    assert_eq!(
        quartiles(&[10.0, 20.0, 30.0, 40.0, 50.0]),
        Some((20.0, 40.0))
    );
    // Between neighbours: positions 0.75 and 2.25 of four values.
    assert_eq!(quartiles(&[0.0, 40.0, 80.0, 120.0]), Some((30.0, 90.0)));

    let variants = arms();
    let spread = spread_data(&variants);
    let control = &spread.rows[0];
    assert_eq!(control.points.len(), 8);
    assert_eq!(control.points[0].value, 63.0);
    assert_eq!(control.points[0].label, "Conversation 1 of 8");
    assert_eq!(control.band, Some((66.5, 73.5)));
    assert_eq!(control.center, 70.0);
}

#[wasm_bindgen_test]
fn numbers_read_as_people_write_them() {
    assert_eq!(signed(3.12, 1), "+3.1");
    assert_eq!(signed(-0.44, 1), "−0.4");
    assert_eq!(signed(-0.04, 1), "0.0");
    assert_eq!(format_lift(4.26), "+4.3%");
    assert_eq!(format_interval(-0.4, 6.6), "−0.4 to +6.6");
    assert_eq!(format_probability(0.873), "87%");
    assert_eq!(format_probability(0.001), "<1%");
    assert_eq!(format_probability(0.9996), ">99%");
    assert_eq!(format_probability(1.0), "100%");
    assert_eq!(format_p_value(0.01234), "0.012");
    assert_eq!(format_p_value(0.00002), "<0.001");
}

#[wasm_bindgen_test]
async fn the_stats_table_says_not_enough_data_where_the_engine_does() {
    let control = variant("Control", 0, 70.0);
    let model = Disclosure {
        scripted: false,
        stopped: false,
    };
    let row = stats_row(&control, model);
    assert_eq!(row.verdict, "Baseline");
    assert_eq!(row.difference, "—");
    assert_eq!(row.score, "70.0 (65.0 to 75.0)");

    let clear = stats_row(&variant("Variant A", 1, 76.0), model);
    assert_eq!(clear.verdict, "Better than the control");
    assert_eq!(clear.difference, "+6.0 (+3.5 to +8.5 at 90%, 12 cells)");
    assert_eq!(clear.probability_better, "93%");
    assert_eq!(clear.p_adjusted, "0.040 (paired t)");
    assert_eq!(clear.minimum_detectable_effect, "4.3 points");

    let mut short = variant("Variant B", 2, 72.0);
    short.enough_data = false;
    assert_eq!(stats_row(&short, model).verdict, NOT_ENOUGH_DATA);
    short.difference = None;
    short.probability_better_than_control = None;
    short.p_value_adjusted = None;
    short.minimum_detectable_effect = None;
    let row = stats_row(&short, model);
    assert_eq!(row.difference, NOT_ENOUGH_DATA);
    assert_eq!(row.probability_better, NOT_ENOUGH_DATA);
    assert_eq!(row.p_adjusted, NOT_ENOUGH_DATA);
    assert_eq!(row.minimum_detectable_effect, NOT_ENOUGH_DATA);

    let host = mount_host();
    let variants = vec![control, short];
    let handle = leptos::mount::mount_to(host.clone(), move || {
        view! { <VariantStatsTable variants=variants.clone() disclosure=model/> }
    });
    handle.forget();
    leptos::task::tick().await;
    let flagged = host.query_selector_all("td.not-enough-data").unwrap();
    assert_eq!(flagged.length(), 1);
    assert_eq!(
        flagged.item(0).unwrap().text_content().as_deref(),
        Some(NOT_ENOUGH_DATA)
    );
    assert_eq!(
        host.query_selector_all("tbody tr").unwrap().length(),
        2,
        "one row per arm"
    );
}

#[wasm_bindgen_test]
async fn the_chart_components_draw_name_themselves_and_table_their_numbers() {
    let host = mount_host();
    let variants = arms();
    let scores = score_chart_data(&variants);
    let heat = metrics_heat_map_data(&variants);
    let handle = leptos::mount::mount_to(host.clone(), move || {
        view! {
            <BarChart title="Scores" data=scores.clone() test_id="bars"/>
            <HeatMapChart title="Metrics" data=heat.clone() test_id="heat"/>
        }
    });
    handle.forget();
    settle().await;
    for id in ["bars", "heat"] {
        let figure = host
            .query_selector(&format!("[data-testid={id}]"))
            .unwrap()
            .unwrap();
        assert_eq!(
            figure.get_attribute("data-drawn").as_deref(),
            Some("true"),
            "{id}"
        );
        let canvas: web_sys::HtmlCanvasElement = figure
            .query_selector("canvas")
            .unwrap()
            .unwrap()
            .unchecked_into();
        assert!(has_drawing(&canvas), "{id} drew");
        assert_eq!(canvas.get_attribute("role").as_deref(), Some("img"));
    }
    let name = host
        .query_selector("[data-testid=bars] canvas")
        .unwrap()
        .unwrap()
        .get_attribute("aria-label")
        .unwrap();
    assert_eq!(
        name,
        "Scores. 3 bars of Overall score (0–100). Highest: Variant A at 76; lowest: Variant B at 64. Reference line: Control 70.0 at 70. The numbers are also in the table below."
    );
    let heat_rows = host
        .query_selector_all("[data-testid=heat] table.data-table tbody tr")
        .unwrap();
    assert_eq!(heat_rows.length(), 3);
    assert_eq!(
        host.query_selector_all("[data-testid=heat] table.data-table thead th")
            .unwrap()
            .length(),
        12
    );
}

#[wasm_bindgen_test]
fn list_filters_survive_the_query_string() {
    let full = OptimizationListQuery {
        agent_id: Some("agent_a b&c".to_owned()),
        status: Some(OptimizationStatus::Running),
        cursor: Some("eyJpZCI6Im9wdF8xIn0=".to_owned()),
    };
    let search = full.to_url_query();
    assert_eq!(
        search,
        "?agentId=agent_a%20b%26c&status=running&cursor=eyJpZCI6Im9wdF8xIn0%3D"
    );
    assert_eq!(OptimizationListQuery::from_search(&search), full);
    assert_eq!(OptimizationListQuery::default().to_url_query(), "");
    assert_eq!(
        OptimizationListQuery::from_search("?status=bogus&agentId=%20"),
        OptimizationListQuery::default()
    );
    assert_eq!(
        OptimizationListQuery::from_search("?promptId=agent_1")
            .agent_id
            .as_deref(),
        Some("agent_1")
    );
    assert_eq!(
        optimizations_query(&full.filter(), 10, None),
        "?agentId=agent_a%20b%26c&status=running&limit=10"
    );
    let view = OptimizationViewQuery {
        persona: Some("var_a".to_owned()),
        diff_only: true,
        sim: None,
    };
    assert_eq!(view.to_url_query(), "?persona=var_a&diffOnly=1");
}

#[wasm_bindgen_test]
fn the_form_checks_the_servers_limits_and_sends_only_what_is_set() {
    let mut form = OptimizationForm {
        agent_id: String::new(),
        variant_count: "6".to_owned(),
        persona_count: "21".to_owned(),
        scenarios_per_simulation: "x".to_owned(),
        max_turns: "1".to_owned(),
        target_improvements: (0..11).map(|i| format!("goal {i}\n")).collect(),
        hypothesis: "h".repeat(2_001),
        seed: "-1".to_owned(),
        ..OptimizationForm::default()
    };
    let fields: Vec<String> = form.validate().into_iter().map(|e| e.field).collect();
    assert_eq!(
        fields,
        vec![
            "agentId",
            "variantCount",
            "simulation.personaCount",
            "simulation.scenariosPerSimulation",
            "simulation.maxTurns",
            "intent.targetImprovements",
            "intent.hypothesis",
            "seed"
        ]
    );
    form = OptimizationForm {
        agent_id: "agent_1".to_owned(),
        variant_count: "2".to_owned(),
        persona_choice: PersonaChoice::Chosen,
        persona_ids: vec![
            "persona_power_user".to_owned(),
            "persona_human_seeker".to_owned(),
            "persona_polite_regular".to_owned(),
        ],
        scenarios_per_simulation: "1".to_owned(),
        target_improvements: " Escalate when asked \n\n".to_owned(),
        ..OptimizationForm::default()
    };
    assert!(form.validate().is_empty());
    assert_eq!(form.conversations_per_variant(), Some(6));
    let request = form.to_request();
    assert_eq!(request.variant_count, Some(2));
    assert_eq!(request.persona_ids.as_ref().map(Vec::len), Some(3));
    let simulation = request.simulation.unwrap();
    assert_eq!(simulation.persona_count, Some(3));
    assert_eq!(simulation.max_turns, None);
    assert_eq!(
        request.intent.unwrap().target_improvements,
        vec!["Escalate when asked"]
    );
    assert_eq!(request.seed, None);
    // The account's default strategy unless one is chosen; generations only for reflective.
    assert_eq!(request.optimization_strategy, None);
    form.max_iterations = "0".to_owned();
    assert!(
        form.validate().is_empty(),
        "generations are ignored by rewrite"
    );
    form.strategy = Some(converra_api::optimizations::OptimizationStrategy::Reflective);
    assert_eq!(form.validate()[0].field, "maxIterations");
    form.max_iterations = "4".to_owned();
    assert!(form.validate().is_empty());
    let request = form.to_request();
    assert_eq!(
        request.optimization_strategy,
        Some(converra_api::optimizations::OptimizationStrategy::Reflective)
    );
    assert_eq!(request.max_iterations, Some(4));
    form.strategy = Some(converra_api::optimizations::OptimizationStrategy::Rewrite);
    assert_eq!(form.to_request().max_iterations, None);
    form.mode = OptimizationMode::Validation;
    assert_eq!(form.conversations_per_variant(), Some(18));
    form.persona_ids = vec!["persona_nobody".to_owned()];
    assert_eq!(form.validate()[0].field, "personaIds");
    assert!(concurrency_explanation(10).starts_with("At most 10 optimizations can run at once"));
}

#[wasm_bindgen_test]
fn following_stops_when_nothing_can_change() {
    let running = optimization(OptimizationStatus::Running);
    assert!(keep_following(&running, 0));
    let done = optimization(OptimizationStatus::Completed);
    assert!(!keep_following(&done, 0));
    // A stop is evaluated after the fact: follow it a few more times.
    let stopped = optimization(OptimizationStatus::Stopped);
    assert!(keep_following(&stopped, 0));
    assert!(!keep_following(&stopped, 4));
    let variants = arms();
    assert!(can_apply(&done, &variants[1]));
    assert!(!can_apply(&done, &variants[0]), "not the control");
    assert!(!can_apply(&running, &variants[1]));
    assert_eq!(
        applied_version_href("agent_1", 4),
        "/agents/agent_1?diffBase=3&diffTarget=4"
    );
}
