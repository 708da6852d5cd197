//! `<BarChart>`: one value per category as a bar, horizontal or vertical, with an optional
//! interval per bar (a 95% confidence interval), an optional dashed reference line (the
//! control, the fleet median) and signed values (bars diverging from zero). The pure
//! [`draw_bar_chart`] draws onto any plotters drawing area, so it runs in tests and
//! benchmarks without the component.

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

/// One category: its name, its value and, optionally, an interval around the value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    /// `(low, high)`, drawn as a whisker with caps.
    pub interval: Option<(f64, f64)>,
    /// Drawn paler: a baseline or a control among the bars.
    pub muted: bool,
    /// An extra line for the tooltip and the table ("12 of 40 conversations").
    pub note: Option<String>,
}

impl Bar {
    /// A bar without interval or note.
    pub fn new(label: impl Into<String>, value: f64) -> Bar {
        Bar {
            label: label.into(),
            value,
            ..Bar::default()
        }
    }

    /// The same bar with the interval `low..high`.
    pub fn with_interval(mut self, low: f64, high: f64) -> Bar {
        self.interval = Some((low.min(high), high.max(low)));
        self
    }

    /// The same bar, drawn paler.
    pub fn muted(mut self) -> Bar {
        self.muted = true;
        self
    }

    /// The same bar with a note for the tooltip and table.
    pub fn with_note(mut self, note: impl Into<String>) -> Bar {
        self.note = Some(note.into());
        self
    }
}

/// Which way the bars run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BarOrientation {
    /// Categories down the left, values along the bottom: long labels, many categories.
    #[default]
    Horizontal,
    /// Categories along the bottom, values up the left: a few short labels.
    Vertical,
}

/// How bars are coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BarColoring {
    /// All in the first series colour.
    #[default]
    Single,
    /// Positive values in `--chart-2`, negative in `--chart-4`: differences, wins and losses.
    BySign,
}

/// What a [`BarChart`] draws.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BarChartData {
    /// In drawing order: top to bottom (horizontal) or left to right (vertical).
    pub bars: Vec<Bar>,
    pub orientation: BarOrientation,
    pub coloring: BarColoring,
    /// The category axis's title ("Variant", "Persona", "Step").
    pub category_label: String,
    /// The value axis's title with its unit ("Overall score (0–100)", "Failure rate (%)").
    pub value_label: String,
    /// What the intervals are, for the tooltip and the table ("95% CI").
    pub interval_label: String,
    pub reference: Option<ReferenceLine>,
    /// A fixed value axis (`(0.0, 100.0)` for scores); by default round numbers around the
    /// values, their intervals, the reference and zero.
    pub domain: Option<(f64, f64)>,
}

impl BarChartData {
    /// The value axis: `domain`, or one that holds every value, interval end, the reference
    /// and zero, with room on the negative side for the value labels.
    pub fn value_domain(&self) -> (f64, f64) {
        if let Some((low, high)) = self.domain {
            if low < high {
                return (low, high);
            }
        }
        let values = self
            .bars
            .iter()
            .flat_map(|bar| {
                std::iter::once(bar.value).chain(bar.interval.into_iter().flat_map(|(a, b)| [a, b]))
            })
            .chain(self.reference.as_ref().map(|line| line.value));
        let Some((mut low, high)) = value_range(values) else {
            return (0.0, 1.0);
        };
        if low < 0.0 {
            // Labels of negative bars sit beyond their ends, inside the plot.
            low -= (high.max(0.0) - low) * 0.12;
        }
        nice_domain(low, high, true)
    }

    /// A canvas height that gives each bar room (CSS pixels).
    pub fn natural_height(&self) -> f64 {
        match self.orientation {
            BarOrientation::Horizontal => (76.0 + 32.0 * self.bars.len() as f64).max(160.0),
            BarOrientation::Vertical => 256.0,
        }
    }
}

impl FramedChart for BarChartData {
    fn draw_on(
        &self,
        root: &CanvasArea,
        ctx: &DrawContext,
        format_value: &dyn Fn(f64) -> String,
    ) -> DrawResult {
        draw_bar_chart(root, ctx, self, format_value)
    }

