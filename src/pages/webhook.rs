//! `/webhooks/:id`: one webhook's deliveries, newest first, each with every attempt (event,
//! status code, duration, error, time) and the body sent, a way to send a finished one
//! again, and a test event to try the endpoint.

use converra_api::webhooks::{
    DeliveryAttempt, DeliveryStatus, Webhook, WebhookDelivery, WebhookEvent, WebhookStatus,
};
use converra_api::List;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::api::webhooks::{list_deliveries, list_webhooks, redeliver, send_test_event};
use crate::api::{ApiClient, ClientError};
use crate::components::boundary_errors::BoundaryErrors;
use crate::components::confirm::{close_when_settled, ConfirmDialog};
use crate::components::copy_button::CopyButton;
use crate::components::empty_state::EmptyState;
use crate::components::error_panel::ErrorPanel;
use crate::components::loading::Loading;
use crate::components::page_title::use_page_title;
use crate::components::poll::Poll;
use crate::format;
use crate::signed_in::use_signed_in;

/// The webhook (found in the list: the API has no single-webhook read) and its deliveries.
async fn load(
    client: &ApiClient,
    id: &str,
) -> Result<(Option<Webhook>, List<WebhookDelivery>), ClientError> {
    let deliveries = list_deliveries(client, id).await?;
    let webhook = list_webhooks(client)
        .await?
        .data
        .into_iter()
        .find(|w| w.id == id);
    Ok((webhook, deliveries))
}

#[component]
pub fn WebhookPage() -> impl IntoView {
    let Some(signed_in) = use_signed_in().get_untracked() else {
        return ().into_any();
    };
    let client = signed_in.client;
    let params = use_params_map();
    use_page_title(|| "Webhook deliveries".to_owned());
    let webhook_id = Memo::new(move |_| params.read().get("id").unwrap_or_default());

    let resend = Action::new_local({
        let client = client.clone();
        move |delivery_id: &String| {
            let client = client.clone();
            let delivery_id = delivery_id.clone();
            let webhook = webhook_id.get_untracked();
            async move { redeliver(&client, &webhook, &delivery_id).await }
        }
    });
    let test_event = Action::new_local({
        let client = client.clone();
        move |_: &()| {
            let client = client.clone();
            let webhook = webhook_id.get_untracked();
            async move { send_test_event(&client, &webhook).await }
        }
    });
    let test_error = Signal::derive(move || test_event.value().get().and_then(Result::err));
    let test_queued = Signal::derive(move || {
        test_event.value().get().and_then(Result::ok).map(|d| {
            format!(
                "Test event queued as {}: it is listed below as it is attempted.",
                d.id
            )
        })
    });
    // Looks again while a delivery is still being attempted.
    let poll = Poll::new();
    let data = LocalResource::new({
        let client = client.clone();
        move || {
            let id = webhook_id.get();
            resend.version().get();
            test_event.version().get();
            poll.track();
            let client = client.clone();
            async move { load(&client, &id).await }
        }
    });
    let any_pending = Memo::new(move |_| {
        data.get().and_then(|r| r.ok()).is_some_and(|(_, list)| {
            list.data
                .iter()
                .any(|d| d.status == DeliveryStatus::Pending)
        })
    });
    poll.while_live(move || any_pending.get(), u32::MAX);

    // Redeliver: the delivery waiting for confirmation.
    let confirming = RwSignal::new(None::<WebhookDelivery>);
    let resend_error = RwSignal::new(None::<ClientError>);
    close_when_settled(resend, confirming, resend_error);
    let confirm_message = Signal::derive(move || {
        confirming
            .get()
            .map(|d| {
                format!(
                    "Sends the {} event ({}) again, as a new delivery with the same event id.",
                    d.event, d.event_id
                )
            })
            .unwrap_or_default()
    });
    let on_redeliver = Callback::new(move |delivery: WebhookDelivery| {
        resend_error.set(None);
        confirming.set(Some(delivery));
    });

    view! {
        <div class="webhook-page">
            <p class="breadcrumb"><A href="/settings">"← Settings"</A></p>
            <div class="page-head">
                <h1>"Webhook deliveries"</h1>
                <button type="button" class="secondary" on:click=move |_| data.refetch()>"Refresh"</button>
            </div>
            {move || resend_error.get().map(|error| view! { <ErrorPanel error=error/> })}
            {move || test_error.get().map(|error| view! { <ErrorPanel error=error/> })}
            {move || test_queued.get().map(|line| view! { <p class="notice" role="status">{line}</p> })}
            <Transition fallback=|| view! { <Loading what="deliveries" rows=4/> }>
                <ErrorBoundary fallback=|errors| view! { <BoundaryErrors errors/> }>
                    {move || Suspend::new(async move {
                        let (webhook, deliveries) = data.await?;
                        Ok::<_, ClientError>(view! {
                            <WebhookSummary webhook=webhook test_event/>
                            <DeliveryList deliveries=deliveries.data on_redeliver=on_redeliver/>
                        })
                    })}
                </ErrorBoundary>
            </Transition>
            <ConfirmDialog open=Signal::derive(move || confirming.with(Option::is_some))
                title="Redeliver this event?" message=confirm_message confirm_label="Redeliver"
                busy=resend.pending()
                on_confirm=move |_| {
                    if let Some(delivery) = confirming.get_untracked() {
                        resend.dispatch(delivery.id);
                    }
                }
                on_cancel=move |_| confirming.set(None)/>
        </div>
    }
    .into_any()
}

