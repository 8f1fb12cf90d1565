//! What the store learns from the database when it opens: that text is UTF-8, and whether a
//! durable commit has to ask for the flush itself.

use deadpool_postgres::ClientWrapper;

use crate::error::PgError;
use crate::sql;

/// The database's settings as they concern the store.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    /// What a durable commit sets first: nothing when the database's default already waits
    /// for the write-ahead log's flush (`on`, `local`, `remote_write`, `remote_apply`, the
    /// latter two waiting for standbys too), `synchronous_commit = on` when it is `off`.
    pub(crate) immediate: Option<&'static str>,
}

pub(crate) async fn read(client: &ClientWrapper) -> Result<Settings, PgError> {
    let row = client
        .query_one(
            "SELECT current_setting('server_encoding'), current_setting('synchronous_commit'), \
             current_setting('fsync')",
            &[],
        )
        .await?;
    let encoding: String = row.try_get(0)?;
    if encoding != "UTF8" {
        return Err(PgError::Encoding(encoding));
    }
    let synchronous_commit: String = row.try_get(1)?;
    let fsync: String = row.try_get(2)?;
    if fsync == "off" {
        tracing::warn!(
            "PostgreSQL runs with fsync off: a crash of the database server can lose \
             acknowledged changes"
        );
    }
    Ok(Settings {
        immediate: (synchronous_commit == "off").then_some(sql::SYNCHRONOUS_COMMIT_ON),
    })
}
