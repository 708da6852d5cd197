//! `<HeatMapChart>`: a labelled matrix (rows × columns, such as variants × metrics or agents
//! × metrics), each cell coloured on a scale from the theme and labelled with its value.
//! The pure [`draw_heat_map`] draws onto any plotters drawing area.

use converra_api::insights::Metric;
use leptos::prelude::*;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::frame::{
    approx_text_width, draw_empty, fit_label, mix, readable_on, CanvasArea, ChartFrame,
    DrawContext, DrawResult, FrameInputs, FramedChart, HitRegion,
};
use super::ChartTheme;
use crate::components::insight_parts::score_domain;
use crate::format;

/// How values map to colours.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum HeatScale {
    /// From the background (the domain's low end) to `--chart-1` (its high end).
    #[default]
    Sequential,
    /// `--chart-4` below `center`, `--chart-2` above, the background at it: differences.
    Diverging { center: f64 },
}

/// What a [`HeatMapChart`] draws.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatMapData {
    /// Row names, top to bottom.
    pub rows: Vec<String>,
    /// Column names, left to right.
    pub columns: Vec<String>,
    /// `values[row][column]`; `None` (or a missing entry) is an empty cell.
    pub values: Vec<Vec<Option<f64>>>,
    /// The values the colour scale spans; values outside take the end colours.
    pub domain: (f64, f64),
    pub scale: HeatScale,
    /// What the rows are ("Variant", "Agent").
    pub row_label: String,
    /// What the columns are ("Metric").
    pub column_label: String,
    /// What the values are, with their unit ("Score (0–100)").
    pub value_label: String,
    /// Decimals of the labels written in the cells (the tooltip and the table use the
    /// chart's `format_value`).
    pub cell_decimals: usize,
}

impl Default for HeatMapData {
    fn default() -> Self {
        HeatMapData {
            rows: Vec::new(),
            columns: Vec::new(),
            values: Vec::new(),
            domain: (0.0, 100.0),
            scale: HeatScale::Sequential,
            row_label: String::new(),
            column_label: String::new(),
            value_label: String::new(),
            cell_decimals: 0,
        }
    }
}

impl HeatMapData {
    /// Agents (`rows`, top to bottom) × the 11 metrics, each cell an average score on
    /// 0..100, coloured from the lowest score rounded down to ten: the benchmark's results
    /// and the fleet.
    pub fn agent_metrics(rows: Vec<String>, values: Vec<Vec<Option<f64>>>) -> HeatMapData {
        HeatMapData {
            rows,
            columns: Metric::ALL.iter().map(|m| m.label().to_owned()).collect(),
            domain: score_domain(values.iter().flatten().flatten().copied()),
            values,
            row_label: "Agent".to_owned(),
            column_label: "Metric".to_owned(),
            value_label: "Average (0–100)".to_owned(),
            ..HeatMapData::default()
        }
    }

    /// The value at `row`, `column`, if there is one.
    pub fn value(&self, row: usize, column: usize) -> Option<f64> {
        self.values
            .get(row)
            .and_then(|r| r.get(column))
            .copied()
            .flatten()
            .filter(|v| v.is_finite())
    }

    /// The label written in a cell: the value with `cell_decimals` decimals.
    pub fn cell_label(&self, value: f64) -> String {
        format!("{value:.*}", self.cell_decimals)
    }

    /// A cell's colour under `theme`.
    pub fn color_of(&self, value: f64, theme: &ChartTheme) -> RGBColor {
        let (low, high) = self.domain;
        let span = (high - low).abs().max(f64::EPSILON);
        match self.scale {
            HeatScale::Sequential => {
                let t = ((value - low) / span).clamp(0.0, 1.0);
                // Never quite the background, so the lowest cells still show as cells.
                mix(theme.surface, theme.series_color(0), 0.12 + 0.88 * t)
            }
            HeatScale::Diverging { center } => {
                if value < center {
                    let t = (center - value) / (center - low).abs().max(f64::EPSILON);
                    mix(theme.surface, theme.series_color(3), 0.1 + 0.9 * t.min(1.0))
                } else {
                    let t = (value - center) / (high - center).abs().max(f64::EPSILON);
                    mix(theme.surface, theme.series_color(1), 0.1 + 0.9 * t.min(1.0))
                }
            }
        }
    }

