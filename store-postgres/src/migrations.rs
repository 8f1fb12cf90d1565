//! The store's tables, created and upgraded by the numbered SQL files in `migrations/`,
//! applied in order when the store opens and recorded in `schema_migrations`.
//!
//! Every node of a deployment opens the store, so the migrations run under a transaction-scoped
//! advisory lock: the first node applies them, the others wait and find them applied. A
//! database that records a version this build does not know was written by a newer build and
//! is refused, instead of misread.

use deadpool_postgres::ClientWrapper;

use crate::error::PgError;

/// One numbered SQL file.
#[derive(Debug)]
pub(crate) struct Migration {
    pub(crate) version: i64,
    pub(crate) name: &'static str,
    pub(crate) sql: &'static str,
}

/// Every migration, oldest first; a new one goes at the end with the next number, and an
/// applied one is never edited.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "documents",
        sql: include_str!("../migrations/0001_documents.sql"),
    },
    Migration {
        version: 2,
        name: "document scope and title",
        sql: include_str!("../migrations/0002_document_scope_and_title.sql"),
    },
    Migration {
        version: 3,
        name: "change sequence",
        sql: include_str!("../migrations/0003_change_sequence.sql"),
    },
    Migration {
        version: 4,
        name: "shared nodes",
        sql: include_str!("../migrations/0004_shared_nodes.sql"),
    },
];

/// The key of the advisory lock that serialises migrations across nodes ("itinera" in ASCII).
const MIGRATION_LOCK: i64 = 0x0069_7469_6e65_7261;

const VERSION_TABLE: &str = "
    CREATE TABLE IF NOT EXISTS schema_migrations (
        version    bigint PRIMARY KEY,
        name       text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
    )";

/// What the database held when the store opened it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SchemaVersion {
    /// The latest this build knows, applied now or before.
    Current,
    /// A version newer than this build's latest; nothing was changed.
    Newer { found: i64 },
}

/// The newest version this build knows.
pub(crate) fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |migration| migration.version)
}

/// Creates `schema` if given and missing, then applies the migrations the database lacks, in
/// one transaction.
pub(crate) async fn migrate(
    client: &mut ClientWrapper,
    schema: Option<&str>,
) -> Result<SchemaVersion, PgError> {
    let transaction = client.transaction().await?;
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    if let Some(schema) = schema {
        // The name was checked to be a plain identifier; identifiers cannot be parameters.
        transaction
            .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .await?;
    }
    transaction.batch_execute(VERSION_TABLE).await?;
    let applied: i64 = transaction
        .query_one(
            "SELECT coalesce(max(version), 0) FROM schema_migrations",
            &[],
        )
        .await?
        .try_get(0)?;
    if applied > latest() {
        // Dropping the transaction rolls it back.
        return Ok(SchemaVersion::Newer { found: applied });
    }
    for migration in MIGRATIONS.iter().filter(|m| m.version > applied) {
        transaction.batch_execute(migration.sql).await?;
        transaction
            .execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                &[&migration.version, &migration.name],
            )
            .await?;
    }
    transaction.commit().await?;
    Ok(SchemaVersion::Current)
}

/// Whether `name` is a schema name the store accepts: a plain lower-case identifier, so that
/// it needs no quoting in `search_path` or `CREATE SCHEMA`.
pub(crate) fn is_plain_identifier(name: &str) -> bool {
    let mut bytes = name.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|first| first.is_ascii_lowercase() || first == b'_');
    first_ok
        && name.len() <= 63
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_count_up_from_one_without_gaps() {
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version, index as i64 + 1, "{}", migration.name);
            assert!(!migration.sql.trim().is_empty(), "{}", migration.name);
        }
        assert_eq!(latest(), MIGRATIONS.len() as i64);
    }

    #[test]
    fn only_plain_identifiers_are_schema_names() {
        for good in ["tenant_a", "_x", "t1", &"a".repeat(63)] {
            assert!(is_plain_identifier(good), "{good}");
        }
        for bad in [
            "",
            "1t",
            "Tenant",
            "a-b",
            "a b",
            "a;drop",
            "é",
            &"a".repeat(64),
        ] {
            assert!(!is_plain_identifier(bad), "{bad}");
        }
    }
}
