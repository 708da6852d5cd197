//! Leases on running jobs (optimizations, benchmarks, and the insights being read), so several server processes on
//! one PostgreSQL database share the queues: a claim leases the job to its process, the
//! process renews its leases while it lives, gives them back when it stops, and a job whose
//! lease ran out (its process died) is queued again for any process to take.

use sqlx::AnyConnection;

use super::notify::Channel;
use super::{Backend, Store};

/// How long a lease holds without a renewal.
pub const LEASE_MS: i64 = 30_000;

/// The queues whose running jobs are leased.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeasedQueue {
    Optimizations,
    Benchmarks,
}

impl LeasedQueue {
    pub const ALL: [LeasedQueue; 2] = [LeasedQueue::Optimizations, LeasedQueue::Benchmarks];

    /// Whose workers a job of this queue wakes.
    pub fn channel(self) -> Channel {
        match self {
            LeasedQueue::Optimizations => Channel::Optimizations,
            LeasedQueue::Benchmarks => Channel::Benchmarks,
        }
    }

    fn table(self) -> &'static str {
        match self {
            LeasedQueue::Optimizations => "optimizations",
            LeasedQueue::Benchmarks => "benchmarks",
        }
    }

    /// What queueing a job again resets: an optimization resumes from its stored
    /// simulations; a benchmark is rerun from the start.
    fn requeue_set(self) -> &'static str {
        match self {
            LeasedQueue::Optimizations => "status = 'queued'",
            LeasedQueue::Benchmarks => "status = 'queued', completed_runs = 0, started_at = NULL",
        }
    }
}

/// Which running jobs [`Store::requeue_unowned`] queues again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Abandoned {
    /// Every running job: at the start of the only process (SQLite).
    AllRunning,
    /// Running jobs whose lease ran out.
    LeaseExpired,
}

/// Leases job `id` of `queue` to `owner` until `now_ms` + [`LEASE_MS`], in the claim's
/// transaction.
pub async fn take_lease(
    conn: &mut AnyConnection,
    queue: LeasedQueue,
    account_id: &str,
    id: &str,
    owner: &str,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {} SET lease_owner = $1, lease_expires_at = $2 WHERE account_id = $3 AND id = $4",
        queue.table()
    )))
    .bind(owner)
    .bind(now_ms + LEASE_MS)
    .bind(account_id)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

impl Store {
    /// Extends this process's leases on its running jobs; returns how many it holds.
    pub async fn renew_leases(&self, queue: LeasedQueue, now_ms: i64) -> sqlx::Result<u64> {
        Ok(sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {} SET lease_expires_at = $1 WHERE status = 'running' AND lease_owner = $2",
            queue.table()
        )))
        .bind(now_ms + LEASE_MS)
        .bind(self.instance_id())
        .execute(self.pool())
        .await?
        .rows_affected())
    }

    /// Queues again the running jobs no live process holds; returns their ids.
    pub async fn requeue_unowned(
        &self,
        queue: LeasedQueue,
        which: Abandoned,
        now_ms: i64,
    ) -> sqlx::Result<Vec<String>> {
        let expired = match which {
            Abandoned::AllRunning => "",
            Abandoned::LeaseExpired => " AND (lease_expires_at IS NULL OR lease_expires_at < $2)",
        };
        let (table, set) = (queue.table(), queue.requeue_set());
        let mut tx = self.begin_write().await?;
        let mut requeue = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "UPDATE {table} SET {set}, lease_owner = NULL, lease_expires_at = NULL, updated_at = $1 \
             WHERE status = 'running'{expired} RETURNING id"
        )))
        .bind(now_ms);
        if which == Abandoned::LeaseExpired {
            requeue = requeue.bind(now_ms);
        }
        let ids: Vec<String> = requeue.fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(ids)
    }

    /// Gives back this process's running jobs at a clean stop, queued for whichever
    /// process claims them next.
    pub async fn release_leases(&self, queue: LeasedQueue, now_ms: i64) -> sqlx::Result<u64> {
        let (table, set) = (queue.table(), queue.requeue_set());
        let mut tx = self.begin_write().await?;
        let released = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {table} SET {set}, lease_owner = NULL, lease_expires_at = NULL, updated_at = $1 \
             WHERE status = 'running' AND lease_owner = $2"
        )))
        .bind(now_ms)
        .bind(self.instance_id())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(released)
    }

    /// Extends this process's leases on the insights it is reading. Rows a recording
    /// transaction holds are skipped, not waited for (it is about to take them off the
    /// queue; waiting on several of them in another order could deadlock).
    pub async fn renew_insights_leases(&self, now_ms: i64) -> sqlx::Result<u64> {
        let skip_locked = match self.backend() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        Ok(sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE insights_jobs SET lease_expires_at = $1 WHERE (account_id, conversation_id) IN ( \
             SELECT account_id, conversation_id FROM insights_jobs WHERE lease_owner = $2{skip_locked})"
        )))
        .bind(now_ms + LEASE_MS)
        .bind(self.instance_id())
        .execute(self.pool())
        .await?
        .rows_affected())
    }

    /// Lifts the leases on queued insights: this process's at a clean stop, or every
    /// process's (`owner` `None`) at the start of the only one (SQLite). Their jobs are then
    /// claimable at once; a claim skips only leased ones.
    pub async fn release_insights_leases(&self, owner: Option<&str>) -> sqlx::Result<u64> {
        let release = "UPDATE insights_jobs SET lease_owner = NULL, lease_expires_at = NULL \
                       WHERE lease_owner IS NOT NULL";
        let query = match owner {
            Some(owner) => sqlx::query(sqlx::AssertSqlSafe(format!(
                "{release} AND lease_owner = $1"
            )))
            .bind(owner.to_owned()),
            None => sqlx::query(release),
        };
        Ok(query.execute(self.pool()).await?.rows_affected())
    }
}