    /// Whether the column labels stand upright (they do not fit across a cell of `cell_width`).
    fn upright_columns(&self, cell_width: f64) -> bool {
        self.columns
            .iter()
            .any(|c| approx_text_width(c, 11.5) > cell_width - 6.0)
    }

    /// The height of the column-label band (CSS pixels) for cells `cell_width` wide.
    fn header_height(&self, cell_width: f64) -> f64 {
        if self.upright_columns(cell_width) {
            let widest = self
                .columns
                .iter()
                .map(|c| approx_text_width(c, 11.5))
                .fold(0.0, f64::max);
            (widest + 10.0).min(140.0)
        } else {
            24.0
        }
    }

    /// The width below which cells get too narrow for their labels (CSS pixels).
    pub fn min_width(&self) -> f64 {
        110.0 + 30.0 * self.columns.len() as f64
    }

    /// A canvas height that gives each row room, assuming upright column labels when they
    /// would not fit across cells of the minimum width (CSS pixels).
    pub fn natural_height(&self) -> f64 {
        TITLE_BAND + self.header_height(30.0) + 32.0 * self.rows.len() as f64 + LEGEND_BAND
    }
}

impl FramedChart for HeatMapData {
    fn draw_on(
        &self,
        root: &CanvasArea,
        ctx: &DrawContext,
        format_value: &dyn Fn(f64) -> String,
    ) -> DrawResult {
        draw_heat_map(root, ctx, self, format_value)
    }

    /// A sentence for screen readers: the size and the highest and lowest cells.
    fn summary(&self, format_value: &dyn Fn(f64) -> String) -> String {
        let cells = (0..self.rows.len()).flat_map(|r| {
            (0..self.columns.len()).filter_map(move |c| self.value(r, c).map(|v| (r, c, v)))
        });
        let mut highest: Option<(usize, usize, f64)> = None;
        let mut lowest: Option<(usize, usize, f64)> = None;
        for cell in cells {
            if highest.is_none_or(|h| cell.2 > h.2) {
                highest = Some(cell);
            }
            if lowest.is_none_or(|l| cell.2 < l.2) {
                lowest = Some(cell);
            }
        }
        let (Some(high), Some(low)) = (highest, lowest) else {
            return "No data.".to_owned();
        };
        let name = |(r, c, v): (usize, usize, f64)| {
            format!(
                "{}, {} at {}",
                self.rows.get(r).map(String::as_str).unwrap_or(""),
                self.columns.get(c).map(String::as_str).unwrap_or(""),
                format_value(v)
            )
        };
        format!(
            "{} rows ({}) by {} columns ({}) of {}. Highest: {}; lowest: {}.",
            self.rows.len(),
            self.row_label,
            self.columns.len(),
            self.column_label,
            self.value_label,
            name(high),
            name(low)
        )
    }

    /// The table view: the row label and the columns as headings, one row per row.
    fn table(&self, format_value: &dyn Fn(f64) -> String) -> (Vec<String>, Vec<Vec<String>>) {
        let columns = std::iter::once(self.row_label.clone())
            .chain(self.columns.iter().cloned())
            .collect();
        let rows = self
            .rows
            .iter()
            .enumerate()
            .map(|(r, name)| {
                std::iter::once(name.clone())
                    .chain((0..self.columns.len()).map(|c| {
                        self.value(r, c)
                            .map(format_value)
                            .unwrap_or_else(|| "–".to_owned())
                    }))
                    .collect()
            })
            .collect();
        (columns, rows)
    }
}

/// The band over the matrix holding the axis titles (CSS pixels).
const TITLE_BAND: f64 = 20.0;
/// The band under the matrix holding the colour legend (CSS pixels).
const LEGEND_BAND: f64 = 50.0;

