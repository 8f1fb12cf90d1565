//! Backups of the store: every table copied inside one read transaction into a byte stream, and
//! a new store file rebuilt from such a stream.
//!
//! A read transaction sees one commit and never blocks the writer, so a backup of a running
//! server is consistent (exactly the changes committed when it began) while the server goes on
//! committing. The stream is written front to back, so it can go to a file, a pipe or an HTTP
//! response; it ends with a record count and a SHA-256 of everything before it, so that a
//! truncated or damaged backup is refused at restore instead of restoring part of a store.
//!
//! Stream layout (format 1), integers big-endian:
//!
//! ```text
//! "ITINERA-BACKUP\n\0"  u32 format  u64 layout
//! { u8 table  u32 key length  key  u32 value length  value }*
//! u8 0  u64 record count  [32] SHA-256 of every byte before this digest
//! ```
//!
//! ```
//! use itinera_core::store::{DocumentStore, Durability, RedbStore, WriteBatch};
//!
//! let store = RedbStore::in_memory()?;
//! let mut batch = WriteBatch::new();
//! batch.put_value("user:ana", b"{}".to_vec());
//! store.commit(batch, Durability::Immediate)?;
//!
//! let mut stream = Vec::new();
//! let written = store.backup(&mut stream)?;
//! let folder = std::env::temp_dir().join(format!("itinera-backup-doc-{}", std::process::id()));
//! let path = folder.join("restored.redb");
//! # let _ = std::fs::remove_dir_all(&folder);
//! std::fs::create_dir_all(&folder)?;
//! let restored = RedbStore::restore(&mut stream.as_slice(), &path)?;
//! assert_eq!(restored.records, written.records);
//! let store = RedbStore::open(&path)?;
//! assert_eq!(store.value("user:ana")?, Some(b"{}".to_vec()));
//! # drop(store);
//! # std::fs::remove_dir_all(&folder)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::{Read, Write};
use std::path::Path;

use redb::{
    Database, ReadTransaction, ReadableDatabase, ReadableTable, TableHandle, WriteTransaction,
};
use sha2::{Digest, Sha256};

use crate::store::error::During;
use crate::store::layout::{LAYOUT, LAYOUT_HISTORY, LAYOUT_KEY};
use crate::store::tables::{
    CHANGE_OF_DOCUMENT, CHANGES, CHUNK_KEY_LEN, CHUNKS, METAS, STORE_INFO, SYNC_STATES, VALUES,
};
use crate::store::{RedbStore, StoreError, StoreOperation, StoreResult};

/// The backup stream format this build writes and the newest it restores.
pub const FORMAT: u32 = 1;

const MAGIC: &[u8; 16] = b"ITINERA-BACKUP\n\0";
const END: u8 = 0;
/// A restore commits every this many bytes, so that a large store does not sit in one
/// transaction's memory.
const RESTORE_BATCH_BYTES: usize = 64 * 1024 * 1024;
/// Longer keys are not Itinera's: the stream is damaged.
const MAX_KEY_LEN: u32 = 1024 * 1024;

/// The tables of the store, each with the tag that marks its records in the stream. A table of
/// the file missing here makes a backup fail rather than leave it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    StoreInfo = 1,
    LayoutHistory = 2,
    Chunks = 3,
    Metas = 4,
    SyncStates = 5,
    Values = 6,
    Changes = 7,
    ChangeOfDocument = 8,
}

impl Table {
    const ALL: [Self; 8] = [
        Self::StoreInfo,
        Self::LayoutHistory,
        Self::Chunks,
        Self::Metas,
        Self::SyncStates,
        Self::Values,
        Self::Changes,
        Self::ChangeOfDocument,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::StoreInfo => STORE_INFO.name(),
            Self::LayoutHistory => LAYOUT_HISTORY.name(),
            Self::Chunks => CHUNKS.name(),
            Self::Metas => METAS.name(),
            Self::SyncStates => SYNC_STATES.name(),
            Self::Values => VALUES.name(),
            Self::Changes => CHANGES.name(),
            Self::ChangeOfDocument => CHANGE_OF_DOCUMENT.name(),
        }
    }

    fn from_tag(tag: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|table| *table as u8 == tag)
    }
}

use crate::store::BackupReport;

