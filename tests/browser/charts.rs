//! The time-series chart: it draws on its canvas, names itself for screen readers, and
//! carries the same numbers in its table; and the helpers it is built from.
#![cfg(target_arch = "wasm32")]

use converra_dashboard::components::charts::time_series::nice_ceiling;
use converra_dashboard::components::charts::{
    parse_css_color, Series, TimeSeries, TimeSeriesChart,
};
use leptos::prelude::*;
use plotters::style::RGBColor;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

use crate::support::has_drawing;

#[wasm_bindgen_test]
fn css_colours_parse_in_hex_and_rgb() {
    assert_eq!(
        parse_css_color(" #4338ca"),
        Some(RGBColor(0x43, 0x38, 0xca))
    );
    assert_eq!(parse_css_color("#fff"), Some(RGBColor(255, 255, 255)));
    assert_eq!(parse_css_color("rgb(1, 2, 3)"), Some(RGBColor(1, 2, 3)));
    assert_eq!(
        parse_css_color("rgba(10 20 30 / 0.5)"),
        Some(RGBColor(10, 20, 30))
    );
    assert_eq!(parse_css_color("tomato"), None);
}

#[wasm_bindgen_test]
fn the_y_axis_tops_out_at_a_round_number() {
    assert_eq!(nice_ceiling(0.0), 1.0);
    assert_eq!(nice_ceiling(0.8), 1.0);
    assert_eq!(nice_ceiling(3.2), 5.0);
    assert_eq!(nice_ceiling(120.0), 200.0);
    assert_eq!(nice_ceiling(2_300.0), 2_500.0);
}

fn sample() -> TimeSeries {
    let days: Vec<String> = (1..=5).map(|d| format!("2026-11-0{d}")).collect();
    TimeSeries::daily(
        &days,
        vec![Series::new("Requests", vec![3.0, 0.0, 1200.0, 7.0, 42.0])],
    )
}

#[wasm_bindgen_test]
fn the_summary_names_the_span_and_the_peak() {
    let summary = sample().summary(&|v| converra_dashboard::format::number(v));
    assert_eq!(
        summary,
        "5 points from 1 Nov 2026 to 5 Nov 2026. Requests: highest 1,200 on 3 Nov 2026, latest 42."
    );
}

#[wasm_bindgen_test]
async fn the_chart_draws_and_tables_its_numbers() {
    let document = document();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    host.set_class_name("test-chart-host");
    document.body().unwrap().append_child(&host).unwrap();
    let handle = leptos::mount::mount_to(host.clone(), || {
        view! { <TimeSeriesChart title="Requests per day" data=sample() y_label="Requests"/> }
    });
    handle.forget();
    // The first draw waits for the ResizeObserver's first report.
    for _ in 0..20 {
        leptos::task::tick().await;
        gloo_timers::future::sleep(std::time::Duration::from_millis(20)).await;
    }
    let canvas: web_sys::HtmlCanvasElement = host
        .query_selector("canvas")
        .unwrap()
        .unwrap()
        .unchecked_into();
    assert_eq!(canvas.get_attribute("role").as_deref(), Some("img"));
    let name = canvas.get_attribute("aria-label").unwrap();
    assert!(name.starts_with("Requests per day. 5 points"), "{name}");
    assert!(canvas.width() > 0 && canvas.height() > 0);
    assert!(has_drawing(&canvas), "the canvas is one flat colour");

    let cells: Vec<String> = {
        let list = host
            .query_selector_all("table.data-table tbody tr")
            .unwrap();
        (0..list.length())
            .map(|i| list.item(i).unwrap().text_content().unwrap_or_default())
            .collect()
    };
    assert_eq!(cells.len(), 5);
    assert_eq!(cells[2], "3 Nov 20261,200");
    let headers = host
        .query_selector_all("table.data-table thead th")
        .unwrap();
    assert_eq!(
        headers.item(1).unwrap().text_content().as_deref(),
        Some("Requests")
    );
    assert_eq!(
        host.query_selector("details summary")
            .unwrap()
            .unwrap()
            .text_content()
            .as_deref(),
        Some("Show as table")
    );
}