/// Draws `data` onto `root` (already filled with the background); returns one hover region
/// per cell. `format_value` writes the tooltips.
pub fn draw_heat_map<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    ctx: &DrawContext,
    data: &HeatMapData,
    format_value: &dyn Fn(f64) -> String,
) -> DrawResult {
    if data.rows.is_empty() || data.columns.is_empty() {
        draw_empty(root, ctx)?;
        return Ok(Vec::new());
    }
    let theme = ctx.theme;
    let (w, h) = root.dim_in_pixel();
    let width = f64::from(w) / ctx.scale;
    let height = f64::from(h) / ctx.scale;
    let widest_row = data
        .rows
        .iter()
        .map(|r| approx_text_width(r, 12.0))
        .fold(0.0, f64::max);
    let label_area = (widest_row + 14.0).min(width * 0.32);
    let grid_left = label_area;
    let grid_right = width - 4.0;
    let n_cols = data.columns.len();
    let n_rows = data.rows.len();
    let cell_w = ((grid_right - grid_left) / n_cols as f64).max(1.0);
    let upright = data.upright_columns(cell_w);
    let header = data.header_height(cell_w);
    let grid_top = TITLE_BAND + header;
    let grid_bottom = (height - LEGEND_BAND).max(grid_top + n_rows as f64);
    let cell_h = (grid_bottom - grid_top) / n_rows as f64;

    // Axis titles: what the rows are over the row labels, what the columns are over them.
    root.draw(&Text::new(
        data.row_label.clone(),
        (ctx.px(2.0), ctx.px(2.0)),
        ctx.text(12.5, &theme.text, HPos::Left, VPos::Top),
    ))?;
    root.draw(&Text::new(
        data.column_label.clone(),
        (ctx.px((grid_left + grid_right) / 2.0), ctx.px(2.0)),
        ctx.text(12.5, &theme.text, HPos::Center, VPos::Top),
    ))?;

    for (c, name) in data.columns.iter().enumerate() {
        let center = grid_left + cell_w * (c as f64 + 0.5);
        if upright {
            let text = fit_label(name, header - 8.0, 11.5);
            let style = ctx.vertical_text(11.5, &theme.muted, HPos::Left);
            root.draw(&Text::new(
                text,
                (ctx.px(center), ctx.px(grid_top - 5.0)),
                style,
            ))?;
        } else {
            let style = ctx.text(11.5, &theme.muted, HPos::Center, VPos::Bottom);
            root.draw(&Text::new(
                name.clone(),
                (ctx.px(center), ctx.px(grid_top - 5.0)),
                style,
            ))?;
        }
    }

    let gap = if cell_w > 12.0 && cell_h > 12.0 {
        1.5
    } else {
        0.0
    };
    let font = (cell_h * 0.45).clamp(9.0, 12.0);
    let mut regions = Vec::with_capacity(n_rows * n_cols);
    for (r, row_name) in data.rows.iter().enumerate() {
        let top = grid_top + cell_h * r as f64;
        let middle = top + cell_h / 2.0;
        root.draw(&Text::new(
            fit_label(row_name, label_area - 10.0, 12.0),
            (ctx.px(label_area - 8.0), ctx.px(middle)),
            ctx.text(12.0, &theme.text, HPos::Right, VPos::Center),
        ))?;
        for (c, column_name) in data.columns.iter().enumerate() {
            let left = grid_left + cell_w * c as f64;
            let corners = [
                (ctx.px(left + gap), ctx.px(top + gap)),
                (ctx.px(left + cell_w - gap), ctx.px(top + cell_h - gap)),
            ];
            let value = data.value(r, c);
            let (fill, label) = match value {
                Some(v) => (data.color_of(v, theme), data.cell_label(v)),
                None => (theme.grid, "–".to_owned()),
            };
            root.draw(&Rectangle::new(corners, fill.filled()))?;
            if approx_text_width(&label, font) <= cell_w - 2.0 && cell_h >= font + 2.0 {
                let ink = readable_on(fill, theme.text, theme.surface);
                root.draw(&Text::new(
                    label,
                    (ctx.px(left + cell_w / 2.0), ctx.px(middle)),
                    ctx.text(font, &ink, HPos::Center, VPos::Center),
                ))?;
            }
            regions.push(HitRegion {
                left,
                top,
                right: left + cell_w,
                bottom: top + cell_h,
                lines: vec![
                    row_name.clone(),
                    format!(
                        "{column_name}: {}",
                        value
                            .map(format_value)
                            .unwrap_or_else(|| "no value".to_owned())
                    ),
                ],
            });
        }
    }

    draw_legend(root, ctx, data, grid_left, grid_right, grid_bottom)?;
    Ok(regions)
}

