//! `GET /usage`.

use converra_api::usage::Usage;
use converra_api::Data;

use super::{ApiClient, ClientError};

/// This billing period's usage against the plan's limits, with one row per day.
pub async fn get_usage(client: &ApiClient) -> Result<Usage, ClientError> {
    client.get::<Data<Usage>>("/usage").await.map(|d| d.data)
}
