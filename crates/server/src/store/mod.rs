//! Storage: the only module that knows the database. One submodule per resource.
//!
//! SQLite through sqlx, in WAL mode with foreign keys on. Every write runs in a
//! transaction and is committed before the handler answers, so a 2xx survives a crash.
//! The SQL keeps to what PostgreSQL also accepts, so a second backend needs no rewrite.

pub mod accounts;
pub mod agents;
pub mod benchmarks;
pub mod conversations;
pub mod insights;
pub mod logged_tools;
pub mod optimizations;
pub mod otel;
pub mod paging;
pub mod settings;
pub mod usage;
pub mod webhooks;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

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
/// a crash of the process (WAL), which is what `kill -9` tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Durability {
    Normal,
    Full,
}

#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
    /// SQLite has one writer at a time. Queueing writers here, first come first served,
    /// replaces SQLite's busy handler, which sleeps and retries and so gives long tails.
    writer: Arc<tokio::sync::Mutex<()>>,
}

/// A write transaction holding the writer's turn until it commits or is dropped.
pub struct WriteTransaction {
    tx: sqlx::Transaction<'static, sqlx::Sqlite>,
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

impl WriteTransaction {
    pub async fn commit(self) -> sqlx::Result<()> {
        self.tx.commit().await
    }
}

impl std::ops::Deref for WriteTransaction {
    type Target = sqlx::SqliteConnection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTransaction {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path` and applies the embedded migrations.
    pub async fn open(path: &Path, durability: Durability) -> anyhow::Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the database folder {}", dir.display()))?;
        }
        let synchronous = match durability {
            Durability::Normal => SqliteSynchronous::Normal,
            Durability::Full => SqliteSynchronous::Full,
        };
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .with_context(|| format!("opening the database {}", path.display()))?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .context("applying database migrations")?;
        Ok(Store {
            pool,
            writer: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// A write transaction: waits for the writer's turn, then takes SQLite's write lock up
    /// front (`BEGIN IMMEDIATE`), so a transaction never fails upgrading from a read.
    pub async fn begin_write(&self) -> sqlx::Result<WriteTransaction> {
        let turn = self.writer.clone().lock_owned().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(WriteTransaction { tx, _turn: turn })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
