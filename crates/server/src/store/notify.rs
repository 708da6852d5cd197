//! Wake-ups across processes. On PostgreSQL a process that queued work announces it with
//! `NOTIFY`, and every serving process `LISTEN`s, so work queued through one instance is
//! taken at once by whichever is idle instead of at its next poll. SQLite has one process,
//! whose wake-ups stay in memory.

use sqlx::postgres::PgListener;

use super::{Backend, Store};

/// What an announcement wakes: one queue's workers, so work queued for one kind of
/// worker does not send every other kind to look for work too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// The insights worker.
    Insights,
    /// The optimization runners.
    Optimizations,
    /// The benchmark runners.
    Benchmarks,
    /// The webhook sender.
    Webhooks,
}

/// The one job channel of servers from before each queue had its own. Still heard, as a
/// wake-up of every job queue, so that during a rolling upgrade no announcement of an
/// older instance waits for the next poll.
const LEGACY_JOBS: &str = "converra_jobs";

impl Channel {
    pub const ALL: [Channel; 4] = [
        Channel::Insights,
        Channel::Optimizations,
        Channel::Benchmarks,
        Channel::Webhooks,
    ];

    fn name(self) -> &'static str {
        match self {
            Channel::Insights => "converra_insights",
            Channel::Optimizations => "converra_optimizations",
            Channel::Benchmarks => "converra_benchmarks",
            Channel::Webhooks => "converra_webhooks",
        }
    }

    /// The channels whose workers an announcement on `name` wakes.
    pub fn woken_by(name: &str) -> &'static [Channel] {
        if name == LEGACY_JOBS {
            return &[
                Channel::Insights,
                Channel::Optimizations,
                Channel::Benchmarks,
            ];
        }
        match Channel::ALL.iter().position(|c| c.name() == name) {
            Some(i) => &Channel::ALL[i..=i],
            None => &[],
        }
    }

    /// The position of the channel in [`Channel::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl Store {
    /// Tells every listening process that work was queued on `channel` (PostgreSQL); a
    /// no-op on SQLite.
    pub async fn announce(&self, channel: Channel) -> sqlx::Result<()> {
        if self.backend() == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(channel.name())
                .execute(self.pool())
                .await?;
        }
        Ok(())
    }

    /// A connection listening on every channel, on PostgreSQL; `None` on SQLite. It
    /// reconnects by itself after a lost connection (its next `recv` does).
    pub async fn listen(&self) -> sqlx::Result<Option<PgListener>> {
        let Some(url) = self.listen_url.as_deref() else {
            return Ok(None);
        };
        let mut listener = PgListener::connect(url).await?;
        listener
            .listen_all(
                Channel::ALL
                    .into_iter()
                    .map(Channel::name)
                    .chain([LEGACY_JOBS]),
            )
            .await?;
        Ok(Some(listener))
    }
}
