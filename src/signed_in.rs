//! Who is signed in, and the client every page calls the API with. Pages and components
//! read it from here, not from the shell, so nothing they use imports the router.

use converra_api::{Account, ErrorCode};
use leptos::prelude::*;

use crate::api::{ApiClient, ClientError, PageRequests};

/// Where the dashboard stands with the API.
#[derive(Debug, Clone, PartialEq)]
pub enum Auth {
    /// A stored key is being checked against `GET /account`.
    Checking,
    /// No key, or the stored one was refused (with the API's reason).
    SignedOut(Option<ClientError>),
    SignedIn(SignedIn),
}

/// The client every page calls the API with, and the account it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedIn {
    pub client: ApiClient,
    pub account: Account,
}

/// The signed-in connection; pages read it from context. Its client's requests are the
/// caller's: they are aborted when the calling page (or piece) is left, so no page has to
/// abort its own fetches.
pub fn use_signed_in() -> Signal<Option<SignedIn>> {
    let auth = expect_context::<RwSignal<Auth>>();
    let requests = PageRequests::new();
    Signal::derive(move || match auth.get() {
        Auth::SignedIn(signed_in) => Some(SignedIn {
            client: signed_in.client.for_page(requests),
            account: signed_in.account,
        }),
        _ => None,
    })
}

/// The error a page shows when no one is signed in. The shell only shows pages once signed
/// in, so this is for a page mounted on its own; no request was made, hence no status.
pub fn not_signed_in() -> ClientError {
    ClientError {
        status: 0,
        code: ErrorCode::Unauthorized,
        message: "Sign in to see this page.".to_owned(),
        retry_after: None,
        fields: Vec::new(),
    }
}

/// The client of the signed-in account, or [`not_signed_in`].
pub fn client_of(signed_in: Option<SignedIn>) -> Result<ApiClient, ClientError> {
    signed_in.map(|s| s.client).ok_or_else(not_signed_in)
}
