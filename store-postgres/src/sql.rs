//! Every statement the store runs, in one place beside the tables they use
//! (`migrations/0001_documents.sql`).

/// The metadata columns of `documents`, in the order [`crate::meta_row`] reads them.
macro_rules! meta_columns {
    () => {
        "kind, creator, access, heads, snapshot_bytes, incremental_bytes, incremental_chunks, \
         last_change_at, title"
    };
}

/// Appends a chunk after the document's others, creating the document if needed: the
/// caller's metadata replaces the stored one, the sizes grow by the chunk. One statement, so
/// that the document's row lock orders concurrent appends (two nodes writing the same
/// document).
///
/// `$1` id, `$2` kind, `$3` creator, `$4` access (the encoded scope), `$5` heads, `$6` chunk
/// length, `$7` last change, `$8` the chunk, `$9` title.
pub(crate) const APPEND_CHANGES: &str = "
    WITH stamp AS (
        UPDATE change_counter SET last = last + 1 RETURNING last
    ), document AS (
        INSERT INTO documents AS d (id, kind, creator, access, heads, snapshot_bytes,
                                    incremental_bytes, incremental_chunks, last_change_at,
                                    next_chunk, title, change_seq)
        VALUES ($1, $2, $3, $4, $5, 0, $6, 1, $7, 1, $9, (SELECT last FROM stamp))
        ON CONFLICT (id) DO UPDATE SET
            change_seq = EXCLUDED.change_seq,
            kind = EXCLUDED.kind,
            creator = EXCLUDED.creator,
            access = EXCLUDED.access,
            title = EXCLUDED.title,
            heads = EXCLUDED.heads,
            last_change_at = EXCLUDED.last_change_at,
            incremental_bytes = d.incremental_bytes + EXCLUDED.incremental_bytes,
            incremental_chunks = d.incremental_chunks + 1,
            next_chunk = d.next_chunk + 1
        RETURNING d.next_chunk - 1 AS seq
    )
    INSERT INTO document_chunks (document_id, seq, bytes) SELECT $1, seq, $8 FROM document";

/// Replaces every chunk of the document by a snapshot, creating the document if needed. The
/// delete sees the chunks from before the statement, the snapshot takes a sequence number
/// never used, so both fit in one statement.
///
/// `$1` id, `$2` kind, `$3` creator, `$4` access (the encoded scope), `$5` heads, `$6` snapshot
/// length, `$7` last change, `$8` the snapshot, `$9` title.
pub(crate) const PUT_SNAPSHOT: &str = "
    WITH old AS (
        DELETE FROM document_chunks WHERE document_id = $1
    ), stamp AS (
        UPDATE change_counter SET last = last + 1 RETURNING last
    ), document AS (
        INSERT INTO documents AS d (id, kind, creator, access, heads, snapshot_bytes,
                                    incremental_bytes, incremental_chunks, last_change_at,
                                    next_chunk, title, change_seq)
        VALUES ($1, $2, $3, $4, $5, $6, 0, 0, $7, 1, $9, (SELECT last FROM stamp))
        ON CONFLICT (id) DO UPDATE SET
            change_seq = EXCLUDED.change_seq,
            kind = EXCLUDED.kind,
            creator = EXCLUDED.creator,
            access = EXCLUDED.access,
            title = EXCLUDED.title,
            heads = EXCLUDED.heads,
            last_change_at = EXCLUDED.last_change_at,
            snapshot_bytes = EXCLUDED.snapshot_bytes,
            incremental_bytes = 0,
            incremental_chunks = 0,
            next_chunk = d.next_chunk + 1
        RETURNING d.next_chunk - 1 AS seq
    )
    INSERT INTO document_chunks (document_id, seq, bytes) SELECT $1, seq, $8 FROM document";

/// Replaces the caller's metadata of a stored document (its chunks and sizes stay); a document
/// the store does not hold stays absent.
///
/// `$1` id, `$2` kind, `$3` creator, `$4` access, `$5` heads, `$6` last change, `$7` title.
pub(crate) const UPDATE_META: &str = "
    WITH stamp AS (
        UPDATE change_counter SET last = last + 1
        WHERE EXISTS (SELECT 1 FROM documents WHERE id = $1)
        RETURNING last
    )
    UPDATE documents SET kind = $2, creator = $3, access = $4, heads = $5, last_change_at = $6,
                         title = $7, change_seq = (SELECT last FROM stamp)
    WHERE id = $1";

/// `$1` id, `$2` storage id, `$3` state.
pub(crate) const PUT_SYNC_STATE: &str = "
    INSERT INTO sync_states (document_id, storage_id, state) VALUES ($1, $2, $3)
    ON CONFLICT (document_id, storage_id) DO UPDATE SET state = EXCLUDED.state";

/// The document, its chunks (by the foreign key's cascade) and its sync states. `$1` id.
pub(crate) const DELETE_DOCUMENT: &str = "
    WITH states AS (
        DELETE FROM sync_states WHERE document_id = $1
    )
    DELETE FROM documents WHERE id = $1";

/// `$1` key, `$2` value.
pub(crate) const PUT_VALUE: &str = "
    INSERT INTO key_values (key, value) VALUES ($1, $2)
    ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value";

/// `$1` key.
pub(crate) const DELETE_VALUE: &str = "DELETE FROM key_values WHERE key = $1";

/// `$1` id.
pub(crate) const LOAD: &str =
    "SELECT bytes FROM document_chunks WHERE document_id = $1 ORDER BY seq";

/// `$1` id.
pub(crate) const META: &str = concat!("SELECT ", meta_columns!(), " FROM documents WHERE id = $1");

