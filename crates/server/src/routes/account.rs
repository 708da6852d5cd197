//! `GET /account`.

use axum::routing::get;
use axum::{Json, Router};
use converra_api::{Account, Data};

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/account", get(get_account))
}

/// The account behind the API key, with its plan and limits.
#[utoipa::path(get, path = "/account", tag = "account",
    responses((status = 200, body = Data<Account>), (status = 401, body = converra_api::ErrorBody)))]
pub async fn get_account(Caller(account): Caller) -> ApiResult<Json<Data<Account>>> {
    Ok(Json(Data::new(account.to_wire())))
}
