//! `itinera-server backup` and `restore`: a consistent copy of the store, from a running
//! server (through its admin API) or from a stopped server's data folder, and a data folder
//! rebuilt from such a copy.
//!
//! A backup file appears under its name only once it is complete, flushed to disk and its
//! digest checked; until then it is `NAME.partial`. A restore builds the new store beside the
//! old one and swaps it in only once the whole backup was read and verified.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use itinera_core::store::{BackupReport, RedbStore, StoreError, verify_backup};

use crate::admin_client::AdminClient;
use crate::operation_error::OperationError;

/// What a backup or restore did, and how long it took.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub report: BackupReport,
    pub took: Duration,
    /// The store a restore moved aside, if there was one.
    pub moved_aside: Option<PathBuf>,
}

/// `NAME.partial` beside `dest`.
fn partial_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    dest.with_file_name(name)
}

/// Writes a backup to `dest` through `write`, then flushes, verifies and renames it. `-` is
/// standard output (for pipes: compression, encryption, another host), written as it comes.
fn write_backup(
    dest: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<(), OperationError>,
) -> Result<Outcome, OperationError> {
    let started = Instant::now();
    if dest == Path::new("-") {
        let stdout = std::io::stdout();
        let mut out = BufWriter::new(stdout.lock());
        write(&mut out)?;
        out.flush()
            .map_err(OperationError::file("standard output"))?;
        return Ok(Outcome {
            report: BackupReport::default(),
            took: started.elapsed(),
            moved_aside: None,
        });
    }
    refuse_existing(dest)?;
    let partial = partial_path(dest);
    let file = crate::init::create_private_file(&partial)?;
    let mut out = BufWriter::with_capacity(1024 * 1024, file);
    let written = write(&mut out).and_then(|()| {
        let file = out
            .into_inner()
            .map_err(|err| OperationError::file(&partial)(err.into_error()))?;
        file.sync_all().map_err(OperationError::file(&partial))
    });
    let verified = written.and_then(|()| {
        let file = File::open(&partial).map_err(OperationError::file(&partial))?;
        Ok(verify_backup(&mut BufReader::with_capacity(
            1024 * 1024,
            file,
        ))?)
    });
    let report = match verified {
        Ok(report) => report,
        Err(err) => {
            let _ = std::fs::remove_file(&partial);
            return Err(err);
        }
    };
    std::fs::rename(&partial, dest).map_err(OperationError::file(dest))?;
    sync_folder(dest);
    Ok(Outcome {
        report,
        took: started.elapsed(),
        moved_aside: None,
    })
}

/// Backups never overwrite one another.
fn refuse_existing(dest: &Path) -> Result<(), OperationError> {
    if dest != Path::new("-") && dest.exists() {
        return Err(OperationError::Refused(format!(
            "{} exists; backups never overwrite one another: choose a new name",
            dest.display()
        )));
    }
    Ok(())
}

/// Makes a rename in `path`'s folder durable.
fn sync_folder(path: &Path) {
    if let Some(folder) = path.parent().filter(|f| !f.as_os_str().is_empty()) {
        if let Ok(folder) = File::open(folder) {
            let _ = folder.sync_all();
        }
    }
}

/// Backs up a running server through its admin API.
pub fn backup_running(client: &AdminClient, dest: &Path) -> Result<Outcome, OperationError> {
    write_backup(dest, |out| {
        client.download("/admin/backup", out)?;
        Ok(())
    })
}

/// Backs up the store of a stopped server.
pub fn backup_stopped(store_path: &Path, dest: &Path) -> Result<Outcome, OperationError> {
    refuse_existing(dest)?;
    if !store_path.exists() {
        return Err(OperationError::Refused(format!(
            "there is no store at {}",
            store_path.display()
        )));
    }
    let store = RedbStore::open(store_path).map_err(|err| match err {
        StoreError::AlreadyOpen { .. } => OperationError::Refused(format!(
            "a running server holds {}: back it up through the server with --server URL \
             (its local address) and an admin token in ITINERA_ADMIN_TOKEN",
            store_path.display()
        )),
        other => other.into(),
    })?;
    write_backup(dest, |out| {
        store.backup(out)?;
        Ok(())
    })
}

/// Rebuilds the store at `store_path` from `backup`. An existing store is moved aside with
/// `force` (to `itinera.redb.before-restore-<unix time>`) and refused without; a store a
/// running server holds is always refused.
pub fn restore(backup: &Path, store_path: &Path, force: bool) -> Result<Outcome, OperationError> {
    let started = Instant::now();
    let file = File::open(backup).map_err(OperationError::file(backup))?;
    let folder = store_path.parent().unwrap_or(Path::new("."));
    crate::init::create_private_folder(folder)?;
    let mut moved_aside = None;
    if store_path.exists() {
        refuse_if_running(store_path)?;
        if !force {
            return Err(OperationError::Refused(format!(
                "{} already holds a store; pass --force to move it aside and restore",
                store_path.display()
            )));
        }
    }
    let restoring = store_path.with_extension("redb.restoring");
    if restoring.exists() {
        std::fs::remove_file(&restoring).map_err(OperationError::file(&restoring))?;
    }
    let report = RedbStore::restore(&mut BufReader::with_capacity(1024 * 1024, file), &restoring)?;
    if store_path.exists() {
        let seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let aside = store_path.with_extension(format!("redb.before-restore-{seconds}"));
        std::fs::rename(store_path, &aside).map_err(OperationError::file(&aside))?;
        moved_aside = Some(aside);
    }
    std::fs::rename(&restoring, store_path).map_err(OperationError::file(store_path))?;
    sync_folder(store_path);
    // Opening brings an older backup to this build's layout now, not at the next start.
    RedbStore::open(store_path)?.close()?;
    Ok(Outcome {
        report,
        took: started.elapsed(),
        moved_aside,
    })
}

/// Refuses when a running server has the store open.
fn refuse_if_running(store_path: &Path) -> Result<(), OperationError> {
    match RedbStore::open(store_path) {
        Err(StoreError::AlreadyOpen { .. }) => Err(OperationError::Refused(format!(
            "a running server holds {}: stop it before restoring",
            store_path.display()
        ))),
        _ => Ok(()),
    }
}
