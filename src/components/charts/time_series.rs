//! `<TimeSeriesChart>`: one or more series over evenly spaced points (days, iterations) as
//! bars or lines, with labelled axes, the values under the pointer in a tooltip, and a
//! "Show as table" view of the same numbers.

use leptos::html;
use leptos::prelude::*;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters_canvas::CanvasBackend;

use super::{prepare_canvas, ChartTheme, DataTable, RedrawWatchers, CHART_FONT};
use crate::format;

/// Bars (counts per day) or lines (a level over time, such as a score).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChartKind {
    #[default]
    Bars,
    Line,
}

/// One named row of values, one value per point of its [`TimeSeries`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    /// What the legend, the tooltip and the table's column call it ("Requests").
    pub name: String,
    pub values: Vec<f64>,
}

impl Series {
    pub fn new(name: impl Into<String>, values: Vec<f64>) -> Series {
        Series {
            name: name.into(),
            values,
        }
    }
}

/// What a [`TimeSeriesChart`] draws: the points along the x axis, oldest first, and the
/// series over them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TimeSeries {
    /// One per point: what the tooltip and the table call it ("3 Nov 2026").
    pub labels: Vec<String>,
    /// Shorter names for the x axis ("3 Nov"); empty means `labels`.
    pub axis_labels: Vec<String>,
    pub series: Vec<Series>,
}

impl TimeSeries {
    /// Points named by `YYYY-MM-DD` days: "3 Nov 2026" in the tooltip and table, "3 Nov" on
    /// the axis.
    pub fn daily(days: &[String], series: Vec<Series>) -> TimeSeries {
        TimeSeries {
            labels: days.iter().map(|d| format::date(d)).collect(),
            axis_labels: days.iter().map(|d| format::short_date(d)).collect(),
            series,
        }
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    fn axis_label(&self, index: usize) -> String {
        self.axis_labels
            .get(index)
            .or_else(|| self.labels.get(index))
            .cloned()
            .unwrap_or_default()
    }

    /// The largest value of any series (0 when there is none).
    fn max_value(&self) -> f64 {
        self.series
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max)
    }

    fn all_whole(&self) -> bool {
        self.series
            .iter()
            .flat_map(|s| s.values.iter())
            .all(|v| v.fract() == 0.0)
    }

    /// A sentence for screen readers: the span and, per series, the highest and latest value.
    pub fn summary(&self, format_value: &dyn Fn(f64) -> String) -> String {
        let (Some(first), Some(last)) = (self.labels.first(), self.labels.last()) else {
            return "No data.".to_owned();
        };
        let mut text = format!("{} points from {first} to {last}.", self.len());
        for series in &self.series {
            let peak = series
                .values
                .iter()
                .enumerate()
                .filter(|(_, v)| v.is_finite())
                .max_by(|a, b| a.1.total_cmp(b.1));
            if let (Some((i, peak)), Some(latest)) = (peak, series.values.last()) {
                text.push_str(&format!(
                    " {}: highest {} on {}, latest {}.",
                    series.name,
                    format_value(*peak),
                    self.labels.get(i).map(String::as_str).unwrap_or(""),
                    format_value(*latest)
                ));
            }
        }
        text
    }
}

/// A round number at or above `value`: 1, 2, 2.5 or 5 times a power of ten.
pub fn nice_ceiling(value: f64) -> f64 {
    if !value.is_finite() || value <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(value.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|candidate| *candidate >= value)
        .unwrap_or(10.0 * magnitude)
}

/// Where the plot sits inside the canvas, in CSS pixels, for the pointer.
#[derive(Debug, Clone, Copy, PartialEq)]
struct PlotArea {
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
    points: usize,
}

impl PlotArea {
    /// The point under an x position (CSS pixels from the canvas's left edge).
    fn index_at(&self, x: f64, y: f64) -> Option<usize> {
        let inside = x >= self.left && x <= self.right && y >= self.top && y <= self.bottom;
        if !inside || self.points == 0 || self.right <= self.left {
            return None;
        }
        let slot = (x - self.left) / (self.right - self.left) * self.points as f64;
        Some((slot.floor() as usize).min(self.points - 1))
    }

    /// The centre of point `index`, in CSS pixels.
    fn center_of(&self, index: usize) -> f64 {
        self.left + (index as f64 + 0.5) / self.points as f64 * (self.right - self.left)
    }
}

/// What the draw needs besides the data.
struct DrawOptions<'a> {
    kind: ChartKind,
    x_label: &'a str,
    y_label: &'a str,
    y_max: Option<f64>,
}

