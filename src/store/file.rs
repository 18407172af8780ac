//! The `file` store: every entry in one encrypted file, for hosts without a usable keyring
//! (headless Linux, containers, WSL).
//!
//! This file owns where the file lives, who may touch it, and the read-modify-write cycle under
//! a lock. The byte layout, key derivation and encryption are in `file_format.rs`; reading the
//! password from the environment or a terminal is in `password.rs`. It must not ask for a
//! password itself, nor fall back to another store.
//!
//! Every operation reads the file afresh, so handles in different processes see each other's
//! writes:
//! - `load` takes a shared lock on `<file>.lock`, reads and decrypts;
//! - `save` and `delete` take an exclusive lock, re-read the file under it, change one entry and
//!   replace the file with `write_atomic` (0600, fsync, rename, fsync of the directory). Two
//!   processes saving different entries at once therefore both land.
//!
//! Nothing is written unless the change applies: a wrong password, a damaged file or a refused
//! permission fails before the write, and the file stays byte for byte as it was.
//!
//! The directory and the file must belong to the current user and not be writable by group or
//! others; the directory is created 0700 if missing. The key is derived once per handle (Argon2id,
//! about 150 ms) and reused while the file's salt and cost stay the same. Only waiting for the
//! lock is bounded by the store timeout; key derivation is not.
//!
//! The key derivation cost has a floor, so a file cannot be silently downgraded: a header below
//! [`KdfParams::FLOOR`] is refused as [`Damage::WeakKdf`] (the file is left as it was); a header
//! at or above the floor but below the current cost ([`KdfParams::DEFAULT`]) is read with its own
//! cost, and the next write re-encrypts the file under a new salt at the current cost (never
//! lowering a part the file had higher).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use super::file_format::{Damage, Entries, KdfParams, Key, Sealed, Unseal, seal};
use super::password::check_password;
use super::{EntryKey, StoreError, StoreOp};
use crate::fs::{
    Exposure, FileLock, PRIVATE_FILE_MODE, create_private_dir, parent_dir, write_atomic,
};
use crate::secret::Secret;

/// The file's name in the user data directory.
pub const DEFAULT_FILE_NAME: &str = "credentials.enc";

/// `<user data dir>/atmos-auth/credentials.enc`, for example
/// `~/.local/share/atmos-auth/credentials.enc` on Linux.
pub fn default_file_path() -> Result<PathBuf, StoreError> {
    directories::ProjectDirs::from("", "", "atmos-auth")
        .map(|dirs| dirs.data_dir().join(DEFAULT_FILE_NAME))
        .ok_or(StoreError::NoDataDir)
}

pub(super) struct FileStore {
    path: PathBuf,
    lock_path: PathBuf,
    password: Secret<String>,
    timeout: Duration,
    /// The cost for a file this handle creates, and the least a file has after this handle
    /// writes it.
    kdf: KdfParams,
    /// Files with a lower cost are refused.
    kdf_floor: KdfParams,
    /// The key of the file as last read, reused while its salt and cost stay the same.
    key: Mutex<Option<Key>>,
}

