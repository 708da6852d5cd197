//! CSV export: RFC 4180 quoting, and no cell a spreadsheet would run as a formula.
#![cfg(target_arch = "wasm32")]

use converra_dashboard::components::export::{csv_cell, to_csv};
use wasm_bindgen_test::*;

#[wasm_bindgen_test]
fn plain_cells_pass_unchanged() {
    assert_eq!(csv_cell("conv_123"), "conv_123");
    assert_eq!(csv_cell(""), "");
    assert_eq!(csv_cell("42.5"), "42.5");
    assert_eq!(csv_cell("ünïcödé"), "ünïcödé");
}

#[wasm_bindgen_test]
fn commas_quotes_and_line_breaks_are_quoted() {
    assert_eq!(csv_cell("a,b"), "\"a,b\"");
    assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
    assert_eq!(csv_cell("two\nlines"), "\"two\nlines\"");
    assert_eq!(csv_cell("cr\rlf"), "\"cr\rlf\"");
}

#[wasm_bindgen_test]
fn formula_starts_are_neutralised() {
    assert_eq!(csv_cell("=1+1"), "'=1+1");
    assert_eq!(csv_cell("+1"), "'+1");
    assert_eq!(csv_cell("-2"), "'-2");
    assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
    assert_eq!(csv_cell("\tTAB"), "'\tTAB");
    // Guarded and quoted: the prefix goes inside the quotes.
    assert_eq!(
        csv_cell("=HYPERLINK(\"http://x\",\"y\")"),
        "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""
    );
    // Only the start counts.
    assert_eq!(csv_cell("a=b"), "a=b");
}

#[wasm_bindgen_test]
fn a_document_has_a_header_row_and_crlf_lines() {
    let csv = to_csv(
        &["id", "title"],
        &[
            vec!["conv_1".to_owned(), "Refund, please".to_owned()],
            vec!["conv_2".to_owned(), "=cmd|' /C calc'!A0".to_owned()],
        ],
    );
    assert_eq!(
        csv,
        "id,title\r\nconv_1,\"Refund, please\"\r\nconv_2,'=cmd|' /C calc'!A0\r\n"
    );
    assert_eq!(to_csv(&["only"], &[]), "only\r\n");
}
