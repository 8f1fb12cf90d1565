//! A replica's file on a phone, with its companion `{file}.device`: the device's Automerge
//! actor and the user it belongs to, written once when the replica is created.
//!
//! The companion is what lets a replica notice that its file was emptied or replaced (a
//! truncated file opens as an empty redb database, without any error from the store): a
//! companion beside a store that holds no user means the store lost what it held, and opening
//! it is refused with [`ReplicaError::Damaged`] instead of showing the user an empty app.
//! [`Replica::recover_on_device`] then sets the damaged file aside and starts a fresh replica,
//! with a new actor (the lost changes' numbers must not be reused), that the next sync fills
//! from the server.
//!
//! ```
//! use itinera_core::replica::{Replica, ReplicaError};
//!
//! let folder = std::env::temp_dir().join(format!("itinera-device-file-{}", std::process::id()));
//! let path = folder.join("phone.redb");
//! let (replica, _) = Replica::open_on_device(&path, "ana", [1; 16])?;
//! replica.close()?;
//! std::fs::write(&path, b"")?; // the file truncated to nothing
//! let err = Replica::open_on_device(&path, "ana", [2; 16]).expect_err("refused");
//! assert!(matches!(err, ReplicaError::Damaged { .. }));
//! let (recovered, _, aside) = Replica::recover_on_device(&path, "ana", [3; 16])?;
//! assert!(aside.exists());
//! assert!(recovered.document_ids().is_empty());
//! # std::fs::remove_dir_all(&folder).ok();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::{Path, PathBuf};
use std::str::FromStr;

use automerge::ActorId;

use super::Replica;
use super::device_replica::USER_KEY;
use super::error::{ReplicaError, ReplicaResult};
use crate::store::{DocumentStore, RedbStore};

/// Who this device is, as its companion file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceIdentity {
    /// The Automerge actor of this device's changes.
    pub actor: ActorId,
    /// The storage id the device presents to the server (`{user}-{actor}`), under which the
    /// server keeps its sync states for this device.
    pub storage_id: String,
}

fn companion(path: &Path) -> PathBuf {
    PathBuf::from(format!("{}.device", path.display()))
}

fn damaged(path: &Path, reason: impl Into<String>) -> ReplicaError {
    ReplicaError::Damaged {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

/// The most memory the replica's store keeps of its file: a phone's memory is short, the pages
/// an app reads again soon are few, and the rest is one read away.
const DEVICE_CACHE_BYTES: usize = 16 * 1024 * 1024;

impl Replica {
    /// Opens (or creates) the replica of `user` stored at `path` on this device. `new_actor`
    /// (random bytes) becomes the device's actor if the replica is new.
    ///
    /// Refuses a store of another user ([`ReplicaError::OtherUser`]) and a store that lost what
    /// it held or does not open ([`ReplicaError::Damaged`]).
    pub fn open_on_device(
        path: impl AsRef<Path>,
        user: &str,
        new_actor: [u8; 16],
    ) -> ReplicaResult<(Self, DeviceIdentity)> {
        let path = path.as_ref();
        let known = read_companion(path)?;
        let store = RedbStore::open_with_cache(path, DEVICE_CACHE_BYTES)
            .map_err(|err| damaged(path, err.to_string()))?;
        let held_a_user = store.value(USER_KEY)?.is_some();
        let (actor, new) = match known {
            Some(actor) if !held_a_user => {
                return Err(damaged(
                    path,
                    format!(
                        "the file is empty or was replaced since this device wrote it (actor {}); \
                         changes not yet synced may be lost. Recover to start again from the \
                         server",
                        actor.to_hex_string()
                    ),
                ));
            }
            Some(actor) => (actor, false),
            None => (ActorId::from(new_actor), true),
        };
        let replica = Self::with_store(store, user, actor.clone())?;
        // After the store holds its user, so that a crash in between cannot look like damage.
        if new {
            write_companion(path, &actor, user)?;
        }
        let storage_id = format!("{}-{}", replica.user(), actor.to_hex_string());
        Ok((replica, DeviceIdentity { actor, storage_id }))
    }

    /// Sets the damaged replica file at `path` aside (renamed with a `.damaged-N` suffix, kept
    /// for support) and opens a fresh replica there with a new actor; returns where the old
    /// file went. The next sync brings back everything the server has.
    pub fn recover_on_device(
        path: impl AsRef<Path>,
        user: &str,
        new_actor: [u8; 16],
    ) -> ReplicaResult<(Self, DeviceIdentity, PathBuf)> {
        let path = path.as_ref();
        let aside = (1u32..)
            .map(|n| PathBuf::from(format!("{}.damaged-{n}", path.display())))
            .find(|candidate| !candidate.exists())
            .ok_or_else(|| damaged(path, "no free name to set the file aside"))?;
        if path.exists() {
            std::fs::rename(path, &aside).map_err(|err| damaged(path, err.to_string()))?;
        }
        let _ = std::fs::remove_file(companion(path));
        let (replica, identity) = Self::open_on_device(path, user, new_actor)?;
        Ok((replica, identity, aside))
    }
}

fn read_companion(path: &Path) -> ReplicaResult<Option<ActorId>> {
    let file = companion(path);
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(damaged(path, format!("{}: {err}", file.display()))),
    };
    let hex = text.lines().next().unwrap_or_default().trim();
    ActorId::from_str(hex)
        .map(Some)
        .map_err(|_| damaged(path, format!("{} does not name an actor", file.display())))
}

fn write_companion(path: &Path, actor: &ActorId, user: &str) -> ReplicaResult<()> {
    let file = companion(path);
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent).map_err(|err| damaged(path, err.to_string()))?;
    }
    std::fs::write(&file, format!("{}\n{user}\n", actor.to_hex_string()))
        .map_err(|err| damaged(path, format!("{}: {err}", file.display())))
}
