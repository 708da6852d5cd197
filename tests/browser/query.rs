//! The conversations view ⇄ its URL query ⇄ the API's query string.
#![cfg(target_arch = "wasm32")]

use converra_api::conversations::{ConversationSort, ConversationSource, ConversationStatus};
use converra_dashboard::query::{
    build_query, decode_component, encode_component, next_day, parse_query, typed_quality,
    ConversationQuery,
};
use wasm_bindgen_test::*;

fn every_filter() -> ConversationQuery {
    ConversationQuery {
        agent_id: Some("agent_42".to_owned()),
        status: Some(ConversationStatus::Completed),
        source: Some(ConversationSource::Otel),
        from: Some("2024-02-01".to_owned()),
        to: Some("2024-02-29".to_owned()),
        min_quality: Some(40.0),
        max_quality: Some(87.5),
        has_issues: Some(true),
        has_failed_steps: Some(false),
        q: Some("refund & \"late\" 100%+ é/ü #1?".to_owned()),
        sort: ConversationSort::WorstFirst,
        cursor: None,
        offset: Some(100),
        session_id: Some("session 7".to_owned()),
        earlier_cursors: vec![],
    }
}

#[wasm_bindgen_test]
fn every_filter_survives_the_url_round_trip() {
    let query = every_filter();
    let url = query.to_url_query();
    assert!(url.starts_with('?'), "{url}");
    assert_eq!(ConversationQuery::from_search(&url), query);
    // Without the leading `?` too (leptos_router's `search` has none).
    assert_eq!(ConversationQuery::from_search(&url[1..]), query);
}

#[wasm_bindgen_test]
fn the_default_view_has_an_empty_query() {
    assert_eq!(ConversationQuery::default().to_url_query(), "");
    assert_eq!(
        ConversationQuery::from_search(""),
        ConversationQuery::default()
    );
    assert_eq!(
        ConversationQuery::from_search("?"),
        ConversationQuery::default()
    );
}

#[wasm_bindgen_test]
fn url_keys_are_the_apis_and_in_a_fixed_order() {
    let query = ConversationQuery {
        agent_id: Some("agent_1".to_owned()),
        status: Some(ConversationStatus::InProgress),
        source: Some(ConversationSource::Sdk),
        has_failed_steps: Some(true),
        q: Some("late delivery".to_owned()),
        cursor: Some("abc=".to_owned()),
        ..Default::default()
    };
    assert_eq!(
        query.to_url_query(),
        "?agentId=agent_1&status=in_progress&source=sdk&hasFailedSteps=true&q=late%20delivery&cursor=abc%3D"
    );
}

#[wasm_bindgen_test]
fn odd_characters_are_encoded_and_decoded_back() {
    for text in [
        "a b",
        "a+b",
        "100%",
        "%zz",
        "&=?#/",
        "ünïcödé ✓",
        "emoji 🙂",
        "quote \" and ' apostrophe",
        "<script>",
        "line\nbreak",
    ] {
        let encoded = encode_component(text);
        assert!(
            encoded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.~%".contains(&b)),
            "{encoded}"
        );
        assert_eq!(decode_component(&encoded), text);
        let query = ConversationQuery {
            q: Some(text.to_owned()),
            ..Default::default()
        };
        assert_eq!(
            ConversationQuery::from_search(&query.to_url_query()),
            query,
            "{text}"
        );
    }
}

#[wasm_bindgen_test]
fn decoding_accepts_what_browsers_and_people_write() {
    assert_eq!(decode_component("a+b%20c"), "a b c");
    assert_eq!(decode_component("100%"), "100%");
    assert_eq!(decode_component("%e2%9c%93"), "✓");
    assert_eq!(decode_component("%FF"), "\u{FFFD}");
    assert_eq!(
        parse_query("?a=1&&b&c=x=y"),
        vec![
            ("a".to_owned(), "1".to_owned()),
            ("b".to_owned(), String::new()),
            ("c".to_owned(), "x=y".to_owned()),
        ]
    );
    assert_eq!(build_query(Vec::<(&str, &str)>::new()), "");
    assert_eq!(build_query([("a b", "c&d")]), "?a%20b=c%26d");
}

