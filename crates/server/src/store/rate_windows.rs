//! Rate-limit windows in PostgreSQL, shared by the server processes on one database, so a
//! plan's requests per minute hold across all of them.

use sqlx::Row;

use super::Store;

impl Store {
    /// Admits one request of `account_id` into the window starting at `window_start` if
    /// fewer than `limit` were admitted there. Returns the window's admitted count after
    /// the request: `None` when it was refused. One statement, so instances never race.
    pub async fn admit_shared(
        &self,
        account_id: &str,
        limit: u32,
        window_start: i64,
    ) -> sqlx::Result<Option<i64>> {
        let row = sqlx::query(
            "INSERT INTO rate_windows (account_id, window_start, admitted) VALUES ($1, $2, 1) \
             ON CONFLICT (account_id, window_start) DO UPDATE SET admitted = rate_windows.admitted + 1 \
             WHERE rate_windows.admitted < $3 RETURNING admitted",
        )
        .bind(account_id)
        .bind(window_start)
        .bind(i64::from(limit))
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| row.try_get("admitted")).transpose()
    }

    /// Deletes the windows that ended before `before`.
    pub async fn prune_rate_windows(&self, before: i64) -> sqlx::Result<u64> {
        Ok(
            sqlx::query("DELETE FROM rate_windows WHERE window_start < $1")
                .bind(before)
                .execute(self.pool())
                .await?
                .rows_affected(),
        )
    }
}
