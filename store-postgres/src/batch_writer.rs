//! A write batch as one PostgreSQL transaction: one statement per write, all sent at once with
//! the transaction's `BEGIN` and `COMMIT` (pipelined on the connection, executed in batch
//! order), so that a batch of a hundred writes costs one round trip rather than a hundred.

use deadpool_postgres::{ClientWrapper, Object};
use std::task::Poll;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use itinera_core::store::{DocumentMeta, WriteBatch, WriteOp};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Statement};

use crate::error::PgError;
use crate::meta_row::{column_size, heads_to_bytes};
use crate::notice_payload::Announcement;
use crate::sql;

/// Where a commit tells the other nodes what it wrote: the schema's channel and this node's
/// name in it.
#[derive(Debug, Clone)]
pub(crate) struct Announcer {
    pub(crate) channel: String,
    pub(crate) node: String,
}

/// The statements of the writes, prepared once per connection (the pool's cache keeps them).
struct WriteStatements {
    append: Statement,
    snapshot: Statement,
    update_meta: Statement,
    sync_state: Statement,
    delete_document: Statement,
    put_value: Statement,
    delete_value: Statement,
    replace_value: Statement,
}

impl WriteStatements {
    async fn prepare(client: &ClientWrapper) -> Result<Self, tokio_postgres::Error> {
        // Cached per connection: only a fresh connection waits for the server here.
        let append = client.prepare_cached(sql::APPEND_CHANGES).await?;
        let snapshot = client.prepare_cached(sql::PUT_SNAPSHOT).await?;
        let update_meta = client.prepare_cached(sql::UPDATE_META).await?;
        let sync_state = client.prepare_cached(sql::PUT_SYNC_STATE).await?;
        let delete_document = client.prepare_cached(sql::DELETE_DOCUMENT).await?;
        let put_value = client.prepare_cached(sql::PUT_VALUE).await?;
        let delete_value = client.prepare_cached(sql::DELETE_VALUE).await?;
        let replace_value = client.prepare_cached(sql::REPLACE_VALUE).await?;
        Ok(Self {
            append,
            snapshot,
            update_meta,
            sync_state,
            delete_document,
            put_value,
            delete_value,
            replace_value,
        })
    }
}

/// Commits `batch` in one transaction, after `setting` (a `SET LOCAL` of the durability):
/// `BEGIN`, the setting, the writes and `COMMIT` all go out at once, so that a commit costs
/// one round trip (and the flush). After a failed write PostgreSQL answers the `COMMIT` with a
/// rollback; after any failure a `ROLLBACK` follows anyway, so that no connection returns to
/// the pool inside a transaction.
///
/// The notifications that tell the other nodes what the batch wrote go in the same
/// transaction, after the writes: PostgreSQL delivers them at the commit, or never.
pub(crate) async fn commit(
    client: Object,
    batch: WriteBatch,
    setting: Option<&'static str>,
    announcer: Announcer,
) -> Result<(), PgError> {
    let statements = WriteStatements::prepare(&client).await?;
    let announcement = Announcement::of(&announcer.node, batch.operations());
    let notifications = if announcement.is_empty() {
        None
    } else {
        Some((
            client.prepare_cached(sql::NOTIFY_DOCUMENTS).await?,
            client.prepare_cached(sql::NOTIFY_VALUES).await?,
        ))
    };
    let mut requests: Vec<BoxFuture<'_, Result<(), tokio_postgres::Error>>> =
        Vec::with_capacity(batch.len() + 3);
    requests.push(client.batch_execute("BEGIN").boxed());
    if let Some(setting) = setting {
        requests.push(client.batch_execute(setting).boxed());
    }
    for operation in batch.into_operations() {
        requests.push(write(&client, &statements, operation).boxed());
    }
    if let Some((documents, values)) = &notifications {
        let (channel, node) = (&announcer.channel, &announcer.node);
        for lines in &announcement.documents {
            requests.push(notify(&client, documents, [channel, node, lines]).boxed());
        }
        for payload in &announcement.values {
            requests.push(notify(&client, values, [channel, payload]).boxed());
        }
    }
    requests.push(client.batch_execute("COMMIT").boxed());
    let outcome = pipeline(requests).await;
    if outcome.is_err() {
        // A broken connection fails this too, and the pool drops it.
        let _ = client.batch_execute("ROLLBACK").await;
    }
    Ok(outcome?)
}

/// One `pg_notify` of the transaction (its texts as parameters).
async fn notify<const N: usize>(
    client: &Client,
    statement: &Statement,
    texts: [&String; N],
) -> Result<(), tokio_postgres::Error> {
    let params: Vec<&(dyn ToSql + Sync)> = texts
        .iter()
        .map(|text| *text as &(dyn ToSql + Sync))
        .collect();
    client.execute(statement, &params).await.map(drop)
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
    client: &Client,
    statements: &WriteStatements,
    operation: WriteOp,
) -> Result<(), tokio_postgres::Error> {
    match operation {
        WriteOp::AppendChanges { doc, changes, meta } => {
            let heads = heads_to_bytes(&meta.heads);
            let len = column_size(changes.len());
            let id = doc.as_bytes().as_slice();
            let access = meta.scope.as_ref().map(DocumentMeta::encode_scope);
            client
                .execute(
                    &statements.append,
                    &[
                        &id,
                        &meta.kind,
                        &meta.creator,
                        &access,
                        &heads,
                        &len,
                        &meta.last_change_at,
                        &changes,
                        &meta.title,
                    ],
                )
                .await?;
        }
        WriteOp::UpdateMeta { doc, meta } => {
            let heads = heads_to_bytes(&meta.heads);
            let id = doc.as_bytes().as_slice();
            let access = meta.scope.as_ref().map(DocumentMeta::encode_scope);
            client
                .execute(
                    &statements.update_meta,
                    &[
                        &id,
                        &meta.kind,
                        &meta.creator,
                        &access,
                        &heads,
                        &meta.last_change_at,
                        &meta.title,
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
            let access = meta.scope.as_ref().map(DocumentMeta::encode_scope);
            client
                .execute(
                    &statements.snapshot,
                    &[
                        &id,
                        &meta.kind,
                        &meta.creator,
                        &access,
                        &heads,
                        &len,
                        &meta.last_change_at,
                        &snapshot,
                        &meta.title,
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
            client
                .execute(&statements.sync_state, &[&id, &storage_id, &state])
                .await?;
        }
        WriteOp::DeleteDocument { doc } => {
            let id = doc.as_bytes().as_slice();
            client.execute(&statements.delete_document, &[&id]).await?;
        }
        WriteOp::PutValue { key, value } => {
            client
                .execute(&statements.put_value, &[&key, &value])
                .await?;
        }
        WriteOp::DeleteValue { key } => {
            client.execute(&statements.delete_value, &[&key]).await?;
        }
        WriteOp::ReplaceValue {
            key,
            expected,
            value,
        } => {
            client
                .execute(&statements.replace_value, &[&key, &expected, &value])
                .await?;
        }
    }
    Ok(())
}