/// The colour ramp under the matrix with its end values and the value's name.
fn draw_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    ctx: &DrawContext,
    data: &HeatMapData,
    left: f64,
    right: f64,
    grid_bottom: f64,
) -> Result<(), super::frame::DrawError> {
    let theme = ctx.theme;
    let (low, high) = data.domain;
    let ramp_left = left + approx_text_width(&data.cell_label(low), 11.0) + 8.0;
    let ramp_right =
        (ramp_left + 200.0).min(right - approx_text_width(&data.cell_label(high), 11.0) - 8.0);
    let top = grid_bottom + 12.0;
    let bottom = top + 10.0;
    let steps = 32;
    let step = (ramp_right - ramp_left) / f64::from(steps);
    if step > 0.0 {
        for i in 0..steps {
            let t = (f64::from(i) + 0.5) / f64::from(steps);
            let color = data.color_of(low + (high - low) * t, theme);
            let x = ramp_left + step * f64::from(i);
            root.draw(&Rectangle::new(
                [
                    (ctx.px(x), ctx.px(top)),
                    (ctx.px(x + step + 0.5), ctx.px(bottom)),
                ],
                color.filled(),
            ))?;
        }
    }
    let middle = (top + bottom) / 2.0;
    root.draw(&Text::new(
        data.cell_label(low),
        (ctx.px(ramp_left - 4.0), ctx.px(middle)),
        ctx.text(11.0, &theme.muted, HPos::Right, VPos::Center),
    ))?;
    root.draw(&Text::new(
        data.cell_label(high),
        (ctx.px(ramp_right + 4.0), ctx.px(middle)),
        ctx.text(11.0, &theme.muted, HPos::Left, VPos::Center),
    ))?;
    root.draw(&Text::new(
        data.value_label.clone(),
        (ctx.px(ramp_left), ctx.px(bottom + 4.0)),
        ctx.text(12.0, &theme.text, HPos::Left, VPos::Top),
    ))?;
    Ok(())
}

/// A heat map of `data`: labelled rows and columns, each cell's value written in it, the
/// value under the pointer in a tooltip, a colour legend and a "Show as table" view.
/// Scrolls sideways on narrow screens rather than squeezing the cells.
#[component]
pub fn HeatMapChart(
    /// The caption and the start of the accessible name ("Metrics per variant").
    #[prop(into)]
    title: String,
    #[prop(into)] data: Signal<HeatMapData>,
    /// How values read in the tooltip and the table; `format::number` by default.
    #[prop(optional)]
    format_value: Option<Callback<f64, String>>,
    /// A `data-testid` for the `<figure>`.
    #[prop(optional, into)]
    test_id: String,
) -> impl IntoView {
    let format_value = format_value.unwrap_or_else(|| Callback::new(format::number));
    let frame = FrameInputs::of(data, format_value);
    let height = Signal::derive(move || data.with(HeatMapData::natural_height));
    let min_width = Signal::derive(move || Some(data.with(HeatMapData::min_width)));
    view! {
        <ChartFrame title=title summary=frame.summary draw=frame.draw columns=frame.columns rows=frame.rows
            height=height min_width=min_width test_id=test_id/>
    }
}
