//! Saved views: named query strings in localStorage.
#![cfg(target_arch = "wasm32")]

use converra_dashboard::components::saved_views::{
    load_views, store_views, with_view, without_view, SavedView,
};
use wasm_bindgen_test::*;

#[wasm_bindgen_test]
fn views_are_replaced_by_name_sorted_and_kept() {
    let views = with_view(Vec::new(), "Worst", "?sort=worst");
    let views = with_view(views, "abandoned", "?status=abandoned");
    let views = with_view(views, " Worst ", "?sort=worst&status=active");
    assert_eq!(
        views,
        vec![
            SavedView {
                name: "abandoned".to_owned(),
                query: "?status=abandoned".to_owned()
            },
            SavedView {
                name: "Worst".to_owned(),
                query: "?sort=worst&status=active".to_owned()
            },
        ]
    );
    let key = "converra.savedViews.test";
    store_views(key, &views).unwrap();
    assert_eq!(load_views(key), views);
    assert_eq!(without_view(views, "Worst").len(), 1);
}

#[wasm_bindgen_test]
fn unreadable_storage_means_no_views() {
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    storage
        .set_item("converra.savedViews.broken", "{not json")
        .unwrap();
    assert!(load_views("converra.savedViews.broken").is_empty());
    assert!(load_views("converra.savedViews.missing").is_empty());
}
