//! Account settings: one JSON document per account, and the write-only model API key.

use anyhow::Context;
use converra_api::settings::Settings;
use sqlx::{AnyConnection, Row};

use super::sql::read_flag;

use super::Store;

/// What a settings write does to the stored model API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiKeyChange {
    Keep,
    Set(String),
    Clear,
}

impl Store {
    /// The account's settings; the defaults when it never saved any. Reads outside any
    /// write transaction, so it may be called while one is open.
    pub async fn settings(&self, account_id: &str) -> anyhow::Result<Settings> {
        let mut conn = self.pool().acquire().await?;
        load_settings(&mut conn, account_id).await
    }

    /// The model API key saved through `PATCH /settings` (`llm.apiKey`), if any. For the
    /// server's own model calls only: it must never reach a response.
    pub async fn llm_api_key(&self, account_id: &str) -> anyhow::Result<Option<String>> {
        let key = sqlx::query_scalar::<_, Option<String>>(
            "SELECT llm_api_key FROM settings WHERE account_id = $1",
        )
        .bind(account_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(key.flatten())
    }
}

/// The account's settings as seen by `conn` (inside a transaction: as of that transaction).
pub async fn load_settings(conn: &mut AnyConnection, account_id: &str) -> anyhow::Result<Settings> {
    let row = sqlx::query(
        "SELECT document, CASE WHEN llm_api_key IS NULL THEN 0 ELSE 1 END AS has_api_key FROM settings WHERE account_id = $1",
    )
    .bind(account_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(Settings::default());
    };
    let document: String = row.try_get("document")?;
    let mut settings: Settings = serde_json::from_str(&document)
        .with_context(|| format!("reading the stored settings of account {account_id}"))?;
    settings.llm.has_api_key = read_flag(&row, "has_api_key")?;
    Ok(settings)
}

/// Replaces the account's settings document and applies `api_key`; returns the settings
/// as now stored. Call it in the write transaction that read the settings it merged into.
pub async fn save_settings(
    conn: &mut AnyConnection,
    account_id: &str,
    settings: &Settings,
    api_key: &ApiKeyChange,
    now_ms: i64,
) -> anyhow::Result<Settings> {
    let mut document = settings.clone();
    // Derived from the key column on every read; storing it would only let the two drift.
    document.llm.has_api_key = false;
    let document = serde_json::to_string(&document)?;
    let query = match api_key {
        ApiKeyChange::Keep => sqlx::query(
            "INSERT INTO settings (account_id, document, llm_api_key, updated_at) VALUES ($1, $2, NULL, $3)
             ON CONFLICT (account_id) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at",
        )
        .bind(account_id)
        .bind(document)
        .bind(now_ms),
        ApiKeyChange::Set(_) | ApiKeyChange::Clear => {
            let key = match api_key {
                ApiKeyChange::Set(key) => Some(key.clone()),
                _ => None,
            };
            sqlx::query(
                "INSERT INTO settings (account_id, document, llm_api_key, updated_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (account_id) DO UPDATE SET document = excluded.document,
                     llm_api_key = excluded.llm_api_key, updated_at = excluded.updated_at",
            )
            .bind(account_id)
            .bind(document)
            .bind(key)
            .bind(now_ms)
        }
    };
    query.execute(&mut *conn).await?;
    load_settings(conn, account_id).await
}