/// The metadata columns, then the id.
pub(crate) const DOCUMENTS: &str = concat!(
    "SELECT ",
    meta_columns!(),
    ", id FROM documents ORDER BY id"
);

/// The metadata columns, then the id and the sequence number, of the documents written after
/// `$1`, oldest first, at most `$2`.
pub(crate) const CHANGES_SINCE: &str = concat!(
    "SELECT ",
    meta_columns!(),
    ", id, change_seq FROM documents WHERE change_seq > $1 ORDER BY change_seq LIMIT $2"
);

/// `$1` id, `$2` storage id.
pub(crate) const SYNC_STATE: &str =
    "SELECT state FROM sync_states WHERE document_id = $1 AND storage_id = $2";

/// `$1` key.
pub(crate) const VALUE: &str = "SELECT value FROM key_values WHERE key = $1";

/// `$1` the prefix, `$2` the first key past it.
pub(crate) const VALUES_BETWEEN: &str =
    "SELECT key, value FROM key_values WHERE key >= $1 AND key < $2 ORDER BY key";

/// `$1` the prefix, when no key can be past every key that starts with it.
pub(crate) const VALUES_FROM: &str =
    "SELECT key, value FROM key_values WHERE key >= $1 ORDER BY key";

/// Compaction, first step: the metadata and every chunk with its sequence number, read in one
/// repeatable-read transaction. `$1` id.
pub(crate) const COMPACTION_CHUNKS: &str =
    "SELECT seq, bytes FROM document_chunks WHERE document_id = $1 ORDER BY seq";

/// Compaction, second step: holds the document's row, so that no append or snapshot comes
/// between the check and the swap. `$1` id.
pub(crate) const LOCK_DOCUMENT: &str = "SELECT 1 FROM documents WHERE id = $1 FOR UPDATE";

/// The chunks as they are now, without their bytes. `$1` id.
pub(crate) const CHUNK_SIZES: &str = "
    SELECT seq, octet_length(bytes)::bigint FROM document_chunks
    WHERE document_id = $1 ORDER BY seq";

/// `$1` id, `$2` the last folded sequence number.
pub(crate) const DELETE_FOLDED: &str =
    "DELETE FROM document_chunks WHERE document_id = $1 AND seq <= $2";

/// `$1` id, `$2` sequence number, `$3` the snapshot.
pub(crate) const INSERT_CHUNK: &str =
    "INSERT INTO document_chunks (document_id, seq, bytes) VALUES ($1, $2, $3)";

/// `$1` id, `$2` snapshot bytes, `$3` incremental bytes, `$4` incremental chunks.
pub(crate) const SET_SIZES: &str = "
    UPDATE documents
    SET snapshot_bytes = $2, incremental_bytes = $3, incremental_chunks = $4
    WHERE id = $1";

/// What a durable commit sets when the database's default would not wait for the flush.
pub(crate) const SYNCHRONOUS_COMMIT_ON: &str = "SET LOCAL synchronous_commit = on";

/// What a relaxed commit sets: PostgreSQL answers before its write-ahead log reaches the disk;
/// a crash of the database (not of the node) loses the last moments of relaxed commits, never
/// part of one.
pub(crate) const SYNCHRONOUS_COMMIT_OFF: &str = "SET LOCAL synchronous_commit = off";

/// Compaction, first step: whether the document is a single snapshot already. `$1` id.
pub(crate) const INCREMENTAL_CHUNKS: &str =
    "SELECT incremental_chunks FROM documents WHERE id = $1";

/// A compare-and-set of one value (`migrations/0004_shared_nodes.sql`): fails the transaction
/// with SQLSTATE `IT409` unless the key holds `$2` (`NULL`: no value). `$1` key, `$2` the
/// expected value, `$3` the new value.
pub(crate) const REPLACE_VALUE: &str = "SELECT itinera_replace_value($1, $2, $3)";

/// The SQLSTATE [`REPLACE_VALUE`] fails with; the error's message is the key.
pub(crate) const VALUE_CHANGED: &str = "IT409";

/// Tells the other nodes which documents this transaction wrote, with the change sequence it
/// reached (it holds the counter's row lock, so the number is its own). Delivered at the
/// commit, or never. `$1` channel, `$2` node, `$3` the document lines.
pub(crate) const NOTIFY_DOCUMENTS: &str = "
    SELECT pg_notify($1::text,
                     'd ' || $2::text || ' ' || (SELECT last FROM change_counter)::text || $3::text)";

/// Tells the other nodes which users and tokens this transaction wrote. `$1` channel, `$2` the
/// payload.
pub(crate) const NOTIFY_VALUES: &str = "SELECT pg_notify($1::text, $2::text)";

/// The channel of this schema's notifications: channels are per database, and several stores
/// (tenants, tests) may share one.
pub(crate) const CHANNEL: &str = "SELECT 'itinera_' || md5(current_schema())";

/// The change sequence now.
pub(crate) const LAST_CHANGE: &str = "SELECT last FROM change_counter";

/// Takes the leader's lock of this schema if it is free, for as long as the connection lives.
pub(crate) const TRY_LEAD: &str =
    "SELECT pg_try_advisory_lock(hashtext('itinera-leader'), hashtext(current_schema()))";

/// The leader's new term, one more than the last leader's. `$1` the term's key.
pub(crate) const NEXT_TERM: &str = "
    INSERT INTO key_values (key, value) VALUES ($1, '1')
    ON CONFLICT (key) DO UPDATE
        SET value = convert_to((convert_from(key_values.value, 'UTF8')::bigint + 1)::text, 'UTF8')
    RETURNING value";
