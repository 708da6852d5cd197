//! Charts drawn with plotters on a `<canvas>`: the theme's colours read from the CSS custom
//! properties, a canvas sized for the screen's pixel density, and the watchers that redraw
//! a chart when its box or the theme changes. [`TimeSeriesChart`] is the chart itself;
//! [`DataTable`] shows the same numbers as a table for screen readers and copying.

pub mod bar_chart;
pub mod data_table;
pub mod frame;
pub mod heat_map;
pub mod score_spread;
pub mod time_series;

pub use bar_chart::{Bar, BarChart, BarChartData, BarColoring, BarOrientation};
pub use data_table::DataTable;
pub use frame::{
    CanvasArea, ChartFrame, DrawContext, DrawError, FramedChart, HitRegion, ReferenceLine,
};
pub use heat_map::{HeatMapChart, HeatMapData, HeatScale};
pub use score_spread::{ScoreSpreadChart, SpreadData, SpreadPoint, SpreadRow};
pub use time_series::{ChartKind, Series, TimeSeries, TimeSeriesChart};

use plotters::style::RGBColor;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

/// The font charts write with; the page's own stack, so labels match the text around them.
pub const CHART_FONT: &str = "system-ui, sans-serif";

/// The colours of the current theme, as the CSS custom properties define them.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartTheme {
    /// `--surface`: the chart's background.
    pub surface: RGBColor,
    /// `--text`: axis titles.
    pub text: RGBColor,
    /// `--muted`: tick labels and axis lines.
    pub muted: RGBColor,
    /// `--border`: grid lines.
    pub grid: RGBColor,
    /// `--chart-1` … `--chart-4`: one per series, in order (repeating after the fourth).
    pub series: Vec<RGBColor>,
}

impl ChartTheme {
    /// Reads the theme from `<html>`'s computed style; a colour the CSS leaves out (or
    /// spells in a form other than `#rgb`, `#rrggbb` or `rgb()`) falls back to the light theme's.
    pub fn from_css() -> ChartTheme {
        let style = web_sys::window().and_then(|w| {
            let root = w.document()?.document_element()?;
            w.get_computed_style(&root).ok().flatten()
        });
        let read = |name: &str, fallback: RGBColor| {
            style
                .as_ref()
                .and_then(|s| s.get_property_value(name).ok())
                .and_then(|value| parse_css_color(&value))
                .unwrap_or(fallback)
        };
        ChartTheme {
            surface: read("--surface", RGBColor(255, 255, 255)),
            text: read("--text", RGBColor(28, 29, 41)),
            muted: read("--muted", RGBColor(91, 94, 114)),
            grid: read("--border", RGBColor(217, 219, 230)),
            series: vec![
                read("--chart-1", RGBColor(67, 56, 202)),
                read("--chart-2", RGBColor(13, 148, 136)),
                read("--chart-3", RGBColor(217, 119, 6)),
                read("--chart-4", RGBColor(190, 24, 93)),
            ],
        }
    }

    /// The colour of series number `index`.
    pub fn series_color(&self, index: usize) -> RGBColor {
        self.series
            .get(index % self.series.len().max(1))
            .copied()
            .unwrap_or(self.text)
    }
}

/// `#rgb`, `#rrggbb` or `rgb(r, g, b)` / `rgba(r g b / a)` (alpha ignored).
pub fn parse_css_color(text: &str) -> Option<RGBColor> {
    let text = text.trim();
    if let Some(hex) = text.strip_prefix('#') {
        let channel = |s: &str| u8::from_str_radix(s, 16).ok();
        return match hex.len() {
            3 => {
                let mut c = hex.chars().map(|c| channel(&format!("{c}{c}")));
                Some(RGBColor(c.next()??, c.next()??, c.next()??))
            }
            6 => Some(RGBColor(
                channel(&hex[0..2])?,
                channel(&hex[2..4])?,
                channel(&hex[4..6])?,
            )),
            _ => None,
        };
    }
    let inner = text
        .strip_prefix("rgba(")
        .or_else(|| text.strip_prefix("rgb("))?
        .strip_suffix(')')?;
    let mut parts = inner
        .split(|c: char| c == ',' || c == '/' || c.is_whitespace())
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse::<f64>()
                .ok()
                .map(|v| v.clamp(0.0, 255.0).round() as u8)
        });
    Some(RGBColor(parts.next()??, parts.next()??, parts.next()??))
}

