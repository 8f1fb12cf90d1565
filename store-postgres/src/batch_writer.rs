//! A write batch as one PostgreSQL transaction: one statement per write, all sent at once
//! (pipelined on the connection, executed in batch order), then one commit, so that a batch of
//! a hundred writes costs a few round trips rather than a hundred.

use deadpool_postgres::{ClientWrapper, Object};
use std::task::Poll;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use itinera_core::store::{WriteBatch, WriteOp};
use tokio_postgres::{Statement, Transaction};

use crate::error::PgError;
use crate::meta_row::{column_size, heads_to_bytes};
use crate::sql;

/// The statements of the writes, prepared once per connection (the pool's cache keeps them).
struct WriteStatements {
    append: Statement,
    snapshot: Statement,
    sync_state: Statement,
    delete_document: Statement,
    put_value: Statement,
    delete_value: Statement,
}

impl WriteStatements {
    async fn prepare(client: &ClientWrapper) -> Result<Self, tokio_postgres::Error> {
        // Cached per connection: only a fresh connection waits for the server here.
        let append = client.prepare_cached(sql::APPEND_CHANGES).await?;
        let snapshot = client.prepare_cached(sql::PUT_SNAPSHOT).await?;
        let sync_state = client.prepare_cached(sql::PUT_SYNC_STATE).await?;
        let delete_document = client.prepare_cached(sql::DELETE_DOCUMENT).await?;
        let put_value = client.prepare_cached(sql::PUT_VALUE).await?;
        let delete_value = client.prepare_cached(sql::DELETE_VALUE).await?;
        Ok(Self {
            append,
            snapshot,
            sync_state,
            delete_document,
            put_value,
            delete_value,
        })
    }
}

/// Commits `batch` in one transaction, after `setting` (a `SET LOCAL` of the durability).
/// Any failure drops the transaction, which rolls it back whole.
pub(crate) async fn commit(
    mut client: Object,
    batch: WriteBatch,
    setting: Option<&'static str>,
) -> Result<(), PgError> {
    let statements = WriteStatements::prepare(&client).await?;
    let transaction = client.transaction().await?;
    let mut writes: Vec<BoxFuture<'_, Result<(), tokio_postgres::Error>>> =
        Vec::with_capacity(batch.len() + 1);
    if let Some(setting) = setting {
        writes.push(transaction.batch_execute(setting).boxed());
    }
    for operation in batch.into_operations() {
        writes.push(write(&transaction, &statements, operation).boxed());
    }
    pipeline(writes).await?;
    transaction.commit().await?;
    Ok(())
}

/// Sends every request before waiting for any answer, in order, then waits for the answers in
/// order. A tokio-postgres request goes out when its future is first polled, and PostgreSQL
/// runs a connection's requests in the order received: so the writes run in batch order, and
/// after a failure (which makes the rest fail with "transaction is aborted") the first error
/// is the one returned.
async fn pipeline(
    writes: Vec<BoxFuture<'_, Result<(), tokio_postgres::Error>>>,
) -> Result<(), tokio_postgres::Error> {
    let mut sent = Vec::with_capacity(writes.len());
    for mut write in writes {
        let first_poll = std::future::poll_fn(|cx| Poll::Ready(write.as_mut().poll(cx))).await;
        match first_poll {
            Poll::Ready(outcome) => outcome?,
            Poll::Pending => sent.push(write),
        }
    }
    for write in sent {
        write.await?;
    }
    Ok(())
}

async fn write(
    transaction: &Transaction<'_>,
    statements: &WriteStatements,
    operation: WriteOp,
) -> Result<(), tokio_postgres::Error> {
    match operation {
        WriteOp::AppendChanges { doc, changes, meta } => {
            let heads = heads_to_bytes(&meta.heads);
            let len = column_size(changes.len());
            let id = doc.as_bytes().as_slice();
            transaction
                .execute(
                    &statements.append,
                    &[
                        &id,
                        &meta.kind,
                        &meta.owner,
                        &meta.scope,
                        &heads,
                        &len,
                        &meta.last_change_at,
                        &changes,
                    ],
                )
                .await?;
        }
        WriteOp::PutSnapshot {
            doc,
            snapshot,
            meta,
        } => {
            let heads = heads_to_bytes(&meta.heads);
            let len = column_size(snapshot.len());
            let id = doc.as_bytes().as_slice();
            transaction
                .execute(
                    &statements.snapshot,
                    &[
                        &id,
                        &meta.kind,
                        &meta.owner,
                        &meta.scope,
                        &heads,
                        &len,
                        &meta.last_change_at,
                        &snapshot,
                    ],
                )
                .await?;
        }
        WriteOp::PutSyncState {
            doc,
            storage_id,
            state,
        } => {
            let id = doc.as_bytes().as_slice();
            transaction
                .execute(&statements.sync_state, &[&id, &storage_id, &state])
                .await?;
        }
        WriteOp::DeleteDocument { doc } => {
            let id = doc.as_bytes().as_slice();
            transaction
                .execute(&statements.delete_document, &[&id])
                .await?;
        }
        WriteOp::PutValue { key, value } => {
            transaction
                .execute(&statements.put_value, &[&key, &value])
                .await?;
        }
        WriteOp::DeleteValue { key } => {
            transaction
                .execute(&statements.delete_value, &[&key])
                .await?;
        }
    }
    Ok(())
}