    /// A sentence for screen readers: how many bars, the highest and the lowest.
    fn summary(&self, format_value: &dyn Fn(f64) -> String) -> String {
        let finite = || self.bars.iter().filter(|b| b.value.is_finite());
        let (Some(top), Some(bottom)) = (
            finite().max_by(|a, b| a.value.total_cmp(&b.value)),
            finite().min_by(|a, b| a.value.total_cmp(&b.value)),
        ) else {
            return "No data.".to_owned();
        };
        let mut text = format!(
            "{} bars of {}. Highest: {} at {}; lowest: {} at {}.",
            self.bars.len(),
            self.value_label,
            top.label,
            format_value(top.value),
            bottom.label,
            format_value(bottom.value)
        );
        if let Some(line) = &self.reference {
            text.push_str(&format!(
                " Reference line: {} at {}.",
                line.label,
                format_value(line.value)
            ));
        }
        text
    }

    /// The table view: headings, then one row per bar.
    fn table(&self, format_value: &dyn Fn(f64) -> String) -> (Vec<String>, Vec<Vec<String>>) {
        let intervals = self.bars.iter().any(|b| b.interval.is_some());
        let notes = self.bars.iter().any(|b| b.note.is_some());
        let mut columns = vec![self.category_label.clone(), self.value_label.clone()];
        if intervals {
            columns.push(format!("{} low", self.interval_label));
            columns.push(format!("{} high", self.interval_label));
        }
        if notes {
            columns.push("Note".to_owned());
        }
        let rows = self
            .bars
            .iter()
            .map(|bar| {
                let mut row = vec![bar.label.clone(), format_value(bar.value)];
                if intervals {
                    let (low, high) = bar
                        .interval
                        .map(|(l, h)| (format_value(l), format_value(h)))
                        .unwrap_or_else(|| ("–".to_owned(), "–".to_owned()));
                    row.push(low);
                    row.push(high);
                }
                if notes {
                    row.push(bar.note.clone().unwrap_or_default());
                }
                row
            })
            .collect();
        (columns, rows)
    }
}

