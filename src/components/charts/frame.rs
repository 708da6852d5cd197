//! What the categorical charts ([`super::BarChart`], [`super::HeatMapChart`],
//! [`super::ScoreSpreadChart`]) share: a [`DrawContext`] (theme and pixel density) for their
//! pure draw functions, the [`HitRegion`]s those return for the hover layer, value scales
//! and ticks, and [`ChartFrame`], the component that owns the canvas, redraws it on
//! resize and theme change, shows the tooltip and carries the "Show as table" view.

use std::rc::Rc;

use leptos::html;
use leptos::prelude::*;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters_canvas::CanvasBackend;

use super::{prepare_canvas, ChartTheme, DataTable, RedrawWatchers, CHART_FONT};

/// A drawing area on a `<canvas>`: what [`ChartFrame`] hands its draw function.
pub type CanvasArea = DrawingArea<CanvasBackend, Shift>;

/// Why a draw failed, in words (the chart's table still has the numbers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrawError(pub String);

impl std::fmt::Display for DrawError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DrawError {}

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for DrawError {
    fn from(err: DrawingAreaErrorKind<E>) -> Self {
        DrawError(err.to_string())
    }
}

/// The colours and the pixel density a pure draw function works with.
#[derive(Debug, Clone, Copy)]
pub struct DrawContext<'a> {
    pub theme: &'a ChartTheme,
    /// Device pixels per CSS pixel (`devicePixelRatio`); layouts are in CSS pixels and
    /// multiplied by this when drawn, so text stays the same size on dense screens.
    pub scale: f64,
}

impl DrawContext<'_> {
    /// CSS pixels to device pixels.
    pub fn px(&self, css: f64) -> i32 {
        (css * self.scale).round() as i32
    }

    /// The chart font at `css` pixels in `color`, anchored at `h`/`v`.
    pub fn text(&self, css: f64, color: &RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
        (CHART_FONT, css * self.scale)
            .into_font()
            .color(color)
            .pos(Pos::new(h, v))
    }

    /// The chart font turned a quarter anticlockwise (axis titles on the left, crowded
    /// column labels).
    pub fn vertical_text(&self, css: f64, color: &RGBColor, h: HPos) -> TextStyle<'static> {
        (CHART_FONT, css * self.scale)
            .into_font()
            .transform(FontTransform::Rotate270)
            .color(color)
            .pos(Pos::new(h, VPos::Center))
    }
}

/// A box of the chart (in CSS pixels from the canvas's top left) and what the tooltip says
/// when the pointer is over it: the first line in bold.
#[derive(Debug, Clone, PartialEq)]
pub struct HitRegion {
    pub left: f64,
    pub top: f64,
    pub right: f64,
    pub bottom: f64,
    pub lines: Vec<String>,
}

impl HitRegion {
    fn contains(&self, x: f64, y: f64) -> bool {
        x >= self.left && x <= self.right && y >= self.top && y <= self.bottom
    }
}

/// What a draw function returns: the hover regions, or why it could not draw.
pub type DrawResult = Result<Vec<HitRegion>, DrawError>;

/// A dashed line across the plot at `value`, named by `label` ("Control 71.2", "Fleet
/// median").
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReferenceLine {
    pub value: f64,
    pub label: String,
}

/// Maps values in `min..max` onto pixels `start..end` (either may be the larger).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearScale {
    pub min: f64,
    pub max: f64,
    pub start: f64,
    pub end: f64,
}

impl LinearScale {
    /// The pixel of `value`; values outside the domain land outside `start..end`.
    pub fn at(&self, value: f64) -> f64 {
        let span = self.max - self.min;
        if span.abs() < f64::EPSILON {
            return (self.start + self.end) / 2.0;
        }
        self.start + (value - self.min) / span * (self.end - self.start)
    }

    /// The pixel of `value` clamped into the domain first.
    pub fn clamped(&self, value: f64) -> f64 {
        self.at(value.clamp(self.min.min(self.max), self.max.max(self.min)))
    }
}

