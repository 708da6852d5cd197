//! How much work waits in each durable queue, for operators (`/metrics`).

use super::Store;

/// One queue's backlog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueStats {
    pub queue: &'static str,
    /// Jobs waiting: queued and not yet taken by any process.
    pub depth: i64,
    /// How long the oldest of them has waited, in milliseconds; 0 when none waits.
    pub oldest_age_ms: i64,
}

impl Store {
    /// Every queue's backlog at `now_ms`.
    pub async fn queue_stats(&self, now_ms: i64) -> sqlx::Result<Vec<QueueStats>> {
        // Each queue's waiting jobs: their count and the oldest's creation time.
        let queues = [
            (
                "insights",
                // Insights whose lease ran out wait again.
                sqlx::query_as(
                    "SELECT COUNT(*), MIN(created_at) FROM insights_jobs \
                     WHERE lease_expires_at IS NULL OR lease_expires_at < $1",
                )
                .bind(now_ms),
            ),
            (
                "optimizations",
                sqlx::query_as(
                    "SELECT COUNT(*), MIN(created_at) FROM optimizations WHERE status = 'queued'",
                ),
            ),
            (
                "benchmarks",
                sqlx::query_as(
                    "SELECT COUNT(*), MIN(created_at) FROM benchmarks WHERE status = 'queued'",
                ),
            ),
            (
                "webhook_events",
                // Events whose deliveries the worker has yet to write.
                sqlx::query_as(
                    "SELECT COUNT(*), MIN(created_at) FROM webhook_events WHERE fanned_out_at IS NULL",
                ),
            ),
            (
                "webhook_deliveries",
                sqlx::query_as(
                    "SELECT COUNT(*), MIN(created_at) FROM webhook_deliveries WHERE status = 'pending'",
                ),
            ),
        ];
        let mut stats = Vec::with_capacity(queues.len());
        for (queue, query) in queues {
            let (depth, oldest): (i64, Option<i64>) = query.fetch_one(self.pool()).await?;
            stats.push(QueueStats {
                queue,
                depth,
                oldest_age_ms: oldest.map_or(0, |at| now_ms.saturating_sub(at).max(0)),
            });
        }
        Ok(stats)
    }
}