/// Draws `data` onto `root` (already filled with the background); returns one hover region
/// per bar. `format_value` writes the value labels, the tooltips and the axis ticks.
pub fn draw_bar_chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    ctx: &DrawContext,
    data: &BarChartData,
    format_value: &dyn Fn(f64) -> String,
) -> DrawResult {
    if data.bars.is_empty() {
        draw_empty(root, ctx)?;
        return Ok(Vec::new());
    }
    let (w, h) = root.dim_in_pixel();
    let width = f64::from(w) / ctx.scale;
    let height = f64::from(h) / ctx.scale;
    let (min, max) = data.value_domain();
    let theme = ctx.theme;
    let n = data.bars.len();
    let value_texts: Vec<String> = data.bars.iter().map(|b| format_value(b.value)).collect();
    let widest_value = value_texts
        .iter()
        .map(|t| approx_text_width(t, 11.5))
        .fold(0.0, f64::max);
    let horizontal = data.orientation == BarOrientation::Horizontal;

    // Plot box and scales, in CSS pixels.
    let (plot_left, plot_right, plot_top, plot_bottom) = if horizontal {
        let labels = data
            .bars
            .iter()
            .map(|b| approx_text_width(&b.label, 12.0))
            .fold(0.0, f64::max);
        let label_area = (labels + 12.0).min(width * 0.38);
        let right_room = (widest_value + 12.0).min(width * 0.2);
        (
            label_area,
            (width - right_room).max(label_area + 10.0),
            30.0,
            (height - 44.0).max(40.0),
        )
    } else {
        (64.0, width - 12.0, 24.0, (height - 52.0).max(40.0))
    };
    let scale = if horizontal {
        LinearScale {
            min,
            max,
            start: plot_left,
            end: plot_right,
        }
    } else {
        LinearScale {
            min,
            max,
            start: plot_bottom,
            end: plot_top,
        }
    };
    let cross = if horizontal {
        (plot_top, plot_bottom)
    } else {
        (plot_left, plot_right)
    };
    let tick = |v: f64| format::compact(v);
    draw_value_axis(
        root,
        ctx,
        &scale,
        cross,
        horizontal,
        &data.value_label,
        &tick,
    )?;

    // The category axis's title: above the labels (horizontal) or under them (vertical).
    if horizontal {
        let style = ctx.text(12.5, &theme.text, HPos::Left, VPos::Top);
        root.draw(&Text::new(
            data.category_label.clone(),
            (ctx.px(2.0), ctx.px(4.0)),
            style,
        ))?;
    } else {
        let style = ctx.text(12.5, &theme.text, HPos::Center, VPos::Bottom);
        root.draw(&Text::new(
            data.category_label.clone(),
            (ctx.px((plot_left + plot_right) / 2.0), ctx.px(height - 2.0)),
            style,
        ))?;
    }

    let along = if horizontal {
        plot_bottom - plot_top
    } else {
        plot_right - plot_left
    };
    let slot = along / n as f64;
    let thickness = (slot * 0.62).min(if horizontal { 26.0 } else { 56.0 });
    let base_value = 0f64.clamp(min, max);
    let base = scale.at(base_value);
    let mut regions = Vec::with_capacity(n);

    for (i, (bar, value_text)) in data.bars.iter().zip(&value_texts).enumerate() {
        let middle = if horizontal {
            plot_top + slot * (i as f64 + 0.5)
        } else {
            plot_left + slot * (i as f64 + 0.5)
        };
        let color = match (data.coloring, bar.value < 0.0) {
            (BarColoring::BySign, true) => theme.series_color(3),
            (BarColoring::BySign, false) => theme.series_color(1),
            (BarColoring::Single, _) => theme.series_color(0),
        };
        let color = if bar.muted {
            mix(color, theme.surface, 0.55)
        } else {
            color
        };
        // Category label.
        if horizontal {
            let text = fit_label(&bar.label, plot_left - 10.0, 12.0);
            let style = ctx.text(12.0, &theme.text, HPos::Right, VPos::Center);
            root.draw(&Text::new(
                text,
                (ctx.px(plot_left - 8.0), ctx.px(middle)),
                style,
            ))?;
        } else {
            let text = fit_label(&bar.label, slot - 4.0, 12.0);
            let style = ctx.text(12.0, &theme.text, HPos::Center, VPos::Top);
            root.draw(&Text::new(
                text,
                (ctx.px(middle), ctx.px(plot_bottom + 6.0)),
                style,
            ))?;
        }

        let end = scale.clamped(bar.value);
        if bar.value.is_finite() {
            let (a, b) = if horizontal {
                (
                    (ctx.px(base), ctx.px(middle - thickness / 2.0)),
                    (ctx.px(end), ctx.px(middle + thickness / 2.0)),
                )
            } else {
                (
                    (ctx.px(middle - thickness / 2.0), ctx.px(end)),
                    (ctx.px(middle + thickness / 2.0), ctx.px(base)),
                )
            };
            root.draw(&Rectangle::new([a, b], color.filled()))?;
        }

        // The interval's whisker and caps.
        let mut far_end = end;
        if let Some((low, high)) = bar.interval.filter(|(l, h)| l.is_finite() && h.is_finite()) {
            let (lo, hi) = (scale.clamped(low), scale.clamped(high));
            let cap = thickness * 0.35;
            let stroke = ShapeStyle {
                color: theme.text.to_rgba(),
                filled: false,
                stroke_width: ctx.px(1.5).max(1) as u32,
            };
            let lines = if horizontal {
                [
                    [(lo, middle), (hi, middle)],
                    [(lo, middle - cap), (lo, middle + cap)],
                    [(hi, middle - cap), (hi, middle + cap)],
                ]
            } else {
                [
                    [(middle, lo), (middle, hi)],
                    [(middle - cap, lo), (middle + cap, lo)],
                    [(middle - cap, hi), (middle + cap, hi)],
                ]
            };
            for [p, q] in lines {
                root.draw(&PathElement::new(
                    vec![(ctx.px(p.0), ctx.px(p.1)), (ctx.px(q.0), ctx.px(q.1))],
                    stroke,
                ))?;
            }
            far_end = if bar.value < base_value {
                if horizontal {
                    end.min(lo)
                } else {
                    end.max(lo)
                }
            } else if horizontal {
                end.max(hi)
            } else {
                end.min(hi)
            };
        }

        // The value beyond the bar's end (and its interval's).
        if bar.value.is_finite() {
            let negative = bar.value < base_value;
            let (pos, style) = match (horizontal, negative) {
                (true, false) => (
                    (far_end + 5.0, middle),
                    ctx.text(11.5, &theme.text, HPos::Left, VPos::Center),
                ),
                (true, true) => (
                    (far_end - 5.0, middle),
                    ctx.text(11.5, &theme.text, HPos::Right, VPos::Center),
                ),
                (false, false) => (
                    (middle, far_end - 3.0),
                    ctx.text(11.5, &theme.text, HPos::Center, VPos::Bottom),
                ),
                (false, true) => (
                    (middle, far_end + 3.0),
                    ctx.text(11.5, &theme.text, HPos::Center, VPos::Top),
                ),
            };
            root.draw(&Text::new(
                value_text.clone(),
                (ctx.px(pos.0), ctx.px(pos.1)),
                style,
            ))?;
        }

        let mut lines = vec![
            bar.label.clone(),
            format!("{}: {value_text}", data.value_label),
        ];
        if let Some((low, high)) = bar.interval {
            lines.push(format!(
                "{}: {} to {}",
                data.interval_label,
                format_value(low),
                format_value(high)
            ));
        }
        if let Some(note) = &bar.note {
            lines.push(note.clone());
        }
        regions.push(if horizontal {
            HitRegion {
                left: plot_left,
                right: plot_right,
                top: middle - slot / 2.0,
                bottom: middle + slot / 2.0,
                lines,
            }
        } else {
            HitRegion {
                left: middle - slot / 2.0,
                right: middle + slot / 2.0,
                top: plot_top,
                bottom: plot_bottom,
                lines,
            }
        });
    }

    // Zero, when bars go both ways.
    if min < 0.0 && max > 0.0 {
        let (a, b) = if horizontal {
            (
                (ctx.px(base), ctx.px(plot_top)),
                (ctx.px(base), ctx.px(plot_bottom)),
            )
        } else {
            (
                (ctx.px(plot_left), ctx.px(base)),
                (ctx.px(plot_right), ctx.px(base)),
            )
        };
        root.draw(&PathElement::new(vec![a, b], theme.muted))?;
    }
    if let Some(line) = &data.reference {
        let cross = if horizontal {
            (plot_top - 4.0, plot_bottom)
        } else {
            (plot_left, plot_right)
        };
        draw_reference(root, ctx, &scale, cross, horizontal, line)?;
    }
    Ok(regions)
}

/// A bar chart of `data` with labelled axes, values written at the bars' ends, the numbers
/// under the pointer in a tooltip and a "Show as table" view. Redraws when `data`, its box
/// or the theme changes.
#[component]
pub fn BarChart(
    /// The caption and the start of the accessible name ("Overall score per variant").
    #[prop(into)]
    title: String,
    #[prop(into)] data: Signal<BarChartData>,
    /// How values read on the bars, in the tooltip and the table; `format::number` by
    /// default (axis ticks are always compact).
    #[prop(optional)]
    format_value: Option<Callback<f64, String>>,
    /// The canvas's height in CSS pixels; by default room for every bar.
    #[prop(optional)]
    height: Option<f64>,
    /// A `data-testid` for the `<figure>`.
    #[prop(optional, into)]
    test_id: String,
) -> impl IntoView {
    let format_value = format_value.unwrap_or_else(|| Callback::new(format::number));
    let frame = FrameInputs::of(data, format_value);
    let height =
        Signal::derive(move || height.unwrap_or_else(|| data.with(|d| d.natural_height())));
    view! {
        <ChartFrame title=title summary=frame.summary draw=frame.draw columns=frame.columns rows=frame.rows height=height test_id=test_id/>
    }
}
