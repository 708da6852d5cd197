//! Storage: the only module that knows the database. One submodule per resource.
//!
//! SQLite by default (one file, WAL mode, foreign keys on), or PostgreSQL, which several
//! server processes can share; both through sqlx's `Any` driver, with one schema per backend
//! (`migrations/sqlite`, `migrations/postgres`) and one SQL text where the two agree
//! (`sql.rs` holds where they do not). Every write runs in a transaction and is committed
//! before the handler answers, so a 2xx survives a crash.

pub mod accounts;
pub mod agents;
pub mod benchmarks;
pub mod conversations;
pub mod insights;
pub mod leases;
pub mod logged_tools;
pub mod notify;
pub mod optimizations;
pub mod otel;
pub mod paging;
pub mod queues;
pub mod rate_windows;
pub mod settings;
pub mod slots;
pub mod usage;
pub mod webhooks;

pub mod sql;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, Executor};

pub use queues::QueueStats;
pub use sql::{Backend, SqlBuilder};

/// How a store function fails: the rows a caller asked for are not there or not in a
/// state that allows the change, its input does not fit the query, or the database failed.
/// Routes turn it into an `ApiError` (see `error.rs`); the store knows no HTTP.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such row in the caller's account (or at all: the two must be indistinguishable).
    #[error("{what} '{id}' not found")]
    NotFound { what: &'static str, id: String },
    /// The row exists but its state (or a unique column) refuses the change.
    #[error("{0}")]
    Conflict(String),
    /// The write would make a stored thing outgrow its limit; the message names the limit.
    #[error("{0}")]
    TooLarge(String),
    /// A value the caller gave cannot be used in the query.
    #[error("{field}: {message}")]
    InvalidField {
        field: &'static str,
        message: &'static str,
    },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// A stored row that does not decode: a bug or a damaged database.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl StoreError {
    pub fn not_found(what: &'static str, id: &str) -> Self {
        StoreError::NotFound {
            what,
            id: id.to_owned(),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// How hard a commit pushes to disk. `Full` also survives power loss; `Normal` survives
/// a crash of the process (WAL), which is what `kill -9` tests. PostgreSQL always flushes
/// its WAL at commit (`synchronous_commit` on), so both mean `Full` there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Durability {
    Normal,
    Full,
}

/// Where the data lives: a SQLite file (the embedded default) or a PostgreSQL database,
/// which several server processes can share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    Sqlite(PathBuf),
    Postgres(String),
}

impl std::str::FromStr for Database {
    type Err = std::convert::Infallible;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Ok(
            if value.starts_with("postgres://") || value.starts_with("postgresql://") {
                Database::Postgres(value.to_owned())
            } else {
                Database::Sqlite(PathBuf::from(value))
            },
        )
    }
}

impl std::fmt::Display for Database {
    /// Names the database without its password, for logs and errors.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "{}", path.display()),
            Database::Postgres(url) => match url::Url::parse(url) {
                Ok(mut parsed) => {
                    if parsed.password().is_some() {
                        let _ = parsed.set_password(Some("***"));
                    }
                    write!(f, "{parsed}")
                }
                Err(_) => f.write_str("postgres://(unparsable URL)"),
            },
        }
    }
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// This process's name on the leases of the jobs it runs.
    instance_id: Arc<str>,
    /// SQLite has one writer at a time. Queueing writers here, first come first served,
    /// replaces SQLite's busy handler, which sleeps and retries and so gives long tails.
    /// PostgreSQL takes row locks instead, so it has none.
    writer: Option<Arc<tokio::sync::Mutex<()>>>,
    /// PostgreSQL's URL, for the connection that `LISTEN`s apart from the pool.
    listen_url: Option<Arc<str>>,
    /// PostgreSQL's `max_connections`, read once: the most transactions that can be in
    /// flight at once, across every instance.
    max_connections: Arc<std::sync::OnceLock<u64>>,
}

/// A write transaction, holding SQLite's writer's turn until it commits or is dropped.
pub struct WriteTransaction {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTransaction {
    pub async fn commit(self) -> sqlx::Result<()> {
        self.tx.commit().await
    }
}

impl std::ops::Deref for WriteTransaction {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTransaction {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

/// Each backend's migrations, embedded: the two schemas hold the same data.
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Opens (creating if needed) the SQLite database at `path` and applies the migrations.
    pub async fn open(path: &Path, durability: Durability) -> anyhow::Result<Store> {
        Store::connect(&Database::Sqlite(path.to_owned()), durability).await
    }

    /// Opens the database and brings its schema up to date.
    pub async fn connect(database: &Database, durability: Durability) -> anyhow::Result<Store> {
        sqlx::any::install_default_drivers();
        let store = match database {
            Database::Sqlite(path) => Store::connect_sqlite(path, durability).await?,
            Database::Postgres(url) => Store::connect_postgres(url).await?,
        }
        .with_context(|| format!("opening the database {database}"))?;
        let migrations = match store.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrations
            .run(&store.pool)
            .await
            .context("applying database migrations")?;
        Ok(store)
    }

