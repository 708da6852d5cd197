//! `GET /settings` and `PATCH /settings`.

use converra_api::settings::{Settings, SettingsUpdated};
use converra_api::Data;

use super::{ApiClient, ClientError};

pub async fn get_settings(client: &ApiClient) -> Result<Settings, ClientError> {
    client
        .get::<Data<Settings>>("/settings")
        .await
        .map(|d| d.data)
}

/// Deep-merges `patch` into the settings and returns them as saved. The patch is JSON rather
/// than [`converra_api::settings::SettingsPatch`] because only JSON can say `null` ("back to
/// the default", "remove the key"), which the typed patch leaves out.
pub async fn update_settings(
    client: &ApiClient,
    patch: &serde_json::Value,
) -> Result<Settings, ClientError> {
    client
        .patch::<SettingsUpdated>("/settings", patch)
        .await
        .map(|updated| updated.data)
}