#[wasm_bindgen_test]
fn malformed_values_are_ignored_not_fatal() {
    let query = ConversationQuery::from_search(
        "?status=bogus&from=2024-13-01&to=yesterday&minQuality=abc&maxQuality=NaN&hasIssues=maybe&sort=sideways&offset=-3&agentId=%20%20",
    );
    assert_eq!(query, ConversationQuery::default());
}

#[wasm_bindgen_test]
fn the_later_value_of_a_repeated_key_wins() {
    let query = ConversationQuery::from_search("?status=active&status=abandoned");
    assert_eq!(query.status, Some(ConversationStatus::Abandoned));
}

#[wasm_bindgen_test]
fn the_api_query_turns_days_into_utc_timestamps_with_an_inclusive_end() {
    let api = ConversationQuery::from_search("?from=2024-02-01&to=2024-02-29&q=%20late%20")
        .to_api_query(50);
    assert_eq!(
        api,
        "?from=2024-02-01T00%3A00%3A00Z&to=2024-03-01T00%3A00%3A00Z&q=late&limit=50"
    );
    let exact = ConversationQuery::from_search("?from=2024-02-01T10:30:00Z").to_api_query(20);
    assert_eq!(exact, "?from=2024-02-01T10%3A30%3A00Z&limit=20");
}

#[wasm_bindgen_test]
fn the_api_query_carries_every_filter_and_the_sort() {
    let api = every_filter().to_api_query(50);
    let pairs = parse_query(&api);
    let get = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("agentId"), Some("agent_42"));
    assert_eq!(get("status"), Some("completed"));
    assert_eq!(get("minQuality"), Some("40"));
    assert_eq!(get("maxQuality"), Some("87.5"));
    assert_eq!(get("hasIssues"), Some("true"));
    assert_eq!(get("hasFailedSteps"), Some("false"));
    assert_eq!(get("q"), Some("refund & \"late\" 100%+ é/ü #1?"));
    assert_eq!(get("sort"), Some("qualityScore"));
    assert_eq!(get("limit"), Some("50"));
    assert_eq!(get("offset"), Some("100"));
    assert_eq!(get("cursor"), None);
}

#[wasm_bindgen_test]
fn time_orders_page_by_cursor_and_quality_orders_by_offset() {
    let newest = ConversationQuery::from_search("?cursor=c1");
    assert_eq!(newest.to_api_query(50), "?limit=50&cursor=c1");
    let best = ConversationQuery::from_search("?sort=best&cursor=c1&offset=50");
    assert_eq!(
        best.to_api_query(50),
        "?sort=-qualityScore&limit=50&offset=50"
    );
    // The API's own sort names are understood in a URL too.
    assert_eq!(
        ConversationQuery::from_search("?sort=-qualityScore").sort,
        ConversationSort::BestFirst
    );
}

#[wasm_bindgen_test]
fn a_changed_filter_starts_from_the_first_page() {
    let query = ConversationQuery::from_search("?status=active&cursor=abc&offset=50");
    assert!(query.is_later_page());
    let first = query.first_page();
    assert!(!first.is_later_page());
    assert_eq!(first.to_url_query(), "?status=active");
    assert!(first.is_filtered());
    assert!(!ConversationQuery::from_search("?sort=oldest").is_filtered());
}

#[wasm_bindgen_test]
fn next_day_knows_the_calendar() {
    assert_eq!(next_day("2024-02-28").as_deref(), Some("2024-02-29"));
    assert_eq!(next_day("2023-02-28").as_deref(), Some("2023-03-01"));
    assert_eq!(next_day("2024-12-31").as_deref(), Some("2025-01-01"));
    assert_eq!(next_day("2100-02-28").as_deref(), Some("2100-03-01"));
    assert_eq!(next_day("2024-04-31"), None);
}

