//! Modal dialogs on the native `<dialog>`: `showModal()` makes the rest of the page inert
//! and keeps Tab inside. Focus moves into the dialog when it opens and back to where it
//! was when it closes; Escape closes it through the caller, so its state stays the truth.

use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::api::ClientError;

/// A modal dialog, open while `open` is true. Put `autofocus` on the control that should
/// take focus first (otherwise the first focusable one does).
#[component]
pub fn Dialog(
    #[prop(into)] open: Signal<bool>,
    /// The dialog's heading and accessible name.
    #[prop(into)]
    title: String,
    /// Called on Escape (and if the browser closes the dialog by itself); the caller sets
    /// `open` to false.
    #[prop(into)]
    on_close: Callback<()>,
    /// Extra classes for the `<dialog>` ("danger", "wide").
    #[prop(optional, into)]
    class: String,
    children: Children,
) -> impl IntoView {
    let dialog_ref = NodeRef::<html::Dialog>::new();
    // Where focus was before opening, to return it there; DOM nodes are not `Send`.
    let return_focus = StoredValue::new_local(None::<web_sys::HtmlElement>);
    let title_id = format!("dialog-title-{}", next_dialog_id());

    Effect::new(move |_| {
        let is_open = open.get();
        let Some(dialog) = dialog_ref.get() else {
            return;
        };
        if is_open && !dialog.open() {
            let active = document()
                .active_element()
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
            return_focus.set_value(active);
            // Fails only when the dialog is not connected, which a mounted ref rules out.
            let _ = dialog.show_modal();
            focus_first(&dialog);
        } else if !is_open && dialog.open() {
            dialog.close();
            if let Some(previous) = return_focus.try_update_value(Option::take).flatten() {
                if previous.is_connected() {
                    let _ = previous.focus();
                }
            }
        }
    });

    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            // Keeps the browser from closing the dialog behind the caller's back.
            ev.prevent_default();
            ev.stop_propagation();
            on_close.run(());
        }
    };
    let on_native_close = move |_| {
        if open.get_untracked() {
            on_close.run(());
        }
    };
    let class = format!("dialog {class}");
    let labelled_by = title_id.clone();

    view! {
        <dialog node_ref=dialog_ref class=class aria-labelledby=labelled_by
            on:keydown=on_keydown on:close=on_native_close>
            <h2 id=title_id class="dialog-title">{title}</h2>
            {children()}
        </dialog>
    }
}

/// Moves focus to the dialog's `[autofocus]` control, or its first focusable one.
fn focus_first(dialog: &web_sys::HtmlDialogElement) {
    let target = dialog
        .query_selector("[autofocus]")
        .ok()
        .flatten()
        .or_else(|| {
            dialog
                .query_selector("button, [href], input, select, textarea, [tabindex]")
                .ok()
                .flatten()
        })
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(target) = target {
        let _ = target.focus();
    }
}

fn next_dialog_id() -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// "Are you sure?": a message, Cancel (focused first, the safe choice) and a confirm button.
#[component]
pub fn ConfirmDialog(
    #[prop(into)] open: Signal<bool>,
    #[prop(into)] title: String,
    /// What will happen, in a sentence or two.
    #[prop(into)]
    message: Signal<String>,
    #[prop(into, default = "Confirm".to_owned())] confirm_label: String,
    /// Styles the confirm button as destructive.
    #[prop(optional)]
    danger: bool,
    /// Disables both buttons while the confirmed action runs.
    #[prop(optional, into)]
    busy: Signal<bool>,
    #[prop(into)] on_confirm: Callback<()>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let confirm_class = if danger { "danger" } else { "" };
    view! {
        <Dialog open=open title=title on_close=on_cancel class="confirm-dialog">
            <p class="dialog-message">{move || message.get()}</p>
            <div class="dialog-actions">
                <button type="button" class="secondary" autofocus=true
                    disabled=move || busy.get()
                    on:click=move |_| on_cancel.run(())>"Cancel"</button>
                <button type="button" class=confirm_class data-testid="confirm"
                    disabled=move || busy.get()
                    on:click=move |_| on_confirm.run(())>{confirm_label}</button>
            </div>
        </Dialog>
    }
}

/// Ties a confirmed action to its dialog: once `action` settles the dialog closes (`pending`
/// back to `None`), and `error` keeps the failure to show beside the list, or clears.
pub fn close_when_settled<I, O, T>(
    action: Action<I, Result<O, ClientError>>,
    pending: RwSignal<Option<T>>,
    error: RwSignal<Option<ClientError>>,
) where
    I: 'static,
    O: Clone + Send + Sync + 'static,
    T: Send + Sync + 'static,
{
    Effect::new(move |_| {
        if let Some(outcome) = action.value().get() {
            pending.set(None);
            error.set(outcome.err());
        }
    });
}