/// A round step near `span / target`: 1, 2, 2.5 or 5 times a power of ten.
/// The lowest and the highest of the finite `values`; `None` without any. The value axes of
/// the bar and spread charts start from it.
pub fn value_range(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |range, v| match range {
            None => Some((v, v)),
            Some((low, high)) => Some((low.min(v), high.max(v))),
        })
}

pub fn nice_step(span: f64, target: usize) -> f64 {
    let raw = span.abs() / target.max(1) as f64;
    if !raw.is_finite() || raw <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|step| *step >= raw)
        .unwrap_or(10.0 * magnitude)
}

/// The axis domain for values spanning `low..high`: widened to round steps, and to include
/// zero when `from_zero` (bars grow from zero).
pub fn nice_domain(low: f64, high: f64, from_zero: bool) -> (f64, f64) {
    let (mut low, mut high) = if low.is_finite() && high.is_finite() && low <= high {
        (low, high)
    } else {
        (0.0, 1.0)
    };
    if from_zero {
        low = low.min(0.0);
        high = high.max(0.0);
    }
    if (high - low).abs() < f64::EPSILON {
        high = low + 1.0;
    }
    let step = nice_step(high - low, 5);
    ((low / step).floor() * step, (high / step).ceil() * step)
}

/// Round tick values inside `min..=max`, about `target` of them.
pub fn nice_ticks(min: f64, max: f64, target: usize) -> Vec<f64> {
    let step = nice_step(max - min, target);
    // A hair of slack, so -0.3 / 0.1 = -2.9999999999999996 still counts -0.3 in.
    let first = (min / step - 1e-9).ceil();
    let last = (max / step + 1e-9).floor();
    if !first.is_finite() || !last.is_finite() || last < first {
        return Vec::new();
    }
    // `k * step` rather than repeated addition, then rounded to a billionth, so ticks stay
    // round (-0.3, not -0.30000000000000004).
    (first as i64..=last as i64)
        .map(|k| ((k as f64 * step) * 1e9).round() / 1e9 + 0.0)
        .collect()
}

/// About how wide `text` is at `font_px` (the chart font's average advance is a little over
/// half its size). Layouts use it rather than measuring, which costs a reflow per label.
pub fn approx_text_width(text: &str, font_px: f64) -> f64 {
    text.chars().count() as f64 * font_px * 0.58
}

/// `text`, shortened with "…" to fit about `max_px` at `font_px`.
pub fn fit_label(text: &str, max_px: f64, font_px: f64) -> String {
    if approx_text_width(text, font_px) <= max_px {
        return text.to_owned();
    }
    let keep = ((max_px / (font_px * 0.58)).floor() as usize).saturating_sub(1);
    if keep == 0 {
        return String::new();
    }
    let mut short: String = text.chars().take(keep).collect();
    short.push('…');
    short
}

/// `a` moved towards `b` by `t` (0..1).
pub fn mix(a: RGBColor, b: RGBColor, t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let channel = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * t).round() as u8;
    RGBColor(channel(a.0, b.0), channel(a.1, b.1), channel(a.2, b.2))
}

/// WCAG relative luminance (0 black … 1 white).
pub fn luminance(color: RGBColor) -> f64 {
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * linear(color.0) + 0.7152 * linear(color.1) + 0.0722 * linear(color.2)
}

/// WCAG contrast ratio of two colours (1 … 21).
pub fn contrast(a: RGBColor, b: RGBColor) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// Whichever of `light` and `dark` reads better on `background`.
pub fn readable_on(background: RGBColor, first: RGBColor, second: RGBColor) -> RGBColor {
    if contrast(background, first) >= contrast(background, second) {
        first
    } else {
        second
    }
}