impl RedbStore {
    /// Writes every table of the store, as of one commit, to `out`. The store goes on
    /// committing meanwhile; nothing committed after the backup began is in it.
    pub fn backup(&self, out: &mut dyn Write) -> StoreResult<BackupReport> {
        self.with_database(|database| {
            let read = database.begin_read().during(StoreOperation::Backup)?;
            check_tables(&read)?;
            let mut out = Hashing::new(out);
            let report = write_tables(&read, &mut out)?;
            out.finish(report.records)?;
            Ok(BackupReport {
                bytes: out.bytes,
                ..report
            })
        })
    }

    /// Builds a new store file at `path` from a backup stream; refuses if `path` exists.
    ///
    /// Nothing is left at `path` unless the whole stream was read and its digest matched. The
    /// file keeps the layout of the backup: opening it with [`RedbStore::open`] migrates it.
    pub fn restore(input: &mut dyn Read, path: &Path) -> StoreResult<BackupReport> {
        if path.exists() {
            return Err(StoreError::BackupIo {
                operation: StoreOperation::Restore,
                source: std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    format!("{} exists; restore into a new file", path.display()),
                ),
            });
        }
        let result = restore_into(input, path);
        if result.is_err() {
            let _ = std::fs::remove_file(path);
        }
        result
    }
}

/// Reads a whole backup stream and checks its record count and digest without restoring it:
/// what a backup tool runs on a download before keeping it.
pub fn verify(input: &mut dyn Read) -> StoreResult<BackupReport> {
    let mut input = Unhashing::new(input);
    let layout = read_header(&mut input)?;
    let mut records = 0u64;
    loop {
        let tag: [u8; 1] = input.array()?;
        if tag[0] == END {
            break;
        }
        Table::from_tag(tag[0])
            .ok_or_else(|| StoreError::BadBackup(format!("unknown table tag {}", tag[0])))?;
        input.field(MAX_KEY_LEN)?;
        input.field(u32::MAX)?;
        records += 1;
    }
    let counted = u64::from_be_bytes(input.array()?);
    input.verify(counted, records)?;
    Ok(BackupReport {
        layout,
        records,
        bytes: input.bytes,
    })
}

/// Reads the stream's header; returns the layout of the store it holds.
fn read_header(input: &mut Unhashing<'_>) -> StoreResult<u64> {
    let magic: [u8; 16] = input.array()?;
    if &magic != MAGIC {
        return Err(StoreError::BadBackup("not an Itinera backup".into()));
    }
    let format = u32::from_be_bytes(input.array()?);
    if format > FORMAT {
        return Err(StoreError::BadBackup(format!(
            "written in backup format {format} by a newer build; this build reads format {FORMAT}"
        )));
    }
    let layout = u64::from_be_bytes(input.array()?);
    if layout > LAYOUT {
        return Err(StoreError::UnsupportedLayout {
            found: layout,
            supported: LAYOUT,
        });
    }
    Ok(layout)
}

/// Refuses a file with a table this build would not copy.
fn check_tables(read: &ReadTransaction) -> StoreResult<()> {
    for table in read.list_tables().during(StoreOperation::Backup)? {
        if !Table::ALL.iter().any(|known| known.name() == table.name()) {
            return Err(StoreError::BadBackup(format!(
                "table {:?} is unknown to this build, which would leave it out",
                table.name()
            )));
        }
    }
    if read
        .list_multimap_tables()
        .during(StoreOperation::Backup)?
        .next()
        .is_some()
    {
        return Err(StoreError::BadBackup(
            "the store has a multimap table, unknown to this build".into(),
        ));
    }
    Ok(())
}

