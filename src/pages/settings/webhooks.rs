//! The account's webhooks on the settings page: the list, deleting one, and the form that
//! adds one (showing its signing secret once).

use converra_api::webhooks::{CreateWebhook, CreatedWebhook, Webhook, WEBHOOK_EVENTS};
use converra_api::FieldError;
use leptos::prelude::*;
use leptos_router::components::A;

use super::model::is_http_url;
use crate::api::webhooks::{create_webhook, delete_webhook, list_webhooks};
use crate::api::{ApiClient, ClientError};
use crate::components::boundary_errors::BoundaryErrors;
use crate::components::confirm::{close_when_settled, ConfirmDialog, Dialog};
use crate::components::copy_button::CopyButton;
use crate::components::empty_state::EmptyState;
use crate::components::error_panel::ErrorPanel;
use crate::components::form_fields::focus_by_id;
use crate::components::loading::Loading;
use crate::format;

/// What is wrong with a new webhook, field by field; empty when it can be sent.
pub fn validate_new_webhook(url: &str, events: &[String]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let url = url.trim();
    if url.is_empty() {
        errors.push(FieldError {
            field: "url".into(),
            message: "Enter the URL that should receive the events.".into(),
        });
    } else if !url.starts_with("https://") || !is_http_url(url) {
        errors.push(FieldError {
            field: "url".into(),
            message: "Webhooks are sent over https only: enter a URL starting with https://."
                .into(),
        });
    }
    if events.is_empty() {
        errors.push(FieldError {
            field: "events".into(),
            message: "Choose at least one event.".into(),
        });
    }
    errors
}

#[component]
pub(super) fn WebhooksSection(client: ApiClient) -> impl IntoView {
    let create = Action::new_local({
        let client = client.clone();
        move |input: &CreateWebhook| {
            let client = client.clone();
            let input = input.clone();
            async move { create_webhook(&client, &input).await }
        }
    });
    let delete = Action::new_local({
        let client = client.clone();
        move |id: &String| {
            let client = client.clone();
            let id = id.clone();
            async move { delete_webhook(&client, &id).await }
        }
    });
    let webhooks = LocalResource::new({
        let client = client.clone();
        move || {
            // Refetch after every create and delete.
            create.version().get();
            delete.version().get();
            let client = client.clone();
            async move { list_webhooks(&client).await }
        }
    });

    // Delete: the webhook waiting for confirmation.
    let pending_delete = RwSignal::new(None::<Webhook>);
    let delete_error = RwSignal::new(None::<ClientError>);
    close_when_settled(delete, pending_delete, delete_error);
    let delete_message = Signal::derive(move || {
        pending_delete
            .get()
            .map(|w| {
                format!(
                    "{} will receive no more events, and its delivery history is deleted too.",
                    w.url
                )
            })
            .unwrap_or_default()
    });

    view! {
        <section class="card settings-section" aria-labelledby="webhooks-title">
            <h2 id="webhooks-title">"Webhooks"</h2>
            <p class="hint">"Converra POSTs each subscribed event to these URLs, signed with the webhook's secret."</p>
            <Transition fallback=|| view! { <Loading what="webhooks" rows=3/> }>
                <ErrorBoundary fallback=|errors| view! { <BoundaryErrors errors/> }>
                    {move || Suspend::new(async move {
                        let list = webhooks.await?;
                        Ok::<_, ClientError>(view! {
                            <WebhookTable webhooks=list.data
                                on_delete=Callback::new(move |w: Webhook| pending_delete.set(Some(w)))/>
                        })
                    })}
                </ErrorBoundary>
            </Transition>
            {move || delete_error.get().map(|error| view! { <ErrorPanel error=error/> })}
            <ConfirmDialog open=Signal::derive(move || pending_delete.with(Option::is_some))
                title="Delete this webhook?" message=delete_message
                confirm_label="Delete webhook" danger=true busy=delete.pending()
                on_confirm=move |_| {
                    if let Some(webhook) = pending_delete.get_untracked() {
                        delete.dispatch(webhook.id);
                    }
                }
                on_cancel=move |_| pending_delete.set(None)/>
            <NewWebhookForm create=create/>
        </section>
    }
}