/// A canvas's size in CSS pixels and the device pixels per CSS pixel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CanvasSize {
    pub width: f64,
    pub height: f64,
    pub dpr: f64,
}

impl CanvasSize {
    /// CSS pixels to the canvas's device pixels, for plotters (which draws in the latter).
    pub fn px(&self, css: f64) -> i32 {
        (css * self.dpr).round() as i32
    }

    pub fn px_u32(&self, css: f64) -> u32 {
        self.px(css).max(0) as u32
    }
}

/// Gives the canvas a backing store of its CSS box times `devicePixelRatio`, so lines and
/// text stay sharp on dense screens. `None` while the canvas has no box (not laid out).
pub fn prepare_canvas(canvas: &web_sys::HtmlCanvasElement) -> Option<CanvasSize> {
    let dpr = web_sys::window()
        .map(|w| w.device_pixel_ratio())
        .filter(|r| r.is_finite() && *r > 0.0)
        .unwrap_or(1.0);
    let width = f64::from(canvas.client_width());
    let height = f64::from(canvas.client_height());
    if width <= 0.0 || height <= 0.0 {
        return None;
    }
    let size = CanvasSize { width, height, dpr };
    let (w, h) = (size.px_u32(width), size.px_u32(height));
    // Assigning the size clears the canvas even when unchanged; plotters fills it anyway.
    if canvas.width() != w {
        canvas.set_width(w);
    }
    if canvas.height() != h {
        canvas.set_height(h);
    }
    Some(size)
}

/// What makes a chart redraw: its box resizing, the theme attribute on `<html>` changing,
/// and the system's light/dark preference changing. Dropping it stops all three.
pub struct RedrawWatchers {
    resize: Option<web_sys::ResizeObserver>,
    theme: Option<web_sys::MutationObserver>,
    scheme: Option<web_sys::MediaQueryList>,
    // Kept alive as long as the observers may call them.
    on_resize: Closure<dyn FnMut()>,
    on_scheme: Closure<dyn FnMut()>,
}

impl RedrawWatchers {
    /// Calls `redraw` whenever `element`'s box or the theme changes (and once when the
    /// element is first laid out: a ResizeObserver reports the initial size).
    pub fn start(element: &web_sys::Element, redraw: impl Fn() + 'static) -> RedrawWatchers {
        let redraw = std::rc::Rc::new(redraw);
        let on_resize: Closure<dyn FnMut()> = {
            let redraw = redraw.clone();
            Closure::new(move || redraw())
        };
        let on_scheme: Closure<dyn FnMut()> = Closure::new(move || redraw());
        let callback = on_resize
            .as_ref()
            .unchecked_ref::<web_sys::js_sys::Function>();

        let resize = web_sys::ResizeObserver::new(callback).ok();
        if let Some(observer) = &resize {
            observer.observe(element);
        }

        let root = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element());
        let theme = web_sys::MutationObserver::new(callback).ok();
        if let (Some(observer), Some(root)) = (&theme, &root) {
            let options = web_sys::MutationObserverInit::new();
            options.set_attributes(true);
            let filter = web_sys::js_sys::Array::of1(&"data-theme".into());
            options.set_attribute_filter(&filter);
            let _ = observer.observe_with_options(root, &options);
        }

        let scheme = web_sys::window()
            .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten());
        if let Some(list) = &scheme {
            let _ =
                list.add_event_listener_with_callback("change", on_scheme.as_ref().unchecked_ref());
        }

        RedrawWatchers {
            resize,
            theme,
            scheme,
            on_resize,
            on_scheme,
        }
    }
}

impl Drop for RedrawWatchers {
    fn drop(&mut self) {
        if let Some(observer) = &self.resize {
            observer.disconnect();
        }
        if let Some(observer) = &self.theme {
            observer.disconnect();
        }
        if let Some(list) = &self.scheme {
            let _ = list.remove_event_listener_with_callback(
                "change",
                self.on_scheme.as_ref().unchecked_ref(),
            );
        }
        // Nothing calls `on_resize` once both observers are disconnected.
        let _ = &self.on_resize;
    }
}
