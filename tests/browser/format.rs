//! How numbers, dates, durations and keys read on screen.
#![cfg(target_arch = "wasm32")]

use converra_dashboard::components::page_title::full_title;
use converra_dashboard::format::*;
use wasm_bindgen_test::*;

#[wasm_bindgen_test]
fn thousands_groups_digits_by_three() {
    assert_eq!(thousands(0), "0");
    assert_eq!(thousands(999), "999");
    assert_eq!(thousands(1_000), "1,000");
    assert_eq!(thousands(1_234_567), "1,234,567");
    assert_eq!(thousands(u64::MAX), "18,446,744,073,709,551,615");
}

#[wasm_bindgen_test]
fn numbers_keep_at_most_two_decimals() {
    assert_eq!(number(1234.0), "1,234");
    assert_eq!(number(12.5), "12.5");
    assert_eq!(number(0.834), "0.83");
    assert_eq!(number(0.05), "0.05");
    assert_eq!(number(1.999), "2");
    assert_eq!(number(-1500.25), "-1,500.25");
    assert_eq!(number(f64::NAN), "–");
}

#[wasm_bindgen_test]
fn compact_labels_use_k_m_and_b() {
    assert_eq!(compact(0.0), "0");
    assert_eq!(compact(950.0), "950");
    assert_eq!(compact(1_000.0), "1k");
    assert_eq!(compact(1_260.0), "1.3k");
    assert_eq!(compact(1_240.0), "1.2k");
    assert_eq!(compact(2_500_000.0), "2.5M");
    assert_eq!(compact(3e9), "3B");
    assert_eq!(compact(0.5), "0.5");
}

#[wasm_bindgen_test]
fn dates_read_day_month_year_in_utc() {
    assert_eq!(date("2026-11-28T14:05:09.120Z"), "28 Nov 2026");
    assert_eq!(date("2026-01-03"), "3 Jan 2026");
    assert_eq!(short_date("2026-11-03"), "3 Nov");
    assert_eq!(
        date_time("2026-11-28T14:05:09.120Z"),
        "28 Nov 2026, 14:05 UTC"
    );
    // Not a date: shown as given rather than hidden.
    assert_eq!(date("yesterday"), "yesterday");
    assert_eq!(date_time("2026-11-28"), "28 Nov 2026");
}

#[wasm_bindgen_test]
fn a_period_ending_at_midnight_ends_on_the_day_before() {
    assert_eq!(last_day_before("2026-12-01T00:00:00.000Z"), "30 Nov 2026");
    assert_eq!(last_day_before("2028-03-01T00:00:00Z"), "29 Feb 2028");
    assert_eq!(last_day_before("2027-01-01T00:00:00Z"), "31 Dec 2026");
}

#[wasm_bindgen_test]
fn epoch_ms_agrees_with_the_browser() {
    for text in [
        "2026-11-28T14:05:09.120Z",
        "1970-01-01T00:00:00Z",
        "2000-02-29T23:59:59.999Z",
        "2026-06-01T10:00:00+02:00",
    ] {
        let browser = web_sys::js_sys::Date::parse(text);
        assert_eq!(epoch_ms(text), Some(browser), "{text}");
    }
    assert_eq!(epoch_ms("nonsense"), None);
    assert_eq!(date_of_epoch_ms(0.0), "1 Jan 1970");
}

#[wasm_bindgen_test]
fn relative_time_counts_back_and_forward() {
    let now = epoch_ms("2026-11-28T12:00:00Z").unwrap();
    assert_eq!(relative_time("2026-11-28T11:59:58Z", now), "just now");
    assert_eq!(relative_time("2026-11-28T11:59:15Z", now), "45 s ago");
    assert_eq!(relative_time("2026-11-28T11:55:00Z", now), "5 min ago");
    assert_eq!(relative_time("2026-11-28T09:00:00Z", now), "3 h ago");
    assert_eq!(relative_time("2026-11-27T10:00:00Z", now), "1 day ago");
    assert_eq!(relative_time("2026-11-25T12:00:00Z", now), "3 days ago");
    assert_eq!(relative_time("2026-11-28T12:00:40Z", now), "in 40 s");
    assert_eq!(relative_time("2026-09-01T12:00:00Z", now), "1 Sep 2026");
}

#[wasm_bindgen_test]
fn durations_pick_a_readable_unit() {
    assert_eq!(duration_ms(0), "0 ms");
    assert_eq!(duration_ms(340), "340 ms");
    assert_eq!(duration_ms(1_000), "1 s");
    assert_eq!(duration_ms(1_240), "1.2 s");
    assert_eq!(duration_ms(10_000), "10 s");
    assert_eq!(duration_ms(125_000), "2 min 5 s");
    assert_eq!(duration_ms(120_000), "2 min");
}

#[wasm_bindgen_test]
fn keys_show_only_their_kind_and_last_four() {
    assert_eq!(masked_key("sk_live_abcdefgh1234"), "sk_live_…1234");
    assert_eq!(masked_key("sk_test_zzzzwxyz"), "sk_test_…wxyz");
    assert_eq!(masked_key("sk_live_abc"), "sk_live_…");
    assert_eq!(masked_key("whatever-else-9876"), "…9876");
    assert!(!masked_key("sk_live_secretpart1234").contains("secret"));
}

#[wasm_bindgen_test]
fn a_tab_title_names_the_page_then_the_product() {
    assert_eq!(full_title("Agents"), "Agents · Converra");
    assert_eq!(full_title(" Acme Support "), "Acme Support · Converra");
    assert_eq!(full_title("  "), "Converra");
}