/// Draws a value axis along the bottom (`horizontal`) or the left of the plot: grid lines
/// across `cross` (the other axis's pixel span), tick labels and the axis title.
pub(crate) fn draw_value_axis<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    ctx: &DrawContext,
    scale: &LinearScale,
    cross: (f64, f64),
    horizontal: bool,
    title: &str,
    format_tick: &dyn Fn(f64) -> String,
) -> Result<(), DrawError> {
    let theme = ctx.theme;
    let px = |css: f64| ctx.px(css);
    let span = (scale.end - scale.start).abs();
    let ticks = nice_ticks(
        scale.min,
        scale.max,
        ((span / if horizontal { 80.0 } else { 44.0 }).floor() as usize).clamp(2, 10),
    );
    for tick in ticks {
        let at = scale.at(tick);
        let (from, to) = if horizontal {
            ((px(at), px(cross.0)), (px(at), px(cross.1)))
        } else {
            ((px(cross.0), px(at)), (px(cross.1), px(at)))
        };
        root.draw(&PathElement::new(vec![from, to], theme.grid))?;
        let label = format_tick(tick);
        if horizontal {
            let style = ctx.text(11.5, &theme.muted, HPos::Center, VPos::Top);
            root.draw(&Text::new(label, (px(at), px(cross.1 + 5.0)), style))?;
        } else {
            let style = ctx.text(11.5, &theme.muted, HPos::Right, VPos::Center);
            root.draw(&Text::new(label, (px(cross.0 - 6.0), px(at)), style))?;
        }
    }
    // The axis line itself, on the plot's bottom or left edge.
    let (from, to) = if horizontal {
        ((px(scale.start), px(cross.1)), (px(scale.end), px(cross.1)))
    } else {
        ((px(cross.0), px(scale.start)), (px(cross.0), px(scale.end)))
    };
    root.draw(&PathElement::new(vec![from, to], theme.muted))?;
    if horizontal {
        let style = ctx.text(12.5, &theme.text, HPos::Center, VPos::Top);
        let middle = (scale.start + scale.end) / 2.0;
        root.draw(&Text::new(
            title.to_owned(),
            (px(middle), px(cross.1 + 24.0)),
            style,
        ))?;
    } else {
        let style = ctx.vertical_text(12.5, &theme.text, HPos::Center);
        let middle = (scale.start + scale.end) / 2.0;
        root.draw(&Text::new(title.to_owned(), (px(12.0), px(middle)), style))?;
    }
    Ok(())
}

/// Draws a dashed reference line at `line.value` across `cross` with its label at the far
/// end; `horizontal` as in [`draw_value_axis`].
pub(crate) fn draw_reference<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    ctx: &DrawContext,
    scale: &LinearScale,
    cross: (f64, f64),
    horizontal: bool,
    line: &ReferenceLine,
) -> Result<(), DrawError> {
    if !line.value.is_finite() {
        return Ok(());
    }
    let at = scale.clamped(line.value);
    let style = ShapeStyle {
        color: ctx.theme.text.to_rgba(),
        filled: false,
        stroke_width: ctx.px(1.5).max(1) as u32,
    };
    let (from, to) = if horizontal {
        ((ctx.px(at), ctx.px(cross.0)), (ctx.px(at), ctx.px(cross.1)))
    } else {
        ((ctx.px(cross.0), ctx.px(at)), (ctx.px(cross.1), ctx.px(at)))
    };
    root.draw(&DashedPathElement::new(
        vec![from, to],
        ctx.px(5.0),
        ctx.px(4.0),
        style,
    ))?;
    if !line.label.is_empty() {
        let (text, pos) = if horizontal {
            (
                ctx.text(11.5, &ctx.theme.text, HPos::Left, VPos::Bottom),
                (ctx.px(at + 4.0), ctx.px(cross.0 - 2.0)),
            )
        } else {
            (
                ctx.text(11.5, &ctx.theme.text, HPos::Right, VPos::Bottom),
                (ctx.px(cross.1), ctx.px(at - 3.0)),
            )
        };
        root.draw(&Text::new(line.label.clone(), pos, text))?;
    }
    Ok(())
}

