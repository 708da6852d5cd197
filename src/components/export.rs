//! Exporting a list to CSV or JSON: RFC 4180 CSV that a spreadsheet cannot mistake for a
//! formula, a browser download through a Blob URL, and the buttons (with a confirmation
//! before exporting every page).

use std::time::Duration;

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::js_sys;

/// One CSV field: a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a
/// leading `'` so spreadsheets show it as text instead of running it as a formula; a cell
/// holding a comma, a quote or a line break is quoted, its quotes doubled (RFC 4180).
pub fn csv_cell(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if guarded.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// A CSV document: the header row, then each row, every line ended by CRLF (RFC 4180).
pub fn to_csv<H: AsRef<str>>(headers: &[H], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let joined = cells.map(csv_cell).collect::<Vec<_>>().join(",");
        out.push_str(&joined);
        out.push_str("\r\n");
    };
    line(&mut headers.iter().map(AsRef::as_ref));
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

#[wasm_bindgen]
extern "C" {
    // `new Blob(parts, { type })`: web-sys's typed constructor sits behind a feature this
    // crate does not turn on, and this is the only call that needs it.
    #[wasm_bindgen(js_name = Blob)]
    type TypedBlob;
    #[wasm_bindgen(constructor, js_class = "Blob", catch)]
    fn new(parts: &js_sys::Array, options: &js_sys::Object) -> Result<TypedBlob, JsValue>;
    #[wasm_bindgen(js_namespace = URL, js_name = createObjectURL, catch)]
    fn create_object_url(blob: &TypedBlob) -> Result<String, JsValue>;
    #[wasm_bindgen(js_namespace = URL, js_name = revokeObjectURL)]
    fn revoke_object_url(url: &str);
}

fn js_text(err: JsValue) -> String {
    err.as_string()
        .or_else(|| {
            js_sys::Reflect::get(&err, &JsValue::from_str("message"))
                .ok()
                .and_then(|m| m.as_string())
        })
        .unwrap_or_else(|| "the browser refused".to_owned())
}

/// Offers `text` as a file download named `filename`.
pub fn download_text(filename: &str, mime: &str, text: &str) -> Result<(), String> {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = js_sys::Object::new();
    js_sys::Reflect::set(
        &options,
        &JsValue::from_str("type"),
        &JsValue::from_str(mime),
    )
    .map_err(js_text)?;
    let blob = TypedBlob::new(&parts, &options).map_err(js_text)?;
    let url = create_object_url(&blob).map_err(js_text)?;
    let document = document();
    let link = document.create_element("a").map_err(js_text)?;
    link.set_attribute("href", &url).map_err(js_text)?;
    link.set_attribute("download", filename).map_err(js_text)?;
    link.set_attribute("hidden", "").map_err(js_text)?;
    let body = document.body().ok_or("the page has no body")?;
    body.append_child(&link).map_err(js_text)?;
    link.unchecked_ref::<web_sys::HtmlElement>().click();
    link.remove();
    // The download has started by now; the URL only needs to outlive the click.
    set_timeout(move || revoke_object_url(&url), Duration::from_secs(30));
    Ok(())
}

/// `stem-YYYY-MM-DD.ext`, dated today (UTC).
pub fn dated_filename(stem: &str, extension: &str) -> String {
    let today = String::from(js_sys::Date::new_0().to_iso_string());
    format!("{stem}-{}.{extension}", today.get(..10).unwrap_or("export"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Json => "json",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv;charset=utf-8",
            ExportFormat::Json => "application/json",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportScope {
    /// The rows on screen.
    Page,
    /// Every page of the list, up to the row cap.
    All,
}

/// What the user asked to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportRequest {
    pub format: ExportFormat,
    pub scope: ExportScope,
}

/// The export buttons of a list: this page as CSV or JSON, or (after a confirmation that
/// says how many rows and requests it takes) every page up to `max_rows`.
#[component]
pub fn ExportControls(
    /// Runs an export; the page fetches the rows and calls [`download_text`].
    on_export: Callback<ExportRequest>,
    /// The list's total row count, for the confirmation.
    #[prop(into)]
    total: Signal<Option<u64>>,
    /// How many rows one request of "all pages" brings.
    #[prop(default = 100)]
    page_size: u64,
    /// The most rows "all pages" exports.
    #[prop(default = 10_000)]
    max_rows: u64,
    /// What is being exported right now ("Exported 300 of 1,234 rows…"); `None` when idle.
    #[prop(into)]
    progress: Signal<Option<String>>,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let busy = Signal::derive(move || progress.get().is_some());
    let run = move |format: ExportFormat, scope: ExportScope| {
        confirming.set(false);
        on_export.run(ExportRequest { format, scope });
    };
    let confirm_text = move || {
        let rows = total.get().unwrap_or(0).min(max_rows);
        let requests = rows.div_ceil(page_size).max(1);
        let capped = if total.get().unwrap_or(0) > max_rows {
            format!(" (the first {max_rows}; narrow the filters for the rest)")
        } else {
            String::new()
        };
        format!(
            "Export {rows} rows{capped}? This makes {requests} request{} to the API.",
            if requests == 1 { "" } else { "s" }
        )
    };
    view! {
        <div class="export-controls" role="group" aria-label="Export">
            <span class="export-label">"Export"</span>
            <button type="button" class="secondary" disabled=busy
                on:click=move |_| run(ExportFormat::Csv, ExportScope::Page)>"CSV"</button>
            <button type="button" class="secondary" disabled=busy
                on:click=move |_| run(ExportFormat::Json, ExportScope::Page)>"JSON"</button>
            <button type="button" class="secondary" disabled=busy aria-expanded=move || confirming.get().to_string()
                on:click=move |_| confirming.update(|c| *c = !*c)>"All pages…"</button>
            <span class="export-progress" role="status" aria-live="polite">{move || progress.get()}</span>
        </div>
        <Show when=move || confirming.get()>
            <div class="export-confirm" role="group" aria-label="Export all pages">
                <p>{confirm_text}</p>
                <button type="button" on:click=move |_| run(ExportFormat::Csv, ExportScope::All)>"Export all as CSV"</button>
                <button type="button" on:click=move |_| run(ExportFormat::Json, ExportScope::All)>"Export all as JSON"</button>
                <button type="button" class="secondary" on:click=move |_| confirming.set(false)>"Cancel"</button>
            </div>
        </Show>
    }
}