fn write_tables(read: &ReadTransaction, out: &mut Hashing<'_>) -> StoreResult<BackupReport> {
    let during = StoreOperation::Backup;
    let info = read.open_table(STORE_INFO).during(during)?;
    let layout = info
        .get(LAYOUT_KEY)
        .during(during)?
        .map_or(1, |layout| layout.value());
    out.put(MAGIC)?;
    out.put(&FORMAT.to_be_bytes())?;
    out.put(&layout.to_be_bytes())?;
    let mut records = 0u64;
    for entry in info.iter().during(during)? {
        let (key, value) = entry.during(during)?;
        out.record(
            Table::StoreInfo,
            key.value().as_bytes(),
            &value.value().to_be_bytes(),
        )?;
        records += 1;
    }
    if let Ok(history) = read.open_table(LAYOUT_HISTORY) {
        for entry in history.iter().during(during)? {
            let (key, value) = entry.during(during)?;
            out.record(
                Table::LayoutHistory,
                &key.value().to_be_bytes(),
                value.value().as_bytes(),
            )?;
            records += 1;
        }
    }
    for entry in read
        .open_table(CHUNKS)
        .during(during)?
        .iter()
        .during(during)?
    {
        let (key, value) = entry.during(during)?;
        out.record(Table::Chunks, key.value(), value.value())?;
        records += 1;
    }
    for entry in read
        .open_table(METAS)
        .during(during)?
        .iter()
        .during(during)?
    {
        let (key, value) = entry.during(during)?;
        out.record(Table::Metas, key.value(), value.value())?;
        records += 1;
    }
    for entry in read
        .open_table(SYNC_STATES)
        .during(during)?
        .iter()
        .during(during)?
    {
        let (key, value) = entry.during(during)?;
        out.record(Table::SyncStates, key.value(), value.value())?;
        records += 1;
    }
    for entry in read
        .open_table(VALUES)
        .during(during)?
        .iter()
        .during(during)?
    {
        let (key, value) = entry.during(during)?;
        out.record(Table::Values, key.value().as_bytes(), value.value())?;
        records += 1;
    }
    // A store of layout 3 or older has no change sequence yet.
    if let Ok(changes) = read.open_table(CHANGES) {
        for entry in changes.iter().during(during)? {
            let (key, value) = entry.during(during)?;
            out.record(Table::Changes, &key.value().to_be_bytes(), value.value())?;
            records += 1;
        }
    }
    if let Ok(change_of_document) = read.open_table(CHANGE_OF_DOCUMENT) {
        for entry in change_of_document.iter().during(during)? {
            let (key, value) = entry.during(during)?;
            out.record(
                Table::ChangeOfDocument,
                key.value(),
                &value.value().to_be_bytes(),
            )?;
            records += 1;
        }
    }
    Ok(BackupReport {
        layout,
        records,
        bytes: 0,
    })
}

fn restore_into(input: &mut dyn Read, path: &Path) -> StoreResult<BackupReport> {
    let mut input = Unhashing::new(input);
    let layout = read_header(&mut input)?;
    let database = redb::Builder::new()
        .create(path)
        .map_err(|error| StoreError::from_redb(StoreOperation::Restore, error))?;
    create_tables(&database)?;
    let records = restore_records(&database, &mut input)?;
    database
        .close()
        .map_err(|error| StoreError::from_redb(StoreOperation::Restore, error))?;
    Ok(BackupReport {
        layout,
        records,
        bytes: input.bytes,
    })
}

/// Creates every table, so that those the backup holds no entry of exist too.
fn create_tables(database: &Database) -> StoreResult<()> {
    let during = StoreOperation::Restore;
    let write = database.begin_write().during(during)?;
    write.open_table(STORE_INFO).during(during)?;
    write.open_table(LAYOUT_HISTORY).during(during)?;
    write.open_table(CHUNKS).during(during)?;
    write.open_table(METAS).during(during)?;
    write.open_table(SYNC_STATES).during(during)?;
    write.open_table(VALUES).during(during)?;
    write.open_table(CHANGES).during(during)?;
    // CHANGE_OF_DOCUMENT is layout 4's only: a stream of that layout brings its records, and
    // the open after the restore migrates it.
    write.commit().during(during)
}

/// Reads records into write transactions of about [`RESTORE_BATCH_BYTES`]; the last one,
/// committed only once the digest matched, makes every earlier one durable.
fn restore_records(database: &Database, input: &mut Unhashing<'_>) -> StoreResult<u64> {
    let during = StoreOperation::Restore;
    let mut records = 0u64;
    loop {
        let mut write = database.begin_write().during(during)?;
        write
            .set_durability(redb::Durability::None)
            .during(during)?;
        let mut batch_bytes = 0usize;
        let ended = loop {
            let tag: [u8; 1] = input.array()?;
            if tag[0] == END {
                break true;
            }
            let table = Table::from_tag(tag[0])
                .ok_or_else(|| StoreError::BadBackup(format!("unknown table tag {}", tag[0])))?;
            let key = input.field(MAX_KEY_LEN)?;
            let value = input.field(u32::MAX)?;
            batch_bytes += key.len() + value.len();
            insert(&write, table, &key, &value)?;
            records += 1;
            if batch_bytes >= RESTORE_BATCH_BYTES {
                break false;
            }
        };
        if ended {
            let counted = u64::from_be_bytes(input.array()?);
            input.verify(counted, records)?;
            write
                .set_durability(redb::Durability::Immediate)
                .during(during)?;
            write.commit().during(during)?;
            return Ok(records);
        }
        write.commit().during(during)?;
    }
}

