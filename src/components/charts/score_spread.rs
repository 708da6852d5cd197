//! `<ScoreSpreadChart>`: how scores spread within each group (a variant, an agent), one row
//! per group: a pale band (the spread, such as ±1 SD), a darker band inside it (an
//! interval of the mean), a tick at the centre (the mean) and dots for individual values
//! (per-persona means, sampled conversations). The pure [`draw_score_spread`] draws onto
//! any plotters drawing area.

use leptos::prelude::*;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::frame::{
    approx_text_width, draw_empty, draw_reference, draw_value_axis, fit_label, mix, nice_domain,
    value_range, CanvasArea, ChartFrame, DrawContext, DrawResult, FrameInputs, FramedChart,
    HitRegion, LinearScale, ReferenceLine,
};
use crate::format;

/// One value drawn as a dot, with what it is ("Busy professional").
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpreadPoint {
    pub label: String,
    pub value: f64,
}

/// One group's row.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpreadRow {
    pub label: String,
    /// The tick: the group's mean (or median).
    pub center: f64,
    /// The pale band: the spread of individual scores, `(low, high)`.
    pub band: Option<(f64, f64)>,
    /// The dark band: the interval of the centre, `(low, high)`.
    pub interval: Option<(f64, f64)>,
    pub points: Vec<SpreadPoint>,
    /// How many values the row summarises, for the tooltip and the table.
    pub count: Option<u32>,
}

/// What a [`ScoreSpreadChart`] draws; the `*_label`s name each mark in the legend, the
/// tooltip and the table, so they must say honestly what the numbers are.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpreadData {
    pub rows: Vec<SpreadRow>,
    /// The category axis's title ("Variant").
    pub category_label: String,
    /// The value axis's title with its unit ("Overall score (0–100)").
    pub value_label: String,
    /// "Mean".
    pub center_label: String,
    /// "±1 SD of conversation scores (estimated)".
    pub band_label: String,
    /// "95% CI of the mean".
    pub interval_label: String,
    /// "Per-persona mean".
    pub points_label: String,
    pub reference: Option<ReferenceLine>,
    /// A fixed value axis; by default round numbers around everything drawn.
    pub domain: Option<(f64, f64)>,
}

impl SpreadData {
    /// The value axis: `domain`, or one holding every mark and the reference.
    pub fn value_domain(&self) -> (f64, f64) {
        if let Some((low, high)) = self.domain.filter(|(l, h)| l < h) {
            return (low, high);
        }
        let values = self
            .rows
            .iter()
            .flat_map(|row| {
                let ends = row.band.into_iter().chain(row.interval);
                std::iter::once(row.center)
                    .chain(ends.flat_map(|(a, b)| [a, b]))
                    .chain(row.points.iter().map(|p| p.value))
            })
            .chain(self.reference.as_ref().map(|line| line.value));
        let Some((low, high)) = value_range(values) else {
            return (0.0, 1.0);
        };
        nice_domain(low, high, false)
    }

    /// A canvas height that gives each row room (CSS pixels).
    pub fn natural_height(&self) -> f64 {
        (76.0 + 36.0 * self.rows.len() as f64).max(160.0)
    }
}

impl FramedChart for SpreadData {
    fn draw_on(
        &self,
        root: &CanvasArea,
        ctx: &DrawContext,
        format_value: &dyn Fn(f64) -> String,
    ) -> DrawResult {
        draw_score_spread(root, ctx, self, format_value)
    }

    /// A sentence for screen readers: the groups' centres and spreads.
    fn summary(&self, format_value: &dyn Fn(f64) -> String) -> String {
        if self.rows.is_empty() {
            return "No data.".to_owned();
        }
        let parts: Vec<String> = self
            .rows
            .iter()
            .map(|row| {
                let mut part = format!(
                    "{}: {} {}",
                    row.label,
                    self.center_label.to_lowercase(),
                    format_value(row.center)
                );
                if let Some((low, high)) = row.band {
                    part.push_str(&format!(
                        ", {} {} to {}",
                        self.band_label,
                        format_value(low),
                        format_value(high)
                    ));
                }
                part
            })
            .collect();
        format!(
            "{} of {}. {}.",
            self.value_label,
            self.rows.len(),
            parts.join("; ")
        )
    }

