//! Wake-ups across processes. On PostgreSQL a process that queued work announces it with
//! `NOTIFY`, and every serving process `LISTEN`s, so work queued through one instance is
//! taken at once by whichever is idle instead of at its next poll. SQLite has one process,
//! whose wake-ups stay in memory.

use sqlx::postgres::PgListener;

use super::{Backend, Store};

/// What an announcement wakes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// The insights, optimization and benchmark workers.
    Jobs,
    /// The webhook sender.
    Webhooks,
}

impl Channel {
    pub const ALL: [Channel; 2] = [Channel::Jobs, Channel::Webhooks];

    fn name(self) -> &'static str {
        match self {
            Channel::Jobs => "converra_jobs",
            Channel::Webhooks => "converra_webhooks",
        }
    }

    pub fn from_name(name: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.name() == name)
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
            .listen_all(Channel::ALL.into_iter().map(Channel::name))
            .await?;
        Ok(Some(listener))
    }
}