fn insert(write: &WriteTransaction, table: Table, key: &[u8], value: &[u8]) -> StoreResult<()> {
    let during = StoreOperation::Restore;
    let bad = |what: &str| StoreError::BadBackup(format!("a {what} record is malformed"));
    match table {
        Table::StoreInfo => {
            let key = std::str::from_utf8(key).map_err(|_| bad("store_info"))?;
            let value = u64::from_be_bytes(value.try_into().map_err(|_| bad("store_info"))?);
            write
                .open_table(STORE_INFO)
                .during(during)?
                .insert(key, value)
                .during(during)?;
        }
        Table::LayoutHistory => {
            let key = u64::from_be_bytes(key.try_into().map_err(|_| bad("layout_history"))?);
            let value = std::str::from_utf8(value).map_err(|_| bad("layout_history"))?;
            write
                .open_table(LAYOUT_HISTORY)
                .during(during)?
                .insert(key, value)
                .during(during)?;
        }
        Table::Chunks => {
            let key: &[u8; CHUNK_KEY_LEN] = key.try_into().map_err(|_| bad("chunk"))?;
            write
                .open_table(CHUNKS)
                .during(during)?
                .insert(key, value)
                .during(during)?;
        }
        Table::Metas => {
            let key: &[u8; 16] = key.try_into().map_err(|_| bad("metadata"))?;
            write
                .open_table(METAS)
                .during(during)?
                .insert(key, value)
                .during(during)?;
        }
        Table::SyncStates => {
            write
                .open_table(SYNC_STATES)
                .during(during)?
                .insert(key, value)
                .during(during)?;
        }
        Table::Values => {
            let key = std::str::from_utf8(key).map_err(|_| bad("value"))?;
            write
                .open_table(VALUES)
                .during(during)?
                .insert(key, value)
                .during(during)?;
        }
        Table::Changes => {
            let key = u64::from_be_bytes(key.try_into().map_err(|_| bad("change"))?);
            let value: &[u8; 16] = value.try_into().map_err(|_| bad("change"))?;
            write
                .open_table(CHANGES)
                .during(during)?
                .insert(key, value)
                .during(during)?;
        }
        Table::ChangeOfDocument => {
            let key: &[u8; 16] = key.try_into().map_err(|_| bad("change of document"))?;
            let value =
                u64::from_be_bytes(value.try_into().map_err(|_| bad("change of document"))?);
            write
                .open_table(CHANGE_OF_DOCUMENT)
                .during(during)?
                .insert(key, value)
                .during(during)?;
        }
    }
    Ok(())
}

/// A writer that hashes and counts what it writes.
struct Hashing<'a> {
    out: &'a mut dyn Write,
    digest: Sha256,
    bytes: u64,
}

impl<'a> Hashing<'a> {
    fn new(out: &'a mut dyn Write) -> Self {
        Self {
            out,
            digest: Sha256::new(),
            bytes: 0,
        }
    }

    fn put(&mut self, bytes: &[u8]) -> StoreResult<()> {
        self.digest.update(bytes);
        self.bytes += bytes.len() as u64;
        self.out.write_all(bytes).map_err(backup_io)
    }

    fn record(&mut self, table: Table, key: &[u8], value: &[u8]) -> StoreResult<()> {
        self.put(&[table as u8])?;
        for field in [key, value] {
            let len = u32::try_from(field.len())
                .map_err(|_| StoreError::BadBackup("a value is larger than 4 GiB".into()))?;
            self.put(&len.to_be_bytes())?;
            self.put(field)?;
        }
        Ok(())
    }