    /// The table view: one row per group with its marks' numbers.
    fn table(&self, format_value: &dyn Fn(f64) -> String) -> (Vec<String>, Vec<Vec<String>>) {
        let range = |r: Option<(f64, f64)>| {
            r.map(|(l, h)| format!("{} to {}", format_value(l), format_value(h)))
                .unwrap_or_else(|| "–".to_owned())
        };
        let columns = vec![
            self.category_label.clone(),
            self.center_label.clone(),
            self.interval_label.clone(),
            self.band_label.clone(),
            format!("{} (lowest to highest)", self.points_label),
            "n".to_owned(),
        ];
        let rows = self
            .rows
            .iter()
            .map(|row| {
                let points = row.points.iter().map(|p| p.value).filter(|v| v.is_finite());
                let lowest = points.clone().fold(f64::INFINITY, f64::min);
                let highest = points.fold(f64::NEG_INFINITY, f64::max);
                vec![
                    row.label.clone(),
                    format_value(row.center),
                    range(row.interval),
                    range(row.band),
                    range(lowest.is_finite().then_some((lowest, highest))),
                    row.count
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| "–".to_owned()),
                ]
            })
            .collect();
        (columns, rows)
    }
}

/// Draws `data` onto `root` (already filled with the background); returns one hover region
/// per row.
pub fn draw_score_spread<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    ctx: &DrawContext,
    data: &SpreadData,
    format_value: &dyn Fn(f64) -> String,
) -> DrawResult {
    if data.rows.is_empty() {
        draw_empty(root, ctx)?;
        return Ok(Vec::new());
    }
    let theme = ctx.theme;
    let (w, h) = root.dim_in_pixel();
    let width = f64::from(w) / ctx.scale;
    let height = f64::from(h) / ctx.scale;
    let (min, max) = data.value_domain();
    let labels = data
        .rows
        .iter()
        .map(|r| approx_text_width(&r.label, 12.0))
        .fold(0.0, f64::max);
    let plot_left = (labels + 12.0).min(width * 0.38);
    let plot_right = (width - 16.0).max(plot_left + 10.0);
    let plot_top = 30.0;
    let plot_bottom = (height - 44.0).max(plot_top + 10.0);
    let scale = LinearScale {
        min,
        max,
        start: plot_left,
        end: plot_right,
    };
    let tick = |v: f64| format::compact(v);
    draw_value_axis(
        root,
        ctx,
        &scale,
        (plot_top, plot_bottom),
        true,
        &data.value_label,
        &tick,
    )?;
    root.draw(&Text::new(
        data.category_label.clone(),
        (ctx.px(2.0), ctx.px(4.0)),
        ctx.text(12.5, &theme.text, HPos::Left, VPos::Top),
    ))?;

    let accent = theme.series_color(0);
    let band_color = mix(accent, theme.surface, 0.78);
    let interval_color = mix(accent, theme.surface, 0.45);
    let dot_color = theme.series_color(2);
    let slot = (plot_bottom - plot_top) / data.rows.len() as f64;
    let thickness = (slot * 0.56).min(24.0);
    let mut regions = Vec::with_capacity(data.rows.len());
    let span = |range: (f64, f64), half: f64, middle: f64| {
        [
            (ctx.px(scale.clamped(range.0)), ctx.px(middle - half)),
            (ctx.px(scale.clamped(range.1)), ctx.px(middle + half)),
        ]
    };
    for (i, row) in data.rows.iter().enumerate() {
        let middle = plot_top + slot * (i as f64 + 0.5);
        root.draw(&Text::new(
            fit_label(&row.label, plot_left - 10.0, 12.0),
            (ctx.px(plot_left - 8.0), ctx.px(middle)),
            ctx.text(12.0, &theme.text, HPos::Right, VPos::Center),
        ))?;
        if let Some(band) = row.band {
            root.draw(&Rectangle::new(
                span(band, thickness / 2.0, middle),
                band_color.filled(),
            ))?;
        }
        if let Some(interval) = row.interval {
            root.draw(&Rectangle::new(
                span(interval, thickness / 4.0, middle),
                interval_color.filled(),
            ))?;
        }
        if row.center.is_finite() {
            let x = ctx.px(scale.clamped(row.center));
            root.draw(&PathElement::new(
                vec![
                    (x, ctx.px(middle - thickness / 2.0 - 2.0)),
                    (x, ctx.px(middle + thickness / 2.0 + 2.0)),
                ],
                ShapeStyle {
                    color: theme.text.to_rgba(),
                    filled: false,
                    stroke_width: ctx.px(2.5).max(1) as u32,
                },
            ))?;
        }
        let count = row.points.len().max(1) as f64;
        for (k, point) in row.points.iter().enumerate() {
            if !point.value.is_finite() {
                continue;
            }
            // Spread the dots across the band's height so equal values stay visible.
            let offset = if row.points.len() > 1 {
                (k as f64 / (count - 1.0) - 0.5) * thickness * 0.7
            } else {
                0.0
            };
            let center = (ctx.px(scale.clamped(point.value)), ctx.px(middle + offset));
            root.draw(&Circle::new(center, ctx.px(3.5), dot_color.filled()))?;
            root.draw(&Circle::new(
                center,
                ctx.px(3.5),
                theme.surface.stroke_width(1),
            ))?;
        }

        let mut lines = vec![
            row.label.clone(),
            format!("{}: {}", data.center_label, format_value(row.center)),
        ];
        if let Some((low, high)) = row.interval {
            lines.push(format!(
                "{}: {} to {}",
                data.interval_label,
                format_value(low),
                format_value(high)
            ));
        }
        if let Some((low, high)) = row.band {
            lines.push(format!(
                "{}: {} to {}",
                data.band_label,
                format_value(low),
                format_value(high)
            ));
        }
        for point in &row.points {
            lines.push(format!(
                "{} · {}: {}",
                data.points_label,
                point.label,
                format_value(point.value)
            ));
        }
        if let Some(n) = row.count {
            lines.push(format!("n = {n}"));
        }
        regions.push(HitRegion {
            left: plot_left,
            right: plot_right,
            top: middle - slot / 2.0,
            bottom: middle + slot / 2.0,
            lines,
        });
    }
    if let Some(line) = &data.reference {
        draw_reference(root, ctx, &scale, (plot_top - 4.0, plot_bottom), true, line)?;
    }
    Ok(regions)
}

