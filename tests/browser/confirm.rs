//! The confirmation dialog: it opens modal with Cancel focused, Escape cancels, the
//! confirm button confirms, and focus goes back where it was; a confirmed action closes it
//! when it settles and keeps only a failure.
#![cfg(target_arch = "wasm32")]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use converra_api::ErrorCode;
use converra_dashboard::api::ClientError;
use converra_dashboard::components::confirm::{close_when_settled, ConfirmDialog};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

struct Mounted {
    host: web_sys::HtmlElement,
    opener: web_sys::HtmlElement,
    open: RwSignal<bool>,
    confirmed: Arc<AtomicU32>,
    cancelled: Arc<AtomicU32>,
}

/// A "Delete" button and a closed confirmation dialog, each test its own.
fn mount_dialog() -> Mounted {
    let document = document();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    let opener: web_sys::HtmlElement = document.create_element("button").unwrap().unchecked_into();
    opener.set_text_content(Some("Delete"));
    host.append_child(&opener).unwrap();
    let open = RwSignal::new(false);
    let confirmed = Arc::new(AtomicU32::new(0));
    let cancelled = Arc::new(AtomicU32::new(0));
    let (on_confirmed, on_cancelled) = (confirmed.clone(), cancelled.clone());
    let handle = leptos::mount::mount_to(host.clone(), move || {
        let (on_confirmed, on_cancelled) = (on_confirmed.clone(), on_cancelled.clone());
        view! {
            <ConfirmDialog open=open title="Delete this webhook?"
                message="It will receive no more events."
                confirm_label="Delete webhook" danger=true
                on_confirm=move |_| {
                    on_confirmed.fetch_add(1, Ordering::SeqCst);
                    open.set(false);
                }
                on_cancel=move |_| {
                    on_cancelled.fetch_add(1, Ordering::SeqCst);
                    open.set(false);
                }/>
        }
    });
    // The dialog stays mounted for the rest of the test.
    handle.forget();
    Mounted {
        host,
        opener,
        open,
        confirmed,
        cancelled,
    }
}

fn dialog_of(host: &web_sys::HtmlElement) -> web_sys::HtmlDialogElement {
    host.query_selector("dialog")
        .unwrap()
        .unwrap()
        .unchecked_into()
}

fn active_text() -> Option<String> {
    document().active_element().and_then(|e| e.text_content())
}

async fn settle() {
    for _ in 0..3 {
        leptos::task::tick().await;
    }
}

#[wasm_bindgen_test]
async fn opening_shows_a_modal_named_by_its_title_with_cancel_focused() {
    let m = mount_dialog();
    settle().await;
    let dialog = dialog_of(&m.host);
    assert!(!dialog.open());
    m.opener.focus().unwrap();
    m.open.set(true);
    settle().await;
    assert!(dialog.open());
    let labelled_by = dialog.get_attribute("aria-labelledby").unwrap();
    let title = document().get_element_by_id(&labelled_by).unwrap();
    assert_eq!(
        title.text_content().as_deref(),
        Some("Delete this webhook?")
    );
    assert!(dialog
        .text_content()
        .unwrap()
        .contains("It will receive no more events."));
    assert_eq!(active_text().as_deref(), Some("Cancel"));
    m.open.set(false);
    settle().await;
    assert!(!dialog.open());
}

#[wasm_bindgen_test]
async fn escape_cancels_and_returns_focus() {
    let m = mount_dialog();
    settle().await;
    m.opener.focus().unwrap();
    m.open.set(true);
    settle().await;
    let dialog = dialog_of(&m.host);
    let init = web_sys::KeyboardEventInit::new();
    init.set_key("Escape");
    init.set_bubbles(true);
    init.set_cancelable(true);
    let escape =
        web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    let cancel = dialog.query_selector("button").unwrap().unwrap();
    cancel.dispatch_event(&escape).unwrap();
    settle().await;
    assert_eq!(m.cancelled.load(Ordering::SeqCst), 1);
    assert_eq!(m.confirmed.load(Ordering::SeqCst), 0);
    assert!(!m.open.get_untracked());
    assert!(!dialog.open());
    let active = document().active_element().unwrap();
    assert!(
        active == *m.opener.unchecked_ref::<web_sys::Element>(),
        "focus went back to the opener"
    );
}

#[wasm_bindgen_test]
async fn the_confirm_button_confirms_once() {
    let m = mount_dialog();
    settle().await;
    m.open.set(true);
    settle().await;
    let confirm: web_sys::HtmlElement = m
        .host
        .query_selector("[data-testid=confirm]")
        .unwrap()
        .unwrap()
        .unchecked_into();
    assert_eq!(confirm.text_content().as_deref(), Some("Delete webhook"));
    confirm.click();
    settle().await;
    assert_eq!(m.confirmed.load(Ordering::SeqCst), 1);
    assert_eq!(m.cancelled.load(Ordering::SeqCst), 0);
    assert!(!dialog_of(&m.host).open());
}

#[wasm_bindgen_test]
async fn a_settled_action_closes_its_dialog_and_keeps_only_a_failure() {
    let owner = Owner::new();
    owner.set();
    let pending = RwSignal::new(Some("https://hooks.example/a"));
    let error = RwSignal::new(None::<ClientError>);
    let action = Action::new_local(|fail: &bool| {
        let fail = *fail;
        async move {
            if fail {
                Err(ClientError {
                    status: 404,
                    code: ErrorCode::NotFound,
                    message: "Webhook not found".to_owned(),
                    retry_after: None,
                    fields: Vec::new(),
                })
            } else {
                Ok(())
            }
        }
    });
    close_when_settled(action, pending, error);

    action.dispatch(true);
    settle().await;
    assert_eq!(pending.get_untracked(), None);
    assert_eq!(
        error.get_untracked().map(|e| e.message),
        Some("Webhook not found".to_owned())
    );

    pending.set(Some("https://hooks.example/b"));
    action.dispatch(false);
    settle().await;
    assert_eq!(pending.get_untracked(), None);
    assert!(
        error.get_untracked().is_none(),
        "a success clears the failure"
    );
}
