//! `itinera-server init`: a new data folder, readable by the server's user alone, with its
//! first admin, and a token for that admin to use the admin API.

use std::path::Path;
use std::sync::Arc;

use itinera_core::policy::Role;
use itinera_core::store::{DocumentStore, RedbStore};

use crate::accounts::Directory;
use crate::operation_error::OperationError;

/// Creates `folder` (and its parents) with mode `0700` if it is missing: the store holds
/// password hashes and every record. An existing folder keeps its mode (it may be the working
/// directory); returns whether others than its owner may enter it.
pub fn create_private_folder(folder: &Path) -> Result<bool, OperationError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if !folder.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(folder)
            .map_err(OperationError::file(folder))?;
    }
    let metadata = std::fs::metadata(folder).map_err(OperationError::file(folder))?;
    Ok(metadata.permissions().mode() & 0o077 != 0)
}

/// Creates (or truncates) a file only its owner may read: backups hold password and token
/// hashes and every record.
pub fn create_private_file(path: &Path) -> Result<std::fs::File, OperationError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(OperationError::file(path))?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
        .map_err(OperationError::file(path))?;
    Ok(file)
}

/// Makes the data folder and its first admin; returns a token for them valid for `ttl_ms`.
/// Refuses a folder that already has users.
pub fn init(
    folder: &Path,
    store_file: &Path,
    admin: &str,
    password: &str,
    ttl_ms: i64,
    actor: &str,
    now: i64,
) -> Result<String, OperationError> {
    if create_private_folder(folder)? {
        tracing::warn!(
            folder = %folder.display(),
            "the data folder is open to other users; `chmod 700` it"
        );
    }
    let store: Arc<dyn DocumentStore> = Arc::new(RedbStore::open(store_file)?);
    let writes = Arc::new(crate::store_writer::DirectWrites(store.clone()));
    let directory = Directory::load(&*store, writes)?;
    if !directory.users().is_empty() {
        return Err(OperationError::Refused(format!(
            "{} already has users; init sets up a new data folder: add users with \
             `itinera-server user add`",
            folder.display()
        )));
    }
    let audited = directory.audited(actor, now);
    audited.add_user(admin, Role::Admin, &[], Some(password))?;
    Ok(audited.issue_token(admin, Some(ttl_ms))?)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn init_makes_a_private_folder_and_one_admin_once() {
        let folder = std::env::temp_dir().join(format!("itinera-init-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        let data = folder.join("data");
        let store = data.join("itinera.redb");
        let token = init(&data, &store, "root", "pw", 60_000, "cli:test", 1).expect("init");
        assert!(token.starts_with("itn_"));
        let mode = std::fs::metadata(&data)
            .expect("folder")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
        let again = init(&data, &store, "root2", "pw", 60_000, "cli:test", 2);
        assert!(
            matches!(again, Err(OperationError::Refused(_))),
            "{again:?}"
        );
        let _ = std::fs::remove_dir_all(&folder);
    }
}