/// Draws the chart; returns where the plot landed, or `None` when the canvas has no box yet
/// or the drawing failed (the table below still has the numbers).
fn draw(
    canvas: &web_sys::HtmlCanvasElement,
    data: &TimeSeries,
    options: &DrawOptions,
) -> Option<PlotArea> {
    let size = prepare_canvas(canvas)?;
    let theme = ChartTheme::from_css();
    let root = CanvasBackend::with_canvas_object(canvas.clone())?.into_drawing_area();
    root.fill(&theme.surface).ok()?;
    let px = |css: f64| size.px(css);
    let font = |css: f64| (CHART_FONT, f64::from(px(css)));

    let n = data.len();
    if n == 0 || data.series.is_empty() {
        let style = font(14.0)
            .into_font()
            .color(&theme.muted)
            .pos(Pos::new(HPos::Center, VPos::Center));
        let center = (px(size.width / 2.0), px(size.height / 2.0));
        root.draw(&Text::new("No data yet", center, style)).ok()?;
        return None;
    }

    let whole = data.all_whole();
    let y_max = options
        .y_max
        .unwrap_or_else(|| nice_ceiling(data.max_value() * 1.05));
    let y_labels = if whole && y_max < 5.0 {
        y_max as usize + 1
    } else {
        6
    };
    // Room for the tick labels and the rotated axis title; less on a phone.
    let y_label_area = if size.width < 480.0 { 54.0 } else { 64.0 };
    let plot_width = (size.width - y_label_area - 24.0).max(1.0);
    let x_labels = ((plot_width / 64.0).floor() as usize).clamp(1, n);
    let x_range = -0.5..(n as f64 - 0.5);

    let mut chart = ChartBuilder::on(&root)
        .margin_top(px(12.0))
        .margin_right(px(16.0))
        .margin_left(px(4.0))
        .margin_bottom(px(4.0))
        .x_label_area_size(px(44.0))
        .y_label_area_size(px(y_label_area))
        .build_cartesian_2d(x_range, 0f64..y_max)
        .ok()?;

    let x_formatter = |x: &f64| {
        let i = x.round();
        if (x - i).abs() > 1e-6 || i < 0.0 {
            String::new()
        } else {
            data.axis_label(i as usize)
        }
    };
    let y_formatter = |y: &f64| format::compact(*y);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(x_labels)
        .y_labels(y_labels)
        .x_label_formatter(&x_formatter)
        .y_label_formatter(&y_formatter)
        .x_desc(options.x_label)
        .y_desc(options.y_label)
        .label_style(font(12.0).into_font().color(&theme.muted))
        .axis_desc_style(font(12.5).into_font().color(&theme.text))
        .axis_style(theme.muted)
        .bold_line_style(theme.grid)
        .light_line_style(TRANSPARENT)
        .set_all_tick_mark_size(px(4.0))
        .draw()
        .ok()?;

    let group = 0.76;
    let count = data.series.len();
    for (k, series) in data.series.iter().enumerate() {
        let color = theme.series_color(k);
        let values = series.values.iter().copied().enumerate().take(n);
        match options.kind {
            ChartKind::Bars => {
                let width = group / count as f64;
                let bars = values.filter(|(_, v)| v.is_finite()).map(|(i, v)| {
                    let x0 = i as f64 - group / 2.0 + k as f64 * width;
                    Rectangle::new([(x0, 0.0), (x0 + width, v.min(y_max))], color.filled())
                });
                chart.draw_series(bars).ok()?;
            }
            ChartKind::Line => {
                let points: Vec<(f64, f64)> = values
                    .filter(|(_, v)| v.is_finite())
                    .map(|(i, v)| (i as f64, v.min(y_max)))
                    .collect();
                let line_style = ShapeStyle {
                    color: color.to_rgba(),
                    filled: false,
                    stroke_width: size.px_u32(2.0),
                };
                chart
                    .draw_series(LineSeries::new(points.iter().copied(), line_style))
                    .ok()?;
                if n <= 62 {
                    let dots = points
                        .iter()
                        .map(|&(x, y)| Circle::new((x, y), px(3.0), color.filled()));
                    chart.draw_series(dots).ok()?;
                }
            }
        }
    }
    root.present().ok()?;

    let (xs, ys) = chart.plotting_area().get_pixel_range();
    let css = |device: i32| f64::from(device) / size.dpr;
    Some(PlotArea {
        left: css(xs.start),
        right: css(xs.end),
        top: css(ys.start),
        bottom: css(ys.end),
        points: n,
    })
}

