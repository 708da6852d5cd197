//! Labelled form fields bound to one field of a form held in a signal, each with its hint
//! and its error under it and `aria-invalid` and `aria-describedby` set, so a form writes
//! none of that itself. A field is named by its API path, which also names its error and
//! (with `-` for `.`) its element id.

use converra_api::FieldError;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// The element id of a field's input: its API path with `-` for `.` (`general-name`).
pub fn input_id(field: &str) -> String {
    field.replace(['.', '[', ']'], "-")
}

/// The error message of `field`, if any, under the input `id`.
fn field_error(errors: Signal<Vec<FieldError>>, field: &'static str, id: String) -> impl IntoView {
    move || {
        errors.with(|errors| {
            errors.iter().find(|e| e.field == field).map(|e| {
                view! { <p class="field-error" id=format!("{id}-error")>{e.message.clone()}</p> }
            })
        })
    }
}

/// The error line of a control these fields cannot hold (a select whose options load, a
/// group of checkboxes): the same markup and id (`{id}-error`) as every field's.
#[component]
pub fn FieldErrorLine(
    #[prop(into)] errors: Signal<Vec<FieldError>>,
    field: &'static str,
    /// The control's element id.
    #[prop(into)]
    id: String,
) -> impl IntoView {
    field_error(errors, field, id)
}

/// `aria-invalid` for a control these fields cannot hold: `"true"` while `field` has an error.
pub fn invalid(errors: Signal<Vec<FieldError>>, field: &'static str) -> impl Fn() -> &'static str {
    move || {
        if errors.with(|errors| errors.iter().any(|e| e.field == field)) {
            "true"
        } else {
            "false"
        }
    }
}

/// A labelled text, number or URL input (or a textarea) bound to one field of the form.
#[component]
pub fn TextField<F: Send + Sync + 'static>(
    form: RwSignal<F>,
    /// The form's errors, named by field; the first for `field` shows.
    #[prop(into)]
    errors: Signal<Vec<FieldError>>,
    /// The API path, which also names the error.
    field: &'static str,
    /// The element id, when it is not [`input_id`] of `field`.
    #[prop(optional, into)]
    id: Option<String>,
    label: &'static str,
    get: fn(&F) -> String,
    set: fn(&mut F, String),
    #[prop(optional, into)] hint: Option<String>,
    /// A line under the input that follows the value, such as a character count.
    #[prop(optional, into)]
    note: Option<Signal<String>>,
    /// `text` unless given: `number`, `url`, `password`.
    #[prop(default = "text")]
    input_type: &'static str,
    #[prop(optional)] multiline: bool,
    /// The textarea's height in lines (3 unless given).
    #[prop(optional)]
    rows: Option<u32>,
    /// Spans the form's width.
    #[prop(optional)]
    wide: bool,
    /// The id of a `<datalist>` of suggestions.
    #[prop(optional)]
    list: Option<&'static str>,
    /// The most characters the input takes.
    #[prop(optional)]
    maxlength: Option<u32>,
    /// For numbers: the allowed range.
    #[prop(optional)]
    range: Option<(u32, u32)>,
    #[prop(optional)] placeholder: Option<&'static str>,
    /// Called after each change the user makes, for a form that tracks its editing.
    #[prop(optional)]
    on_edit: Option<Callback<()>>,
) -> impl IntoView {
    let id = id.unwrap_or_else(|| input_id(field));
    let described_by = match &hint {
        Some(_) => format!("{id}-hint {id}-error"),
        None => format!("{id}-error"),
    };
    let value = move || form.with(get);
    let on_input = move |ev: leptos::ev::Event| {
        let text = event_target_value(&ev);
        form.update(|f| set(f, text));
        if let Some(on_edit) = on_edit {
            on_edit.run(());
        }
    };
    let control = if multiline {
        view! {
            <textarea id=id.clone() name=field rows=rows.unwrap_or(3) prop:value=value on:input=on_input
                aria-invalid=invalid(errors, field) aria-describedby=described_by.clone()
                placeholder=placeholder></textarea>
        }
        .into_any()
    } else {
        let (min, max) = range.map_or((None, None), |(a, b)| (Some(a), Some(b)));
        view! {
            <input id=id.clone() name=field type=input_type prop:value=value on:input=on_input
                min=min max=max step=range.map(|_| "1")
                inputmode=range.map(|_| "numeric") autocomplete="off" spellcheck="false"
                list=list maxlength=maxlength
                aria-invalid=invalid(errors, field) aria-describedby=described_by.clone()
                placeholder=placeholder/>
        }
        .into_any()
    };
    view! {
        <div class=if wide { "field field-wide" } else { "field" }>
            <label for=id.clone()>{label}</label>
            {control}
            {hint.map(|hint| view! { <p class="field-hint" id=format!("{id}-hint")>{hint}</p> })}
            {note.map(|note| view! { <p class="field-hint">{note}</p> })}
            {field_error(errors, field, id.clone())}
        </div>
    }
}

/// A labelled `<select>` bound to one field of the form.
#[component]
pub fn SelectField<F: Send + Sync + 'static>(
    form: RwSignal<F>,
    #[prop(into)] errors: Signal<Vec<FieldError>>,
    field: &'static str,
    label: &'static str,
    get: fn(&F) -> String,
    set: fn(&mut F, String),
    /// (value, label) pairs.
    options: Vec<(&'static str, &'static str)>,
    #[prop(optional)] hint: Option<&'static str>,
    /// The element id, when it is not [`input_id`] of `field`.
    #[prop(optional, into)]
    id: Option<String>,
) -> impl IntoView {
    let id = id.unwrap_or_else(|| input_id(field));
    let described_by = match hint {
        Some(_) => format!("{id}-hint {id}-error"),
        None => format!("{id}-error"),
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select id=id.clone() name=field
                aria-invalid=invalid(errors, field) aria-describedby=described_by
                on:change=move |ev| { let v = event_target_value(&ev); form.update(|f| set(f, v)); }>
                {options.into_iter().map(|(value, text)| view! {
                    <option value=value selected=move || form.with(get) == value>{text}</option>
                }).collect_view()}
            </select>
            {hint.map(|hint| view! { <p class="field-hint" id=format!("{id}-hint")>{hint}</p> })}
            {field_error(errors, field, id.clone())}
        </div>
    }
}

/// A checkbox bound to one yes/no of the form.
#[component]
pub fn CheckField<F: Send + Sync + 'static>(
    form: RwSignal<F>,
    id: &'static str,
    label: &'static str,
    get: fn(&F) -> bool,
    set: fn(&mut F, bool),
    #[prop(optional)] hint: Option<&'static str>,
) -> impl IntoView {
    view! {
        <div class="field check">
            <input type="checkbox" id=id prop:checked=move || form.with(get)
                aria-describedby=hint.map(|_| format!("{id}-hint"))
                on:change=move |ev| { let on = event_target_checked(&ev); form.update(|f| set(f, on)); }/>
            <label for=id>{label}</label>
            {hint.map(|hint| view! { <p class="field-hint" id=format!("{id}-hint")>{hint}</p> })}
        </div>
    }
}

/// Moves the focus to the element `id`, such as the first field in error.
pub fn focus_by_id(id: &str) {
    if let Some(element) = document()
        .get_element_by_id(id)
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = element.focus();
    }
}