/// Draws "No data yet" in the middle of an empty chart.
pub(crate) fn draw_empty<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    ctx: &DrawContext,
) -> Result<(), DrawError> {
    let (w, h) = root.dim_in_pixel();
    let style = (CHART_FONT, 14.0 * ctx.scale)
        .into_font()
        .color(&ctx.theme.muted)
        .pos(Pos::new(HPos::Center, VPos::Center));
    root.draw(&Text::new(
        "No data yet",
        ((w / 2) as i32, (h / 2) as i32),
        style,
    ))?;
    Ok(())
}

/// The function a [`ChartFrame`] draws with; it reads its data from signals, so the frame
/// redraws when they change.
pub type DrawChart = Rc<dyn Fn(&CanvasArea, &DrawContext) -> DrawResult>;

/// A chart's data as a [`ChartFrame`] shows it: drawn on the canvas, told in a sentence for
/// screen readers, and laid out as the table view, values written by `format_value`.
pub trait FramedChart: Send + Sync + 'static {
    /// Draws onto `root` (already filled with the background); returns the hover regions.
    fn draw_on(
        &self,
        root: &CanvasArea,
        ctx: &DrawContext,
        format_value: &dyn Fn(f64) -> String,
    ) -> DrawResult;
    fn summary(&self, format_value: &dyn Fn(f64) -> String) -> String;
    /// The table view: the headings, the row-name column first, then the rows.
    fn table(&self, format_value: &dyn Fn(f64) -> String) -> (Vec<String>, Vec<Vec<String>>);
}

/// The [`ChartFrame`] inputs that follow from a chart's data, kept in step with it.
pub struct FrameInputs {
    pub draw: DrawChart,
    pub summary: Signal<String>,
    pub columns: Signal<Vec<String>>,
    pub rows: Signal<Vec<Vec<String>>>,
}

impl FrameInputs {
    pub fn of<D: FramedChart>(data: Signal<D>, format_value: Callback<f64, String>) -> Self {
        let draw: DrawChart = Rc::new(move |root: &CanvasArea, ctx: &DrawContext| {
            data.with(|d| d.draw_on(root, ctx, &|v| format_value.run(v)))
        });
        let summary = Signal::derive(move || data.with(|d| d.summary(&|v| format_value.run(v))));
        let table = Memo::new(move |_| data.with(|d| d.table(&|v| format_value.run(v))));
        FrameInputs {
            draw,
            summary,
            columns: Signal::derive(move || table.with(|t| t.0.clone())),
            rows: Signal::derive(move || table.with(|t| t.1.clone())),
        }
    }
}

