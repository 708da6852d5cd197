//! The account and what its plan allows.

use leptos::prelude::*;

use crate::app::use_signed_in;

#[component]
pub fn AccountPage() -> impl IntoView {
    let signed_in = use_signed_in();
    move || {
        signed_in.get().map(|s| {
            let account = s.account;
            let limits = account.plan.limits;
            let rows = [
                ("Agents", limits.agents.to_string()),
                ("Optimizations a month", limits.optimizations_per_month.to_string()),
                ("Conversations a month", limits.conversations_per_month.to_string()),
                ("Requests a minute", limits.requests_per_minute.to_string()),
                ("Optimizations at once", limits.concurrent_optimizations.to_string()),
            ];
            view! {
                <h1>{account.name}</h1>
                <p class="muted">"Account " <code>{account.id}</code> " · created " {account.created_at}</p>
                <section class="card">
                    <h2>{format!("{} plan", account.plan.name)}</h2>
                    <table class="limits">
                        <caption class="visually-hidden">"Plan limits"</caption>
                        <tbody>
                            {rows.into_iter().map(|(name, value)| view! {
                                <tr><th scope="row">{name}</th><td>{value}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </section>
            }
        })
    }
}
