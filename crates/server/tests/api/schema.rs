//! The PostgreSQL schema is ready to be distributed by account (docs/scaling.md, step 3):
//! read from the catalog of a migrated database, not from the migration's text.
use converra_server::store::{Database, Durability, Store};
use sqlx::{Connection, Row};

use crate::common::test_database;

/// Keyed by their own id: authentication finds an account from a key's hash before any
/// account is known, so these become reference tables, copied to every shard.
const REFERENCE_TABLES: [&str; 2] = ["accounts", "api_keys"];

/// Column names listed with commas, as the catalog queries below return them.
fn columns(listed: String) -> Vec<String> {
    listed
        .split(',')
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Every unique index of the public schema (primary keys and unique constraints included):
/// its table and its columns in order.
async fn unique_indexes(connection: &mut sqlx::AnyConnection) -> Vec<(String, Vec<String>)> {
    let rows = sqlx::query(
        "SELECT i.indrelid::regclass::text AS tbl, \
                array_to_string(ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(n, o) \
                    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o), ',') AS cols \
         FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid \
         WHERE t.relnamespace = 'public'::regnamespace AND i.indisunique \
           AND t.relname <> '_sqlx_migrations' \
         ORDER BY 1, 2",
    )
    .fetch_all(connection)
    .await
    .unwrap();
    rows.into_iter()
        .map(|row| (row.get("tbl"), columns(row.get("cols"))))
        .collect()
}

/// Every foreign key of the public schema: its table, its columns in order, and the
/// columns it references.
async fn foreign_keys(
    connection: &mut sqlx::AnyConnection,
) -> Vec<(String, Vec<String>, Vec<String>)> {
    let rows = sqlx::query(
        "SELECT c.conrelid::regclass::text AS tbl, \
                array_to_string(ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, o) \
                    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o), ',') AS cols, \
                array_to_string(ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, o) \
                    JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o), ',') AS refs \
         FROM pg_constraint c \
         WHERE c.connamespace = 'public'::regnamespace AND c.contype = 'f' \
         ORDER BY 1, 2",
    )
    .fetch_all(connection)
    .await
    .unwrap();
    rows.into_iter()
        .map(|row| {
            (
                row.get("tbl"),
                columns(row.get("cols")),
                columns(row.get("refs")),
            )
        })
        .collect()
}

#[tokio::test]
async fn every_tenant_key_and_foreign_key_leads_with_the_account() {
    let dir = tempfile::tempdir().unwrap();
    let db = test_database(dir.path()).await;
    let Database::Postgres(url) = &db else {
        eprintln!("needs CONVERRA_TEST_POSTGRES: the schema checked is PostgreSQL's");
        return;
    };
    // Opening the store applies every migration.
    Store::connect(&db, Durability::Normal).await.unwrap();
    let mut connection = sqlx::AnyConnection::connect(url).await.unwrap();

    let keys = unique_indexes(&mut connection).await;
    let tenant_keys: Vec<_> = keys
        .iter()
        .filter(|(table, _)| !REFERENCE_TABLES.contains(&table.as_str()))
        .collect();
    assert!(tenant_keys.len() >= 20, "{tenant_keys:?}");
    for (table, columns) in &tenant_keys {
        assert_eq!(
            columns.first().map(String::as_str),
            Some("account_id"),
            "a key of {table} ({columns:?}) does not lead with account_id"
        );
    }

    let foreign_keys = foreign_keys(&mut connection).await;
    let mut between_tenant_tables = 0;
    for (table, columns, references) in &foreign_keys {
        if columns == &["account_id"] && references == &["id"] {
            continue; // to `accounts`, a reference table
        }
        assert!(
            !REFERENCE_TABLES.contains(&table.as_str()),
            "{table}: {columns:?}"
        );
        between_tenant_tables += 1;
        assert_eq!(
            (
                columns.first().map(String::as_str),
                references.first().map(String::as_str)
            ),
            (Some("account_id"), Some("account_id")),
            "a foreign key of {table} ({columns:?} -> {references:?}) can cross accounts"
        );
    }
    assert!(between_tenant_tables >= 15, "{foreign_keys:?}");
}