/// A chart's canvas with its caption, hover tooltip, optional legend (`children`) and "Show
/// as table" view. Draws with `draw` when mounted, when what `draw` reads changes, and when
/// the canvas's box or the theme changes.
#[component]
pub fn ChartFrame(
    /// The caption and the start of the canvas's accessible name.
    #[prop(into)]
    title: String,
    /// A sentence or two for screen readers on what the chart shows.
    #[prop(into)]
    summary: Signal<String>,
    draw: DrawChart,
    /// The table view's column headings, the row-name column first.
    #[prop(into)]
    columns: Signal<Vec<String>>,
    /// The table view's rows: the row's name, then one cell per remaining column.
    #[prop(into)]
    rows: Signal<Vec<Vec<String>>>,
    /// The canvas's height in CSS pixels.
    #[prop(into)]
    height: Signal<f64>,
    /// A width below which the canvas scrolls sideways rather than shrinking (CSS pixels).
    #[prop(optional, into)]
    min_width: Signal<Option<f64>>,
    /// A `data-testid` for the `<figure>`.
    #[prop(optional, into)]
    test_id: String,
    /// A legend or notes under the canvas.
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    let canvas_ref = NodeRef::<html::Canvas>::new();
    let frame_ref = NodeRef::<html::Div>::new();
    let regions = StoredValue::new(Vec::<HitRegion>::new());
    let hovered = RwSignal::new(None::<HitRegion>);
    let drawn = RwSignal::new(false);
    let redraws = RwSignal::new(0u32);
    // Dropping the watchers (when the component's owner is cleaned up) disconnects them.
    let watchers = StoredValue::new_local(None::<RedrawWatchers>);
    frame_ref.on_load(move |frame| {
        watchers.set_value(Some(RedrawWatchers::start(&frame, move || {
            redraws.try_update(|n| *n = n.wrapping_add(1));
        })));
    });

    Effect::new(move |_| {
        redraws.track();
        height.track();
        let Some(canvas) = canvas_ref.get() else {
            return;
        };
        let outcome = paint(&canvas, &draw);
        let ok = outcome.is_some();
        regions.set_value(outcome.unwrap_or_default());
        hovered.set(None);
        if drawn.get_untracked() != ok {
            drawn.set(ok);
        }
    });

    let on_move = move |ev: leptos::ev::PointerEvent| {
        let (x, y) = (f64::from(ev.offset_x()), f64::from(ev.offset_y()));
        let hit = regions.with_value(|all| all.iter().find(|r| r.contains(x, y)).cloned());
        if hovered.get_untracked() != hit {
            hovered.set(hit);
        }
    };
    let on_leave = move |_| hovered.set(None);

    let accessible_name = {
        let title = title.clone();
        move || {
            format!(
                "{title}. {} The numbers are also in the table below.",
                summary.get()
            )
        }
    };

    let tooltip = move || {
        let region = hovered.get()?;
        let mut lines = region.lines.into_iter();
        let head = lines.next().unwrap_or_default();
        let center = (region.left + region.right) / 2.0;
        Some(view! {
            <div class="chart-hover-box" aria-hidden="true"
                style:left=format!("{:.1}px", region.left) style:top=format!("{:.1}px", region.top)
                style:width=format!("{:.1}px", region.right - region.left)
                style:height=format!("{:.1}px", region.bottom - region.top)></div>
            <div class="chart-tooltip" aria-hidden="true"
                style:left=format!("{center:.0}px") style:top=format!("{:.0}px", region.top)>
                <strong>{head}</strong>
                {lines.map(|line| view! { <span class="chart-tooltip-row">{line}</span> }).collect_view()}
            </div>
        })
    };

    view! {
        <figure class="chart" data-testid=test_id data-drawn=move || drawn.get().to_string()>
            <figcaption class="chart-title">{title.clone()}</figcaption>
            <div class="chart-scroll">
                <div class="chart-frame" node_ref=frame_ref
                    style:min-width=move || min_width.get().map(|w| format!("{w:.0}px"))>
                    <canvas node_ref=canvas_ref role="img" aria-label=accessible_name
                        style:height=move || format!("{:.0}px", height.get())
                        on:pointermove=on_move on:pointerdown=on_move on:pointerleave=on_leave>
                    </canvas>
                    {tooltip}
                </div>
            </div>
            {children.map(|c| c())}
            <details class="chart-table">
                <summary>"Show as table"</summary>
                <DataTable caption=title columns=columns rows=rows/>
            </details>
        </figure>
    }
}

/// Sizes the canvas, fills it with the theme's surface and runs `draw`; `None` while the
/// canvas has no box or when drawing failed.
fn paint(canvas: &web_sys::HtmlCanvasElement, draw: &DrawChart) -> Option<Vec<HitRegion>> {
    let size = prepare_canvas(canvas)?;
    let theme = ChartTheme::from_css();
    let root = CanvasBackend::with_canvas_object(canvas.clone())?.into_drawing_area();
    root.fill(&theme.surface).ok()?;
    let ctx = DrawContext {
        theme: &theme,
        scale: size.dpr,
    };
    let regions = draw(&root, &ctx).ok()?;
    root.present().ok()?;
    Some(regions)
}