/// A spread chart of `data` with a legend naming each mark, the numbers under the pointer
/// in a tooltip and a "Show as table" view.
#[component]
pub fn ScoreSpreadChart(
    /// The caption and the start of the accessible name.
    #[prop(into)]
    title: String,
    #[prop(into)] data: Signal<SpreadData>,
    /// How values read in the tooltip and the table; `format::number` by default.
    #[prop(optional)]
    format_value: Option<Callback<f64, String>>,
    /// A `data-testid` for the `<figure>`.
    #[prop(optional, into)]
    test_id: String,
) -> impl IntoView {
    let format_value = format_value.unwrap_or_else(|| Callback::new(format::number));
    let frame = FrameInputs::of(data, format_value);
    let height = Signal::derive(move || data.with(SpreadData::natural_height));
    let legend = move || {
        data.with(|d| {
            view! {
                <ul class="chart-legend spread-legend">
                    <li><span class="swatch spread-band"></span>{d.band_label.clone()}</li>
                    <li><span class="swatch spread-interval"></span>{d.interval_label.clone()}</li>
                    <li><span class="swatch spread-center"></span>{d.center_label.clone()}</li>
                    <li><span class="swatch spread-point"></span>{d.points_label.clone()}</li>
                </ul>
            }
        })
    };
    view! {
        <ChartFrame title=title summary=frame.summary draw=frame.draw columns=frame.columns rows=frame.rows height=height test_id=test_id>
            {legend}
        </ChartFrame>
    }
}