#[component]
fn WebhookTable(webhooks: Vec<Webhook>, on_delete: Callback<Webhook>) -> impl IntoView {
    if webhooks.is_empty() {
        return view! {
            <EmptyState title="No webhooks yet"
                hint="Add one below to have events sent to your own systems."/>
        }
        .into_any();
    }
    view! {
        <div class="table-scroll">
            <table class="webhooks-table">
                <caption class="visually-hidden">"Webhooks"</caption>
                <thead>
                    <tr>
                        <th scope="col">"URL"</th>
                        <th scope="col">"Events"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {webhooks.into_iter().map(|webhook| {
                        let status = webhook.status.as_str();
                        let deliveries_label = format!("Deliveries of {}", webhook.url);
                        let delete_label = format!("Delete the webhook to {}", webhook.url);
                        let href = format!("/webhooks/{}", webhook.id);
                        let for_delete = webhook.clone();
                        view! {
                            <tr data-testid="webhook-row">
                                <td class="url">
                                    <code>{webhook.url.clone()}</code>
                                    {webhook.description.clone().map(|d| view! { <span class="muted description">{d}</span> })}
                                </td>
                                <td>
                                    <ul class="event-list">
                                        {webhook.events.iter().map(|e| view! { <li><code>{e.clone()}</code></li> }).collect_view()}
                                    </ul>
                                </td>
                                <td><span class=format!("status-badge status-{status}")>{status}</span></td>
                                <td><time datetime=webhook.created_at.clone()>{format::date(&webhook.created_at)}</time></td>
                                <td class="actions">
                                    <A href=href attr:aria-label=deliveries_label>"Deliveries"</A>
                                    <button type="button" class="secondary danger small" aria-label=delete_label
                                        on:click=move |_| on_delete.run(for_delete.clone())>"Delete"</button>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn NewWebhookForm(
    create: Action<CreateWebhook, Result<CreatedWebhook, ClientError>>,
) -> impl IntoView {
    let url = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let events = RwSignal::new(Vec::<String>::new());
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let server_error = RwSignal::new(None::<ClientError>);
    // The secret of the webhook just created: shown once, then dropped.
    let secret = RwSignal::new(None::<CreatedWebhook>);
    Effect::new(move |_| match create.value().get() {
        Some(Ok(created)) => {
            url.set(String::new());
            description.set(String::new());
            events.set(Vec::new());
            errors.set(Vec::new());
            server_error.set(None);
            secret.set(Some(created));
            // The action keeps its last value; the secret must not outlive the dialog.
            create.value().set(None);
        }
        Some(Err(error)) => {
            let fields = error.field_errors();
            errors.set(fields);
            server_error.set(Some(error));
        }
        None => {}
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        server_error.set(None);
        let chosen = events.get_untracked();
        let found = validate_new_webhook(&url.get_untracked(), &chosen);
        if !found.is_empty() {
            let first = if found[0].field == "url" {
                "webhook-url"
            } else {
                "webhook-event-0"
            };
            errors.set(found);
            focus_by_id(first);
            return;
        }
        errors.set(Vec::new());
        let description = description.get_untracked().trim().to_owned();
        create.dispatch(CreateWebhook {
            url: url.get_untracked().trim().to_owned(),
            events: chosen,
            description: (!description.is_empty()).then_some(description),
        });
    };
    let error_of = move |field: &'static str| {
        move || {
            errors.with(|errors| {
                errors
                    .iter()
                    .find(|e| e.field == field || e.field.starts_with(&format!("{field}[")))
                    .map(|e| e.message.clone())
            })
        }
    };
    let toggle = move |event: &'static str, on: bool| {
        events.update(|events| {
            events.retain(|e| e != event);
            if on {
                events.push(event.to_owned());
            }
        })
    };
    let secret_text = Signal::derive(move || {
        secret.with(|s| s.as_ref().map(|s| s.secret.clone()).unwrap_or_default())
    });
    let close_secret = move |_| secret.set(None);

    view! {
        <form class="new-webhook" on:submit=submit novalidate>
            <h3>"Add a webhook"</h3>
            <div class="field">
                <label for="webhook-url">"URL"</label>
                <input id="webhook-url" name="url" type="url" placeholder="https://example.com/converra-events"
                    autocomplete="off" spellcheck="false" bind:value=url
                    aria-invalid=move || error_of("url")().is_some().to_string()
                    aria-describedby="webhook-url-error"/>
                {move || error_of("url")().map(|m| view! { <p class="field-error" id="webhook-url-error">{m}</p> })}
            </div>
            <div class="field">
                <label for="webhook-description">"Description (optional)"</label>
                <input id="webhook-description" name="description" type="text" bind:value=description/>
            </div>
            <fieldset class="events" aria-describedby="webhook-events-error">
                <legend>"Events"</legend>
                <div class="event-choices">
                    {WEBHOOK_EVENTS.iter().enumerate().map(|(i, event)| {
                        let id = format!("webhook-event-{i}");
                        let event: &'static str = event;
                        view! {
                            <div class="field check">
                                <input type="checkbox" id=id.clone() value=event
                                    prop:checked=move || events.with(|e| e.iter().any(|x| x == event))
                                    on:change=move |ev| toggle(event, event_target_checked(&ev))/>
                                <label for=id><code>{event}</code></label>
                            </div>
                        }
                    }).collect_view()}
                </div>
                {move || error_of("events")().map(|m| view! { <p class="field-error" id="webhook-events-error">{m}</p> })}
            </fieldset>
            <button type="submit" disabled=move || create.pending().get()>
                {move || if create.pending().get() { "Adding…" } else { "Add webhook" }}
            </button>
            {move || server_error.get().map(|error| view! { <ErrorPanel error=error/> })}
        </form>
        <Dialog open=Signal::derive(move || secret.with(Option::is_some)) title="Webhook added: copy its secret"
            on_close=close_secret class="secret-dialog">
            <p>
                "Each delivery is signed with this secret ("<code>"X-Converra-Signature"</code>
                "). Store it now with the receiver: "<strong>"it will not be shown again."</strong>
            </p>
            <p class="secret-line">
                <code class="secret" data-testid="webhook-secret">{move || secret_text.get()}</code>
            </p>
            <div class="dialog-actions">
                <CopyButton text=secret_text label="Copy secret"/>
                <button type="button" autofocus=true on:click=move |_| secret.set(None)>"I have stored it"</button>
            </div>
        </Dialog>
    }
}