    fn finish(&mut self, records: u64) -> StoreResult<()> {
        self.put(&[END])?;
        self.put(&records.to_be_bytes())?;
        let digest = self.digest.clone().finalize();
        self.bytes += digest.len() as u64;
        self.out.write_all(&digest).map_err(backup_io)?;
        self.out.flush().map_err(backup_io)
    }
}

fn backup_io(source: std::io::Error) -> StoreError {
    StoreError::BackupIo {
        operation: StoreOperation::Backup,
        source,
    }
}

/// A reader that hashes and counts what it reads, and tells a truncated stream from a
/// failing one.
struct Unhashing<'a> {
    input: &'a mut dyn Read,
    digest: Sha256,
    bytes: u64,
}

impl<'a> Unhashing<'a> {
    fn new(input: &'a mut dyn Read) -> Self {
        Self {
            input,
            digest: Sha256::new(),
            bytes: 0,
        }
    }

    fn fill(&mut self, buffer: &mut [u8]) -> StoreResult<()> {
        self.input
            .read_exact(buffer)
            .map_err(|source| match source.kind() {
                std::io::ErrorKind::UnexpectedEof => {
                    StoreError::BadBackup("the backup ends early: it is incomplete".into())
                }
                _ => StoreError::BackupIo {
                    operation: StoreOperation::Restore,
                    source,
                },
            })?;
        self.digest.update(&*buffer);
        self.bytes += buffer.len() as u64;
        Ok(())
    }

    fn array<const N: usize>(&mut self) -> StoreResult<[u8; N]> {
        let mut bytes = [0u8; N];
        self.fill(&mut bytes)?;
        Ok(bytes)
    }

    /// A length-prefixed field of at most `max` bytes. The buffer grows as bytes arrive, so a
    /// damaged length cannot make it allocate more than the stream holds.
    fn field(&mut self, max: u32) -> StoreResult<Vec<u8>> {
        let len = u32::from_be_bytes(self.array()?);
        if len > max {
            return Err(StoreError::BadBackup(format!("a field of {len} bytes")));
        }
        let mut bytes = Vec::new();
        let read = (&mut *self.input)
            .take(u64::from(len))
            .read_to_end(&mut bytes)
            .map_err(|source| StoreError::BackupIo {
                operation: StoreOperation::Restore,
                source,
            })?;
        if read != len as usize {
            return Err(StoreError::BadBackup(
                "the backup ends early: it is incomplete".into(),
            ));
        }
        self.digest.update(&bytes);
        self.bytes += bytes.len() as u64;
        Ok(bytes)
    }

