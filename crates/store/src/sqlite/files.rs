//! The database's files on disk: created private (mode 0600 whatever the
//! umask; SQLite gives its `-wal` and `-shm` files the database's mode),
//! never created by a command that only reads or changes data, and watched
//! so that a file deleted or replaced under a running server is noticed.

use std::path::{Path, PathBuf};

use tollgate_core::master_key::{create_private, make_private};

use crate::{OpenError, OpenMode};

/// Makes sure the database file exists as `mode` allows, and that it and its
/// companions are readable by this user alone.
pub(super) fn prepare(path: &Path, mode: OpenMode) -> Result<(), OpenError> {
    let permissions = |source| OpenError::Permissions { path: path.to_owned(), source };
    if !path.exists() {
        match mode {
            OpenMode::Existing => return Err(OpenError::Missing(path.to_owned())),
            OpenMode::Create => match create_private(path) {
                Ok(_) => {}
                // Another process created it meanwhile: fine.
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(err) => return Err(permissions(err)),
            },
        }
    }
    for file in [path.to_owned(), companion(path, "-wal"), companion(path, "-shm")] {
        make_private(&file).map_err(|source| OpenError::Permissions { path: file.clone(), source })?;
    }
    Ok(())
}

fn companion(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Which file a path named when the store opened it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Identity {
    device: u64,
    inode: u64,
}

impl Identity {
    #[cfg(unix)]
    pub(super) fn of(path: &Path) -> Option<Self> {
        use std::os::unix::fs::MetadataExt as _;
        std::fs::metadata(path).ok().map(|meta| Self { device: meta.dev(), inode: meta.ino() })
    }

    #[cfg(not(unix))]
    pub(super) fn of(_: &Path) -> Option<Self> {
        None
    }

    /// Why `path` no longer names this file, if it does not.
    pub(super) fn check(&self, path: &Path) -> Option<String> {
        match Self::of(path) {
            Some(now) if now == *self => None,
            Some(_) => Some(format!("database file {} was replaced by another file", path.display())),
            None => Some(format!("database file {} was deleted", path.display())),
        }
    }
}
