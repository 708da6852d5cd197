//! A chart's numbers as a table: what screen readers read, and what people copy.

use leptos::prelude::*;

/// A table whose first column names each row (`<th scope="row">`) and whose other columns
/// hold numbers, right-aligned. A table wider than its box scrolls sideways inside a
/// focusable region, so the keyboard can scroll it too.
#[component]
pub fn DataTable(
    /// What the table shows ("Requests per day").
    #[prop(into)]
    caption: String,
    /// Column headings, the row-name column first.
    #[prop(into)]
    columns: Signal<Vec<String>>,
    /// One entry per row: the row's name, then one cell per remaining column.
    #[prop(into)]
    rows: Signal<Vec<Vec<String>>>,
) -> impl IntoView {
    let region_name = format!("{caption}, as a table");
    view! {
        <div class="table-scroll" tabindex="0" role="region" aria-label=region_name>
            <table class="data-table">
                <caption>{caption}</caption>
                <thead>
                    <tr>
                        {move || columns.get().into_iter().map(|c| view! { <th scope="col">{c}</th> }).collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {move || rows.get().into_iter().map(|row| {
                        let mut cells = row.into_iter();
                        let name = cells.next().unwrap_or_default();
                        view! {
                            <tr>
                                <th scope="row">{name}</th>
                                {cells.map(|cell| view! { <td class="num">{cell}</td> }).collect_view()}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
