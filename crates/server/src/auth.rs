//! Bearer API keys: the layer in front of every authenticated route.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use converra_api::ErrorCode;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::accounts::{AccountRecord, KeyLookup};

/// The account whose key authenticated this request; handlers take it as an extractor.
#[derive(Clone)]
pub struct Caller(pub AccountRecord);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            // Only reachable if a route were mounted outside the auth layer by mistake.
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("route is missing the auth layer")))
    }
}

/// Resolves the Bearer key to an account, or answers 401 with the spec's body. An address
/// past its failures this minute gets 429 instead of 401 for a bad key, while a good key
/// from it still works: one misconfigured client does not lock out its neighbours.
pub async fn require_api_key(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let now = state.clock.now_ms();
    let account = match authenticate(&state, request.headers().get(AUTHORIZATION), now).await {
        Ok(account) => account,
        Err(err) if err.code() == ErrorCode::InternalError => return Err(err),
        Err(err) => {
            let Some(address) = request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0.ip())
            else {
                return Err(err);
            };
            if let Some(wait) = state.bad_keys.refused_for(address, now) {
                return Err(ApiError::new(
                    ErrorCode::RateLimited,
                    format!("Too many requests with a missing or invalid API key from this address; try again in {wait} s"),
                )
                .retry_after(wait));
            }
            state.bad_keys.record_failure(address, now);
            return Err(err);
        }
    };
    tracing::Span::current().record("account", account.id.as_str());
    request.extensions_mut().insert(Caller(account));
    Ok(next.run(request).await)
}

async fn authenticate(
    state: &AppState,
    header: Option<&axum::http::HeaderValue>,
    now: i64,
) -> Result<AccountRecord, ApiError> {
    let key = bearer_key(header)?;
    Ok(match state.store.lookup_key(key, now).await? {
        KeyLookup::Active(account) => account,
        KeyLookup::Revoked => {
            return Err(ApiError::new(
                ErrorCode::Unauthorized,
                "This API key has been revoked",
            ))
        }
        KeyLookup::Expired(at) => {
            return Err(ApiError::new(
                ErrorCode::Unauthorized,
                format!(
                    "This API key expired at {}; create a new one",
                    crate::clock::rfc3339(at)
                ),
            ))
        }
        KeyLookup::Unknown => {
            return Err(ApiError::new(
                ErrorCode::InvalidApiKey,
                "The provided API key is invalid",
            ))
        }
    })
}

fn bearer_key(header: Option<&axum::http::HeaderValue>) -> Result<&str, ApiError> {
    let value = header
        .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "Authorization header required"))?
        .to_str()
        .map_err(|_| ApiError::new(ErrorCode::InvalidApiKey, "The provided API key is invalid"))?;
    let (scheme, key) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") || key.trim().is_empty() {
        return Err(ApiError::new(
            ErrorCode::Unauthorized,
            "Authorization header must be 'Bearer <API key>'",
        ));
    }
    Ok(key.trim())
}