    async fn connect_sqlite(
        path: &Path,
        durability: Durability,
    ) -> anyhow::Result<sqlx::Result<Store>> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the database folder {}", dir.display()))?;
        }
        let synchronous = match durability {
            Durability::Normal => "NORMAL",
            Durability::Full => "FULL",
        };
        let pragmas = format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; \
             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;"
        );
        let options: AnyConnectOptions = sql::sqlite_url(path).parse()?;
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .after_connect(move |conn, _| {
                let pragmas = pragmas.clone();
                Box::pin(async move {
                    conn.execute(sqlx::AssertSqlSafe(pragmas)).await?;
                    Ok(())
                })
            })
            .connect_with(options)
            .await;
        Ok(pool.map(|pool| Store {
            pool,
            backend: Backend::Sqlite,
            instance_id: crate::ids::new_id("inst").into(),
            writer: Some(Arc::new(tokio::sync::Mutex::new(()))),
            listen_url: None,
            max_connections: Arc::default(),
        }))
    }

    async fn connect_postgres(url: &str) -> anyhow::Result<sqlx::Result<Store>> {
        let options: AnyConnectOptions = url.parse()?;
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect_with(options)
            .await;
        Ok(pool.map(|pool| Store {
            pool,
            backend: Backend::Postgres,
            instance_id: crate::ids::new_id("inst").into(),
            writer: None,
            listen_url: Some(url.into()),
            max_connections: Arc::default(),
        }))
    }

    /// Whether the database answers and holds every migration this build embeds: a process
    /// of an older build, or one started before a migration finished, reads `false`.
    pub async fn is_ready(&self) -> sqlx::Result<bool> {
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
                .await?;
        let embedded = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
        .iter()
        .map(|m| m.version)
        .max();
        Ok(applied >= embedded)
    }

    /// The most transactions that can be in flight at once on this database, across every
    /// instance: PostgreSQL's `max_connections`. `None` on SQLite, whose one writer runs
    /// them in turn.
    pub async fn max_in_flight(&self, conn: &mut AnyConnection) -> sqlx::Result<Option<u64>> {
        if self.backend == Backend::Sqlite {
            return Ok(None);
        }
        if let Some(max) = self.max_connections.get() {
            return Ok(Some(*max));
        }
        let setting: String = sqlx::query_scalar("SELECT current_setting('max_connections')")
            .fetch_one(conn)
            .await?;
        let max = setting.trim().parse::<u64>().map_err(|e| {
            sqlx::Error::Decode(format!("max_connections reads {setting:?}: {e}").into())
        })?;
        Ok(Some(*self.max_connections.get_or_init(|| max)))
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn instance_id(&self) -> &str {
        &self.instance_id
    }

    /// A write transaction. On SQLite it waits for the writer's turn, then takes the write
    /// lock up front (`BEGIN IMMEDIATE`), so a transaction never fails upgrading from a read.
    pub async fn begin_write(&self) -> sqlx::Result<WriteTransaction> {
        let turn = match &self.writer {
            Some(writer) => Some(writer.clone().lock_owned().await),
            None => None,
        };
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(WriteTransaction { tx, _turn: turn })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[cfg(test)]
mod tests {
    use sqlx::{Connection, Row};

    use super::*;

    /// Migration 0021 builds the search index again (FTS5 takes its prefix index only at
    /// creation): what was indexed before must stay findable, system prompts included out.
    #[tokio::test]
    async fn the_rebuilt_search_index_finds_what_was_stored_before_it_and_indexes_prefixes() {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("converra.db");
        let mut conn = AnyConnection::connect(&sql::sqlite_url(&path))
            .await
            .expect("connect");
        SQLITE_MIGRATIONS
            .run_to(20, &mut conn)
            .await
            .expect("migrations up to 0020");
        conn.execute("PRAGMA foreign_keys = OFF")
            .await
            .expect("no account or agent rows needed");
        let messages = serde_json::json!([
            {"role": "system", "content": "Never mention waterproofing."},
            {"role": "user", "content": "Where are my refunds?"},
            {"role": "assistant", "content": "Let me look.", "toolCalls": [
                {"name": "lookup_order", "arguments": {}, "result": {"carrier": "Parcelforce"}},
                {"name": "issue_credit", "arguments": {}, "result": "declined", "error": "Overdrawn ledger"}
            ]}
        ]);
        sqlx::query(
            "INSERT INTO conversations (id, account_id, agent_id, status, title, messages, message_count, \
             insights_status, created_at, updated_at) \
             VALUES ('conv_1', 'acct_1', 'agent_1', 'completed', 'Backpack order', $1, 3, 'ready', 0, 0)",
        )
        .bind(messages.to_string())
        .execute(&mut conn)
        .await
        .expect("conversation");
        conn.close().await.expect("close");

        let store = Store::open(&path, Durability::Normal)
            .await
            .expect("the remaining migrations");
        let matches = |query: &'static str| {
            let store = store.clone();
            async move {
                sqlx::query(
                    "SELECT c.id FROM conversations_fts f JOIN conversations c ON c.rowid = f.rowid \
                     WHERE conversations_fts MATCH $1",
                )
                .bind(query)
                .fetch_all(store.pool())
                .await
                .expect("search")
                .len()
            }
        };
        for found in [
            "refunds",
            "\"ref\"*",
            "backpack",
            "look",
            "lookup_order",
            "parcelforce",
            "declined",
            "overdrawn",
        ] {
            assert_eq!(matches(found).await, 1, "{found} is indexed");
        }
        assert_eq!(
            matches("waterproofing").await,
            0,
            "the system prompt is not"
        );
        let definition: String =
            sqlx::query("SELECT sql FROM sqlite_master WHERE name = 'conversations_fts'")
                .fetch_one(store.pool())
                .await
                .expect("definition")
                .get(0);
        assert!(definition.contains("prefix = '3'"), "{definition}");
    }
}