impl FileStore {
    /// Opens the store at `path` and, if the file exists, reads it once, so that a wrong
    /// password or a damaged file is reported here rather than on first use.
    pub(super) fn open(
        path: PathBuf,
        password: Secret<String>,
        timeout: Duration,
        kdf: KdfParams,
        kdf_floor: KdfParams,
    ) -> Result<Self, StoreError> {
        check_password(&password)?;
        let mut lock_path = path.clone().into_os_string();
        lock_path.push(".lock");
        let store = Self {
            path,
            lock_path: lock_path.into(),
            password,
            timeout,
            kdf,
            kdf_floor,
            key: Mutex::default(),
        };
        store.read(StoreOp::Load)?;
        Ok(store)
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    pub(super) fn load(&self, key: &EntryKey) -> Result<Option<Secret<String>>, StoreError> {
        Ok(self.read(StoreOp::Load)?.remove(&key.user()))
    }

    pub(super) fn save(&self, key: &EntryKey, value: &Secret<String>) -> Result<(), StoreError> {
        self.modify(StoreOp::Save, |entries| {
            entries.insert(key.user(), value.clone());
            true
        })
    }

    pub(super) fn delete(&self, key: &EntryKey) -> Result<(), StoreError> {
        self.modify(StoreOp::Delete, |entries| {
            entries.remove(&key.user()).is_some()
        })
    }

    /// The key of every entry in the file; entries of a namespace this version does not know
    /// are left out.
    pub(super) fn entries(&self) -> Result<Vec<EntryKey>, StoreError> {
        Ok(self
            .read(StoreOp::List)?
            .keys()
            .filter_map(|user| EntryKey::from_user(user))
            .collect())
    }

    /// All entries, under a shared lock; none if the file does not exist yet.
    fn read(&self, op: StoreOp) -> Result<Entries, StoreError> {
        let dir = parent_dir(&self.path);
        if !dir.exists() {
            return Ok(Entries::new());
        }
        check_private(dir)?;
        let _lock = FileLock::shared(&self.lock_path, self.timeout)
            .map_err(|source| StoreError::Lock { op, source })?;
        Ok(self
            .read_locked()?
            .map(|(entries, key)| {
                self.remember(key);
                entries
            })
            .unwrap_or_default())
    }

    /// Applies `change` under an exclusive lock and writes the file if `change` says it changed
    /// anything.
    fn modify(
        &self,
        op: StoreOp,
        change: impl FnOnce(&mut Entries) -> bool,
    ) -> Result<(), StoreError> {
        let dir = parent_dir(&self.path);
        create_private_dir(dir).map_err(|source| StoreError::Io {
            what: "create the directory",
            path: dir.to_owned(),
            source,
        })?;
        check_private(dir)?;
        let _lock = FileLock::exclusive(&self.lock_path, self.timeout)
            .map_err(|source| StoreError::Lock { op, source })?;
        let (mut entries, key) = match self.read_locked()? {
            Some((entries, key)) if key.kdf().weaker_than(self.kdf) => {
                tracing::info!(from = ?key.kdf(), to = ?self.kdf, "raising the credential file's key derivation cost");
                (entries, self.new_key(key.kdf().at_least(self.kdf))?)
            }
            Some(read) => read,
            // A new file gets a new salt, so no key derived before applies.
            None => (Entries::new(), self.new_key(self.kdf)?),
        };
        let changed = change(&mut entries);
        let written = if changed {
            seal(&entries, &key)
                .map_err(|source| self.io_error("encrypt", source))
                .and_then(|bytes| {
                    write_atomic(&self.path, &bytes, PRIVATE_FILE_MODE)
                        .map_err(|source| self.io_error("write", source))
                })
        } else {
            Ok(())
        };
        self.remember(key);
        written
    }

    /// A key under a new salt at cost `kdf`.
    fn new_key(&self, kdf: KdfParams) -> Result<Key, StoreError> {
        Key::generate(&self.password, kdf).map_err(|source| self.io_error("encrypt", source))
    }

    /// The entries and key of the file, which the caller has locked; `None` if it does not exist.
    fn read_locked(&self) -> Result<Option<(Entries, Key)>, StoreError> {
        check_private(&self.path)?;
        let bytes = match fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(self.io_error("read", source)),
        };
        let sealed = Sealed::parse(&bytes).map_err(|damage| self.damaged(damage))?;
        if sealed.kdf().weaker_than(self.kdf_floor) {
            return Err(self.damaged(Damage::WeakKdf));
        }
        let key = match self.take_key() {
            Some(key) if sealed.fits(&key) => key,
            _ => sealed
                .derive_key(&self.password)
                .map_err(|error| self.unseal_error(error))?,
        };
        match sealed.unseal(&key) {
            Ok(entries) => Ok(Some((entries, key))),
            Err(error) => Err(self.unseal_error(error)),
        }
    }

    fn take_key(&self) -> Option<Key> {
        self.key
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    fn remember(&self, key: Key) {
        *self.key.lock().unwrap_or_else(PoisonError::into_inner) = Some(key);
    }

    fn unseal_error(&self, error: Unseal) -> StoreError {
        match error {
            Unseal::WrongPassword => StoreError::WrongPassword {
                path: self.path.clone(),
            },
            Unseal::Damaged(damage) => self.damaged(damage),
        }
    }

    fn damaged(&self, damage: Damage) -> StoreError {
        StoreError::Corrupt {
            path: self.path.clone(),
            damage,
        }
    }

    fn io_error(&self, what: &'static str, source: io::Error) -> StoreError {
        StoreError::Io {
            what,
            path: self.path.clone(),
            source,
        }
    }
}

/// Shows the path and settings; the password and key only as redacted.
impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileStore")
            .field("path", &self.path)
            .field("password", &self.password)
            .field("timeout", &self.timeout)
            .field("kdf", &self.kdf)
            .field("kdf_floor", &self.kdf_floor)
            .field("key", &self.key)
            .finish()
    }
}

/// Refuses `path` if it is writable by group or others, or belongs to another user. A missing
/// path passes: it will be created private.
#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), StoreError> {
    let metadata = match fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(StoreError::Io {
                what: "inspect",
                path: path.to_owned(),
                source,
            });
        }
    };
    match Exposure::of(&metadata) {
        Some(exposure) => Err(StoreError::Insecure {
            path: path.to_owned(),
            exposure,
        }),
        None => Ok(()),
    }
}

/// Windows has no mode bits; the user profile directory is private by its ACL.
#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<(), StoreError> {
    Ok(())
}