#[component]
fn WebhookSummary(
    webhook: Option<Webhook>,
    test_event: Action<(), Result<WebhookDelivery, ClientError>>,
) -> impl IntoView {
    webhook.map(|webhook| {
        let status = webhook.status.as_str();
        let disabled = webhook.status == WebhookStatus::Disabled;
        let sending = test_event.pending();
        view! {
            <section class="card webhook-summary" aria-label="Webhook">
                <div class="webhook-summary-head">
                    <p class="webhook-url"><code>{webhook.url.clone()}</code>
                        " "<span class=format!("status-badge status-{status}")>{status}</span></p>
                    <button type="button" class="secondary small" disabled=move || disabled || sending.get()
                        title=disabled.then_some("A disabled webhook receives nothing; create a new one to receive events again.")
                        on:click=move |_| { test_event.dispatch(()); }>
                        {move || if sending.get() { "Sending…" } else { "Send a test event" }}
                    </button>
                </div>
                {webhook.description.clone().map(|d| view! { <p class="muted">{d}</p> })}
                <p class="muted">
                    "Subscribed to "
                    {webhook.events.iter().enumerate().map(|(i, e)| view! {
                        {(i > 0).then_some(", ")}<code>{e.clone()}</code>
                    }).collect_view()}
                    {format!(" · created {}", format::date(&webhook.created_at))}
                </p>
            </section>
        }
    })
}

/// A line over the deliveries when some finished ones failed: how many, and the last error
/// (a webhook whose every delivery fails should say so, not leave it to be read row by row).
/// `None` while nothing finished has failed.
pub fn delivery_health(deliveries: &[WebhookDelivery]) -> Option<String> {
    let finished: Vec<&WebhookDelivery> = deliveries
        .iter()
        .filter(|d| d.status != DeliveryStatus::Pending)
        .collect();
    let failed = finished
        .iter()
        .filter(|d| d.status == DeliveryStatus::Failed)
        .count();
    if failed == 0 {
        return None;
    }
    // Newest first, so the first failure's error is the latest.
    let last_error = finished
        .iter()
        .find(|d| d.status == DeliveryStatus::Failed)
        .and_then(|d| d.error.clone())
        .map(|e| format!(" The latest error: {e}."))
        .unwrap_or_default();
    let count = if failed == finished.len() {
        match failed {
            1 => "The one finished delivery shown failed.".to_owned(),
            n => format!("All {n} finished deliveries shown failed."),
        }
    } else {
        format!(
            "{failed} of the {} finished deliveries shown failed.",
            finished.len()
        )
    };
    Some(format!(
        "{count}{last_error} Check that the endpoint is reachable and answers 2xx."
    ))
}

/// Each attempt's error, or `None` where it repeats the attempt before it (shown once).
pub fn attempt_errors(attempts: &[DeliveryAttempt]) -> Vec<Option<String>> {
    let mut previous: Option<&str> = None;
    attempts
        .iter()
        .map(|attempt| {
            let error = attempt.error.as_deref();
            let repeated = error.is_some() && error == previous;
            previous = error;
            match (repeated, error) {
                (true, _) => None,
                (false, error) => Some(error.unwrap_or("–").to_owned()),
            }
        })
        .collect()
}