/// A chart of `data` with labelled axes. Hover (or touch) shows the values of a point; the
/// numbers are also in a "Show as table" disclosure below. Redraws when `data`, its box or
/// the theme changes.
#[component]
pub fn TimeSeriesChart(
    /// The chart's caption and the start of its accessible name ("Requests per day").
    #[prop(into)]
    title: String,
    #[prop(into)] data: Signal<TimeSeries>,
    /// The y axis's title, with its unit ("Requests", "Tokens", "Score (0–1)").
    #[prop(into)]
    y_label: String,
    /// The x axis's title.
    #[prop(into, default = "Day (UTC)".to_owned())]
    x_label: String,
    #[prop(optional)] kind: ChartKind,
    /// A fixed top of the y axis (1.0 for scores); by default a round number above the data.
    #[prop(optional)]
    y_max: Option<f64>,
    /// How a value reads in the tooltip, the table and the summary; thousands separators by
    /// default.
    #[prop(optional)]
    format_value: Option<Callback<f64, String>>,
) -> impl IntoView {
    let format_value = format_value.unwrap_or_else(|| Callback::new(format::number));
    let canvas_ref = NodeRef::<html::Canvas>::new();
    let frame_ref = NodeRef::<html::Div>::new();
    let hovered = RwSignal::new(None::<usize>);
    let plot = RwSignal::new(None::<PlotArea>);
    // Bumped by the watchers: the box or the theme changed.
    let redraws = RwSignal::new(0u32);
    // Dropping the watchers (when the component's owner is cleaned up) disconnects them.
    let watchers = StoredValue::new_local(None::<RedrawWatchers>);
    frame_ref.on_load(move |frame| {
        watchers.set_value(Some(RedrawWatchers::start(&frame, move || {
            redraws.try_update(|n| *n = n.wrapping_add(1));
        })));
    });

    let axis_x = x_label.clone();
    let axis_y = y_label.clone();
    // Hovering does not redraw: the highlight and the tooltip are HTML over the canvas.
    Effect::new(move |_| {
        redraws.track();
        let Some(canvas) = canvas_ref.get() else {
            return;
        };
        data.with(|data| {
            let options = DrawOptions {
                kind,
                x_label: &axis_x,
                y_label: &axis_y,
                y_max,
            };
            let area = draw(&canvas, data, &options);
            if plot.get_untracked() != area {
                plot.set(area);
            }
        });
    });

    let pointer_at = move |ev: &web_sys::MouseEvent| {
        let index = plot
            .get_untracked()
            .and_then(|area| area.index_at(f64::from(ev.offset_x()), f64::from(ev.offset_y())));
        if hovered.get_untracked() != index {
            hovered.set(index);
        }
    };
    let on_move = move |ev: leptos::ev::PointerEvent| pointer_at(&ev);
    let on_leave = move |_| hovered.set(None);

    let accessible_name = {
        let title = title.clone();
        move || {
            let summary = data.with(|d| d.summary(&|v| format_value.run(v)));
            format!("{title}. {summary} The numbers are also in the table below.")
        }
    };

    let tooltip = move || {
        let index = hovered.get()?;
        let area = plot.get()?;
        data.with(|data| {
            let label = data.labels.get(index)?.clone();
            let rows = data
                .series
                .iter()
                .enumerate()
                .map(|(k, s)| {
                    let value = s
                        .values
                        .get(index)
                        .map(|v| format_value.run(*v))
                        .unwrap_or_else(|| "–".to_owned());
                    (k, s.name.clone(), value)
                })
                .collect::<Vec<_>>();
            let center = area.center_of(index);
            let slot = (area.right - area.left) / area.points as f64;
            let left = center.clamp(area.left + 40.0, (area.right - 40.0).max(area.left + 40.0));
            Some(view! {
                <div class="chart-hover-band" aria-hidden="true"
                    style:left=format!("{:.1}px", center - slot / 2.0) style:width=format!("{slot:.1}px")
                    style:top=format!("{:.0}px", area.top) style:height=format!("{:.0}px", area.bottom - area.top)>
                </div>
                <div class="chart-tooltip" aria-hidden="true"
                    style:left=format!("{left:.0}px") style:top=format!("{:.0}px", area.top)>
                    <strong>{label}</strong>
                    {rows.into_iter().map(|(k, name, value)| view! {
                        <span class="chart-tooltip-row">
                            <span class=format!("swatch series-{}", k % 4 + 1)></span>
                            {format!("{name}: {value}")}
                        </span>
                    }).collect_view()}
                </div>
            })
        })
    };

    let legend = move || {
        data.with(|d| {
            (d.series.len() > 1).then(|| {
                let items = d
                    .series
                    .iter()
                    .enumerate()
                    .map(|(k, s)| {
                        view! {
                            <li><span class=format!("swatch series-{}", k % 4 + 1)></span>{s.name.clone()}</li>
                        }
                    })
                    .collect_view();
                view! { <ul class="chart-legend">{items}</ul> }
            })
        })
    };

    let table_columns = Signal::derive(move || {
        data.with(|d| {
            std::iter::once(x_label.clone())
                .chain(d.series.iter().map(|s| s.name.clone()))
                .collect::<Vec<_>>()
        })
    });
    let table_rows = Signal::derive(move || {
        data.with(|d| {
            d.labels
                .iter()
                .enumerate()
                .map(|(i, label)| {
                    std::iter::once(label.clone())
                        .chain(d.series.iter().map(|s| {
                            s.values
                                .get(i)
                                .map(|v| format_value.run(*v))
                                .unwrap_or_default()
                        }))
                        .collect()
                })
                .collect::<Vec<Vec<String>>>()
        })
    });

    view! {
        <figure class="chart">
            <figcaption class="chart-title">{title.clone()}</figcaption>
            <div class="chart-frame" node_ref=frame_ref>
                <canvas node_ref=canvas_ref role="img" aria-label=accessible_name
                    on:pointermove=on_move on:pointerdown=on_move on:pointerleave=on_leave>
                </canvas>
                {tooltip}
            </div>
            {legend}
            <details class="chart-table">
                <summary>"Show as table"</summary>
                <DataTable caption=title columns=table_columns rows=table_rows/>
            </details>
        </figure>
    }
}
