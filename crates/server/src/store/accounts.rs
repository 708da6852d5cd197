//! Accounts and API keys.

use converra_api::{Account, Plan, PlanId, PlanLimits};
use sqlx::Row;

use super::Store;
use crate::clock::rfc3339;
use crate::ids::{hash_api_key, new_api_key, new_id};

/// An account as the server uses it: the wire form plus what auth and limits need.
#[derive(Debug, Clone)]
pub struct AccountRecord {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub plan: PlanId,
    pub limits: PlanLimits,
    pub created_at_ms: i64,
}

impl AccountRecord {
    pub fn to_wire(&self) -> Account {
        Account {
            id: self.id.clone(),
            name: self.name.clone(),
            email: self.email.clone(),
            plan: Plan {
                id: self.plan,
                name: self.plan.display_name().to_owned(),
                limits: self.limits.clone(),
            },
            created_at: rfc3339(self.created_at_ms),
        }
    }

    fn from_row(row: &sqlx::any::AnyRow) -> anyhow::Result<Self> {
        let plan: PlanId = row
            .try_get::<String, _>("plan")?
            .parse()
            .map_err(anyhow::Error::msg)?;
        let limits = match row.try_get::<Option<String>, _>("custom_limits")? {
            Some(json) => serde_json::from_str(&json)?,
            None => plan.default_limits(),
        };
        Ok(AccountRecord {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            email: row.try_get("email")?,
            plan,
            limits,
            created_at_ms: row.try_get("created_at")?,
        })
    }
}

/// What a key lookup finds.
pub enum KeyLookup {
    Active(AccountRecord),
    Revoked,
    /// Past its expiry, at this time (ms).
    Expired(i64),
    Unknown,
}

/// A key just made: the secret, shown once, and the account it belongs to.
pub struct IssuedKey {
    pub key: String,
    pub account: AccountRecord,
}

impl Store {
    /// Finds the account called `name`, or creates it on `plan`, and issues it a new live key
    /// that never expires.
    pub async fn issue_key(
        &self,
        account_name: &str,
        plan: PlanId,
        now_ms: i64,
    ) -> anyhow::Result<IssuedKey> {
        self.issue_key_until(account_name, plan, now_ms, None).await
    }

    /// As [`Store::issue_key`], for a key that answers 401 from `expires_at_ms` on.
    pub async fn issue_key_until(
        &self,
        account_name: &str,
        plan: PlanId,
        now_ms: i64,
        expires_at_ms: Option<i64>,
    ) -> anyhow::Result<IssuedKey> {
        let mut tx = self.begin_write().await?;
        let existing = sqlx::query("SELECT * FROM accounts WHERE name = $1")
            .bind(account_name)
            .fetch_optional(&mut *tx)
            .await?;
        let account = match existing {
            Some(row) => AccountRecord::from_row(&row)?,
            None => {
                let id = new_id("acct");
                sqlx::query(
                    "INSERT INTO accounts (id, name, email, plan, created_at) VALUES ($1, $2, NULL, $3, $4)",
                )
                .bind(&id)
                .bind(account_name)
                .bind(plan.as_str())
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
                AccountRecord {
                    id,
                    name: account_name.to_owned(),
                    email: None,
                    plan,
                    limits: plan.default_limits(),
                    created_at_ms: now_ms,
                }
            }
        };
        let key = new_api_key(true);
        sqlx::query(
            "INSERT INTO api_keys (id, account_id, key_hash, key_prefix, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new_id("key"))
        .bind(&account.id)
        .bind(hash_api_key(&key))
        .bind(&key[..12])
        .bind(now_ms)
        .bind(expires_at_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(IssuedKey { key, account })
    }

    /// The account a presented key belongs to, at `now_ms`.
    pub async fn lookup_key(&self, key: &str, now_ms: i64) -> anyhow::Result<KeyLookup> {
        let row = sqlx::query(
            "SELECT a.*, k.revoked_at, k.expires_at FROM api_keys k JOIN accounts a ON a.id = k.account_id WHERE k.key_hash = $1",
        )
        .bind(hash_api_key(key))
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            return Ok(KeyLookup::Unknown);
        };
        if row.try_get::<Option<i64>, _>("revoked_at")?.is_some() {
            return Ok(KeyLookup::Revoked);
        }
        match row.try_get::<Option<i64>, _>("expires_at")? {
            Some(expires_at) if expires_at <= now_ms => Ok(KeyLookup::Expired(expires_at)),
            _ => Ok(KeyLookup::Active(AccountRecord::from_row(&row)?)),
        }
    }

    /// Revokes a key: it then answers 401 `UNAUTHORIZED`.
    pub async fn revoke_key(&self, key: &str, now_ms: i64) -> anyhow::Result<bool> {
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 WHERE key_hash = $2 AND revoked_at IS NULL",
        )
        .bind(now_ms)
        .bind(hash_api_key(key))
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Every account, oldest first.
    pub async fn accounts(&self) -> anyhow::Result<Vec<AccountRecord>> {
        sqlx::query("SELECT * FROM accounts ORDER BY created_at, id")
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(AccountRecord::from_row)
            .collect()
    }

    /// Gives the account called `name` limits of its own, or back its plan's with `None`.
    /// They hold from the account's next request. `None` when no account has that name.
    pub async fn set_account_limits(
        &self,
        name: &str,
        limits: Option<&PlanLimits>,
    ) -> anyhow::Result<Option<AccountRecord>> {
        let mut tx = self.begin_write().await?;
        let custom = limits.map(serde_json::to_string).transpose()?;
        let updated = sqlx::query("UPDATE accounts SET custom_limits = $1 WHERE name = $2")
            .bind(custom)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        if updated.rows_affected() == 0 {
            return Ok(None);
        }
        let row = sqlx::query("SELECT * FROM accounts WHERE name = $1")
            .bind(name)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(AccountRecord::from_row(&row)?))
    }
}