#[component]
fn DeliveryList(
    deliveries: Vec<WebhookDelivery>,
    on_redeliver: Callback<WebhookDelivery>,
) -> impl IntoView {
    if deliveries.is_empty() {
        return view! {
            <EmptyState title="No deliveries yet"
                hint="A delivery appears here each time one of the subscribed events happens."/>
        }
        .into_any();
    }
    let now = web_sys::js_sys::Date::now();
    let health = delivery_health(&deliveries);
    view! {
        {health.map(|line| view! { <p class="notice delivery-health" role="status">{line}</p> })}
        <ol class="deliveries">
            {deliveries.into_iter().map(|delivery| {
                let status = delivery.status.as_str();
                let pending = delivery.status == DeliveryStatus::Pending;
                let for_redeliver = delivery.clone();
                let heading_id = format!("delivery-{}", delivery.id);
                let attempts = delivery.attempts.clone();
                let labelled_by = heading_id.clone();
                view! {
                    <li class="card delivery" aria-labelledby=labelled_by data-testid="delivery">
                        <div class="delivery-head">
                            <h2 id=heading_id class="delivery-title">
                                <code>{delivery.event.clone()}</code>
                                " "<span class=format!("status-badge status-{status}")>{status}</span>
                            </h2>
                            <button type="button" class="secondary small" disabled=pending
                                title=pending.then_some("Still being attempted; it can be sent again once it succeeds or fails.")
                                on:click=move |_| on_redeliver.run(for_redeliver.clone())>"Redeliver"</button>
                        </div>
                        <p class="muted delivery-meta">
                            <code>{delivery.id.clone()}</code>
                            {format!(" · event {} · queued ", delivery.event_id)}
                            <time datetime=delivery.created_at.clone() title=format::date_time(&delivery.created_at)>
                                {format::relative_time(&delivery.created_at, now)}
                            </time>
                            {delivery.redelivery_of.clone().map(|of| format!(" · redelivery of {of}"))}
                            {delivery.next_attempt_at.clone().filter(|_| pending)
                                .map(|at| format!(" · next attempt {}", format::relative_time(&at, now)))}
                        </p>
                        <AttemptTable attempts=attempts/>
                        <PayloadView payload=delivery.payload.clone()/>
                    </li>
                }
            }).collect_view()}
        </ol>
    }
    .into_any()
}

#[component]
fn AttemptTable(attempts: Vec<DeliveryAttempt>) -> impl IntoView {
    if attempts.is_empty() {
        return view! { <p class="muted">"Not attempted yet."</p> }.into_any();
    }
    view! {
        <div class="table-scroll">
            <table class="attempts">
                <caption class="visually-hidden">"Attempts"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Attempt"</th>
                        <th scope="col">"Event"</th>
                        <th scope="col" class="num">"Status code"</th>
                        <th scope="col" class="num">"Duration"</th>
                        <th scope="col">"Error"</th>
                        <th scope="col">"Time"</th>
                    </tr>
                </thead>
                <tbody>
                    {attempts.iter().zip(attempt_errors(&attempts)).map(|(attempt, error)| {
                        let ok = attempt.status_code.is_some_and(|c| (200..300).contains(&c));
                        view! {
                            <tr>
                                <th scope="row">{format!("#{}", attempt.attempt)}</th>
                                <td data-label="Event"><code>{attempt.event.clone()}</code></td>
                                <td data-label="Status code" class=if ok { "num ok" } else { "num failed" }>
                                    {attempt.status_code.map(|c| c.to_string()).unwrap_or_else(|| "none".to_owned())}
                                </td>
                                <td data-label="Duration" class="num">{format::duration_ms(attempt.duration_ms)}</td>
                                <td data-label="Error" class="error-cell">{match error {
                                    Some(error) => view! { <span>{error}</span> }.into_any(),
                                    None => view! { <span class="muted">"Same as the attempt before"</span> }.into_any(),
                                }}</td>
                                <td data-label="Time"><time datetime=attempt.attempted_at.clone()>{format::date_time(&attempt.attempted_at)}</time></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// The body a delivery POSTs, as a reader and a receiver's test would want it: indented
/// JSON, the fields in the order sent.
pub fn payload_text(payload: &WebhookEvent) -> String {
    serde_json::to_string_pretty(payload)
        .unwrap_or_else(|err| format!("The payload cannot be shown: {err}"))
}

/// The body sent, folded: it is long, and wanted only when checking a receiver.
#[component]
fn PayloadView(payload: WebhookEvent) -> impl IntoView {
    let text = payload_text(&payload);
    let copied = text.clone();
    view! {
        <details class="delivery-payload">
            <summary>"Payload"</summary>
            <pre class="payload"><code>{text}</code></pre>
            <CopyButton text=Signal::stored(copied) label="Copy payload"/>
        </details>
    }
}
