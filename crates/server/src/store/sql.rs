//! What the two backends write differently, and a query builder that writes for both.
//!
//! Queries go through sqlx's `Any` driver with `$1`-style placeholders, which SQLite and
//! PostgreSQL both read. Where their SQL differs (full-text search, JSON arrays, row locks)
//! the store asks [`Backend`] for its form. Flags are stored as 0/1 integers on
//! both, since the `Any` driver reads neither SQLite's BOOLEAN columns nor mixes the two.

use std::path::Path;

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::{Query, QueryScalar};
use sqlx::{Any, Arguments, Encode, Row, Type};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend of a connection from the store's pool.
    pub fn of(conn: &sqlx::AnyConnection) -> Backend {
        if conn.backend_name() == "PostgreSQL" {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    /// A condition: the JSON array of strings in `column` holds the bound value that follows.
    pub fn json_array_contains(self, column: &str) -> String {
        match self {
            Backend::Sqlite => {
                format!("EXISTS (SELECT 1 FROM json_each({column}) WHERE json_each.value = ")
            }
            Backend::Postgres => format!(
                "EXISTS (SELECT 1 FROM jsonb_array_elements_text(CAST({column} AS jsonb)) AS e(value) WHERE e.value = "
            ),
        }
    }
}

/// An optional float, to bind as text and cast back in the SQL (`CAST($n AS DOUBLE
/// PRECISION)`). sqlx 0.9's `Any` driver sends a NULL `f64` to PostgreSQL typed as a
/// `real` (its Real and Double kinds are swapped), and the statement it then caches per
/// connection refuses the next non-NULL `f64` ("incorrect binary data format"). Text is
/// typed the same either way; Rust writes the shortest text that reads back as the same
/// float, so nothing is lost.
pub fn optional_float(value: Option<f64>) -> Option<String> {
    value.map(|v| v.to_string())
}

/// Holds the lock called `name` until the transaction on `conn` ends, so that server
/// processes sharing one PostgreSQL database take turns where a check and the write it
/// allows must not interleave: claiming a queue's next job (none is claimed twice, and
/// limits counted at claim time hold), or registering an agent by name. On SQLite every
/// write transaction already holds the one writer's turn.
pub async fn lock_named(conn: &mut sqlx::AnyConnection, name: &str) -> sqlx::Result<()> {
    if Backend::of(conn) == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind(name)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Holds the lock called `name` in shared mode until the transaction on `conn` ends: any
/// number of transactions hold it together, while [`lock_named`] waits for all of them (and
/// they for it). A transaction holding it must not then ask for it alone: two doing so
/// would wait for each other. A no-op on SQLite, as [`lock_named`].
pub async fn lock_named_shared(conn: &mut sqlx::AnyConnection, name: &str) -> sqlx::Result<()> {
    if Backend::of(conn) == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock_shared(hashtext($1))")
            .bind(name)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Lets the transaction on `conn` commit without waiting for its write-ahead log to reach
/// the disk (PostgreSQL's `synchronous_commit = off`, for this transaction only). For
/// writes that can be lost in a crash and redone: a lease, or insights read again when
/// their job comes back with them. A no-op on SQLite.
pub async fn commit_without_waiting_for_disk(conn: &mut sqlx::AnyConnection) -> sqlx::Result<()> {
    if Backend::of(conn) == Backend::Postgres {
        sqlx::query("SET LOCAL synchronous_commit TO OFF")
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Holds every lock in `names` until the transaction on `conn` ends, taken in one global
/// order (of their keys), so two transactions that each need several of them never
/// deadlock. A no-op on SQLite, as [`lock_named`].
pub async fn lock_all_named(conn: &mut sqlx::AnyConnection, names: &[String]) -> sqlx::Result<()> {
    if Backend::of(conn) != Backend::Postgres || names.is_empty() {
        return Ok(());
    }
    let mut query = SqlBuilder::new(
        "SELECT pg_advisory_xact_lock(key) FROM (SELECT DISTINCT hashtext(name) AS key FROM (VALUES ",
    );
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            query.push(", ");
        }
        query
            .push("(CAST(")
            .push_bind(name.clone())
            .push(" AS TEXT))");
    }
    query.push(") AS names (name) ORDER BY key) AS keys");
    query.build().execute(conn).await?;
    Ok(())
}

/// Locks the conversation's row until the transaction on `conn` ends (PostgreSQL; SQLite's
/// writer already serializes), taken first by every write that reads a conversation and
/// writes it back, so such writes queue in one order and never deadlock.
pub async fn lock_conversation(
    conn: &mut sqlx::AnyConnection,
    account_id: &str,
    id: &str,
) -> sqlx::Result<()> {
    if Backend::of(conn) == Backend::Postgres {
        sqlx::query("SELECT id FROM conversations WHERE account_id = $1 AND id = $2 FOR UPDATE")
            .bind(account_id)
            .bind(id)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// A flag as stored: 0 or 1.
pub fn flag(value: bool) -> i64 {
    i64::from(value)
}

/// A stored flag (0 or 1) read back.
pub fn read_flag(row: &AnyRow, column: &str) -> sqlx::Result<bool> {
    Ok(row.try_get::<i64, _>(column)? != 0)
}

/// sqlx's URL for a SQLite file: `mode=rwc` creates it, and the characters a URL would
/// read as its own are escaped.
pub fn sqlite_url(path: &Path) -> String {
    let mut escaped = String::new();
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => escaped.push_str("%25"),
            '?' => escaped.push_str("%3F"),
            '#' => escaped.push_str("%23"),
            c => escaped.push(c),
        }
    }
    format!("sqlite://{escaped}?mode=rwc")
}

/// Builds a query from pieces and bound values, numbering the placeholders `$1, $2, …`
/// (sqlx's own builder writes `?` for the `Any` driver, which PostgreSQL rejects).
pub struct SqlBuilder {
    sql: String,
    arguments: AnyArguments,
    binds: usize,
}

impl SqlBuilder {
    pub fn new(sql: impl Into<String>) -> SqlBuilder {
        SqlBuilder {
            sql: sql.into(),
            arguments: AnyArguments::default(),
            binds: 0,
        }
    }

    pub fn push(&mut self, sql: impl AsRef<str>) -> &mut Self {
        self.sql.push_str(sql.as_ref());
        self
    }

    pub fn push_bind<'t, T>(&mut self, value: T) -> &mut Self
    where
        T: Encode<'t, Any> + Type<Any>,
    {
        self.binds += 1;
        // Encoding into the `Any` buffer only copies the value: it cannot fail for the
        // types the store binds (text, integers, floats, and their options).
        if let Err(error) = self.arguments.add(value) {
            tracing::error!(%error, "binding a query argument");
        }
        self.sql.push('$');
        self.sql.push_str(&self.binds.to_string());
        self
    }

    /// A list whose bound values are joined by `separator`.
    pub fn separated(&mut self, separator: &'static str) -> Separated<'_> {
        Separated {
            builder: self,
            separator,
            first: true,
        }
    }

    pub fn build(self) -> Query<'static, Any, AnyArguments> {
        sqlx::query_with(sqlx::AssertSqlSafe(self.sql), self.arguments)
    }

    pub fn build_query_scalar<O>(self) -> QueryScalar<'static, Any, O, AnyArguments>
    where
        O: Send + Unpin,
        (O,): for<'r> sqlx::FromRow<'r, AnyRow>,
    {
        sqlx::query_scalar_with(sqlx::AssertSqlSafe(self.sql), self.arguments)
    }
}

pub struct Separated<'b> {
    builder: &'b mut SqlBuilder,
    separator: &'static str,
    first: bool,
}

impl Separated<'_> {
    pub fn push_bind<'t, T>(&mut self, value: T) -> &mut Self
    where
        T: Encode<'t, Any> + Type<Any>,
    {
        if !self.first {
            self.builder.push(self.separator);
        }
        self.first = false;
        self.builder.push_bind(value);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_order() {
        let mut query = SqlBuilder::new("SELECT * FROM t WHERE a = ");
        query.push_bind(1_i64).push(" AND c IN (");
        let mut list = query.separated(", ");
        list.push_bind("u");
        list.push_bind("v");
        query.push(")");
        assert_eq!(query.sql, "SELECT * FROM t WHERE a = $1 AND c IN ($2, $3)");
        assert_eq!(query.arguments.len(), 3);
    }

    #[test]
    fn sqlite_urls_escape_what_a_url_would_read() {
        assert_eq!(
            sqlite_url(Path::new("/tmp/a?b#c%d.db")),
            "sqlite:///tmp/a%3Fb%23c%25d.db?mode=rwc"
        );
    }
}