#[wasm_bindgen_test]
fn a_quality_box_takes_only_a_number_from_0_to_100() {
    assert_eq!(typed_quality(""), Ok(None));
    assert_eq!(typed_quality(" 72.5 "), Ok(Some(72.5)));
    assert_eq!(typed_quality("0"), Ok(Some(0.0)));
    assert_eq!(typed_quality("100"), Ok(Some(100.0)));
    assert_eq!(typed_quality("500"), Err("Quality runs from 0 to 100."));
    assert_eq!(typed_quality("-1"), Err("Quality runs from 0 to 100."));
    assert_eq!(typed_quality("high"), Err("Enter a number from 0 to 100."));
}

#[wasm_bindgen_test]
fn a_view_that_cannot_match_says_why_by_filter() {
    let fields = |query: &ConversationQuery| -> Vec<String> {
        query.impossible().into_iter().map(|e| e.field).collect()
    };
    assert!(ConversationQuery::default().impossible().is_empty());
    let possible = ConversationQuery {
        min_quality: Some(60.0),
        max_quality: Some(60.0),
        from: Some("2026-05-01".to_owned()),
        to: Some("2026-05-01T23:00:00Z".to_owned()),
        ..ConversationQuery::default()
    };
    assert!(possible.impossible().is_empty());
    let inverted = ConversationQuery {
        min_quality: Some(80.0),
        max_quality: Some(20.0),
        from: Some("2026-05-02".to_owned()),
        to: Some("2026-05-01".to_owned()),
        ..ConversationQuery::default()
    };
    assert_eq!(fields(&inverted), ["maxQuality", "to"]);
    // A deep link may carry what the form refuses.
    let linked = ConversationQuery::from_search("?minQuality=500");
    assert_eq!(linked.min_quality, Some(500.0));
    assert_eq!(fields(&linked), ["minQuality"]);
}

#[wasm_bindgen_test]
fn a_session_is_a_filter_sent_to_the_api() {
    let query = ConversationQuery::from_search("?sessionId=checkout-42");
    assert_eq!(query.session_id.as_deref(), Some("checkout-42"));
    assert!(query.is_filtered());
    assert!(query.to_api_query(50).contains("sessionId=checkout-42"));
}

#[wasm_bindgen_test]
fn previous_page_retraces_the_cursors_taken_forward() {
    let first = ConversationQuery {
        agent_id: Some("agent_1".to_owned()),
        ..Default::default()
    };
    assert_eq!(
        first.previous_page(50),
        None,
        "the first page has none before it"
    );
    let second = first.next_page(Some("c2"), 50);
    let third = second.next_page(Some("c3"), 50);
    assert_eq!(third.cursor.as_deref(), Some("c3"));
    // The trail lives in the URL, so a reload or Back keeps it, from the second page on.
    assert_eq!(
        ConversationQuery::from_search(&second.to_url_query()),
        second
    );
    let reloaded = ConversationQuery::from_search(&third.to_url_query());
    assert_eq!(reloaded, third);
    let back = reloaded.previous_page(50).unwrap();
    assert_eq!(back, second);
    assert_eq!(back.previous_page(50).unwrap(), first);
    // A later page opened from a link alone cannot name the one before it.
    let linked = ConversationQuery {
        cursor: Some("c9".to_owned()),
        ..Default::default()
    };
    assert_eq!(linked.previous_page(50), None);
    assert_eq!(linked.first_page().earlier_cursors, Vec::<String>::new());
}

#[wasm_bindgen_test]
fn previous_page_steps_back_by_offset_in_a_quality_order() {
    let worst = ConversationQuery {
        sort: ConversationSort::WorstFirst,
        ..Default::default()
    };
    let second = worst.next_page(Some("ignored"), 50);
    assert_eq!((second.cursor.clone(), second.offset), (None, Some(50)));
    let third = second.next_page(None, 50);
    assert_eq!(third.offset, Some(100));
    assert_eq!(third.previous_page(50).unwrap(), second);
    assert_eq!(second.previous_page(50).unwrap(), worst);
}
