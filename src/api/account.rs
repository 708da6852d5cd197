//! `GET /account`.

use converra_api::{Account, Data};

use super::{ApiClient, ClientError};

pub async fn get_account(client: &ApiClient) -> Result<Account, ClientError> {
    client
        .get::<Data<Account>>("/account")
        .await
        .map(|d| d.data)
}