    /// Checks the record count and the digest that end the stream.
    fn verify(&mut self, counted: u64, records: u64) -> StoreResult<()> {
        let expected = self.digest.clone().finalize();
        let mut found = [0u8; 32];
        self.input
            .read_exact(&mut found)
            .map_err(|_| StoreError::BadBackup("the backup ends before its digest".into()))?;
        self.bytes += found.len() as u64;
        if counted != records {
            return Err(StoreError::BadBackup(format!(
                "it says {counted} records but holds {records}"
            )));
        }
        if expected.as_slice() != found {
            return Err(StoreError::BadBackup(
                "its SHA-256 does not match: the file is damaged".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use automerge::AutoCommit;

    use super::*;
    use crate::DocumentId;
    use crate::store::{DocumentMeta, DocumentStore, Durability, WriteBatch};

    fn folder(name: &str) -> std::path::PathBuf {
        let folder =
            std::env::temp_dir().join(format!("itinera-core-backup-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).expect("folder");
        folder
    }

    fn filled_store() -> (RedbStore, DocumentId) {
        let store = RedbStore::in_memory().expect("store");
        let doc = DocumentId::from_bytes([3; 16]);
        let mut batch = WriteBatch::new();
        batch.put_snapshot(doc, AutoCommit::new().save(), DocumentMeta::default());
        batch.put_sync_state(doc, "phone", [1, 2, 3]);
        batch.put_value("user:ana", b"{\"name\":\"ana\"}".to_vec());
        store.commit(batch, Durability::Immediate).expect("commit");
        (store, doc)
    }

    #[test]
    fn a_backup_restores_every_table() {
        let (store, doc) = filled_store();
        let mut stream = Vec::new();
        let written = store.backup(&mut stream).expect("backup");
        assert_eq!(written.bytes, stream.len() as u64);
        assert_eq!(written.layout, LAYOUT);

        let folder = folder("every-table");
        let path = folder.join("restored.redb");
        let read = RedbStore::restore(&mut stream.as_slice(), &path).expect("restore");
        assert_eq!(read, written);
        let restored = RedbStore::open(&path).expect("open");
        assert_eq!(
            restored.load(doc).expect("load"),
            store.load(doc).expect("load")
        );
        assert_eq!(
            restored.meta(doc).expect("meta"),
            store.meta(doc).expect("meta")
        );
        assert_eq!(
            restored.sync_state(doc, "phone").expect("state"),
            Some(vec![1, 2, 3])
        );
        assert_eq!(
            restored.value("user:ana").expect("value"),
            store.value("user:ana").expect("value")
        );
        assert_eq!(
            restored.layout_history().expect("history"),
            store.layout_history().expect("history")
        );
        drop(restored);
        let _ = std::fs::remove_dir_all(folder);
    }

    #[test]
    fn a_backup_of_an_empty_store_restores_a_usable_store() {
        let store = RedbStore::in_memory().expect("store");
        let mut stream = Vec::new();
        store.backup(&mut stream).expect("backup");
        let folder = folder("empty");
        let path = folder.join("restored.redb");
        RedbStore::restore(&mut stream.as_slice(), &path).expect("restore");
        let restored = RedbStore::open(&path).expect("open");
        assert!(restored.documents().expect("list").is_empty());
        assert_eq!(restored.value("any").expect("value"), None);
        drop(restored);
        let _ = std::fs::remove_dir_all(folder);
    }

    #[test]
    fn a_damaged_or_truncated_backup_leaves_nothing_behind() {
        let (store, _) = filled_store();
        let mut stream = Vec::new();
        store.backup(&mut stream).expect("backup");
        let folder = folder("damaged");
        let path = folder.join("restored.redb");

        let truncated = &stream[..stream.len() - 40];
        let error = RedbStore::restore(&mut &truncated[..], &path).expect_err("truncated");
        assert!(error.to_string().contains("incomplete"), "{error}");
        assert!(!path.exists());

        assert!(verify(&mut &truncated[..]).is_err());
        assert_eq!(
            verify(&mut stream.as_slice()).expect("verify").bytes,
            stream.len() as u64
        );

        let mut flipped = stream.clone();
        let middle = flipped.len() / 2;
        flipped[middle] ^= 0x40;
        assert!(verify(&mut flipped.as_slice()).is_err());
        let error = RedbStore::restore(&mut flipped.as_slice(), &path).expect_err("damaged");
        assert!(matches!(error, StoreError::BadBackup(_)), "{error}");
        assert!(!path.exists());

        let error = RedbStore::restore(&mut &b"hello"[..], &path).expect_err("not a backup");
        assert!(matches!(error, StoreError::BadBackup(_)), "{error}");
        assert!(!path.exists());

        std::fs::write(&path, b"").expect("an existing file");
        let error = RedbStore::restore(&mut stream.as_slice(), &path).expect_err("exists");
        assert!(error.to_string().contains("exists"), "{error}");
        let _ = std::fs::remove_dir_all(folder);
    }

    #[test]
    fn a_backup_sees_one_commit() {
        let (store, _) = filled_store();
        // The backup's read transaction began before this commit: the stream must not have it.
        let mut stream = Vec::new();
        store
            .with_database(|database| {
                let read = database.begin_read().during(StoreOperation::Backup)?;
                let mut batch = WriteBatch::new();
                batch.put_value("later", vec![1]);
                store.commit(batch, Durability::Immediate)?;
                let mut out = Hashing::new(&mut stream);
                let report = write_tables(&read, &mut out)?;
                out.finish(report.records)
            })
            .expect("backup");
        let folder = folder("one-commit");
        let path = folder.join("restored.redb");
        RedbStore::restore(&mut stream.as_slice(), &path).expect("restore");
        let restored = RedbStore::open(&path).expect("open");
        assert_eq!(restored.value("later").expect("value"), None);
        assert!(restored.value("user:ana").expect("value").is_some());
        drop(restored);
        let _ = std::fs::remove_dir_all(folder);
    }
}
