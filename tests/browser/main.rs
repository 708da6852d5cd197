//! The dashboard's browser tests: one test binary, so the dashboard is linked once, run in
//! headless Chromium by wasm-bindgen-test. One module per component or page.

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod agents_query;
mod chart_bench;
mod charts;
mod confirm;
mod connect_agent;
mod conversation_insights;
mod diff;
mod export;
mod first_conversation;
mod format;
mod insights_pages;
mod keyboard;
mod markdown;
mod optimization_charts;
mod optimization_evidence;
mod query;
mod saved_views;
mod search_snippet;
mod settings_form;
mod sign_in;
mod support;
mod transcript;
mod webhook_deliveries;
