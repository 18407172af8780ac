//! The credential store: where atmos-auth keeps SSO tokens, client registrations and STS role
//! credentials between runs.
//!
//! This module owns the [`CredentialStore`] API, which is the same on every platform: load, save
//! and delete an opaque string (the caller's JSON) under an [`EntryKey`]. Missing entries are
//! `Ok(None)` on load and `Ok(())` on delete. Every keyring operation finishes within the
//! timeout given to [`CredentialStore::open`] or fails with a typed [`StoreError`]; nothing here
//! falls back to storing nothing. This module must not interpret the values, decide expiry, or
//! choose a store on its own: the CLI passes the [`StoreKind`].
//!
//! [`CredentialStore::entries`] lists what atmos-auth keeps in a store, so that `logout` can
//! remove all of it; each backend lists its own (a Secret Service search by the `service`
//! attribute, the kernel keys by description prefix, the file's entries).
//!
//! Opening a keyring store is free: no thread, connection or syscall happens before the first
//! operation, so a command that never touches the store pays nothing for it.
//!
//! On Linux, `system` is two stores in one (`layered.rs`): short-lived role credentials in the
//! kernel keyring, in front of the Secret Service, which keeps the long-lived secrets. A cached
//! `credential-process` or `env` therefore never opens D-Bus. `secret-service` and `keyutils`
//! each name exactly one backend.
//!
//! - `kind.rs`: [`StoreKind`] and its names.
//! - `entry_key.rs`: [`EntryKey`], the mapping to keyring service, user and label.
//! - `error.rs`: [`StoreError`] and its hints.
//! - `keyring.rs`: the keyring-backed stores, on a worker thread with a timeout.
//! - `keyutils.rs`: which kernel keyrings the `keyutils` store uses, and why.
//! - `layered.rs`: the Linux `system` store, and which entry lives in which layer.
//! - `role_tier.rs`: its role-credential tier, sealed files under `$XDG_RUNTIME_DIR`.
//! - `memory.rs`: the process-local `memory` store, for tests.
//! - `file.rs`: the encrypted `file` store; `file_format.rs` its bytes and crypto;
//!   `password.rs` where its password comes from.
//!
//! Private files, atomic writes and cross-process locks are `crate::fs`'s.

mod entry_key;
mod error;
mod file;
mod file_format;
#[cfg(all(test, unix))]
mod file_tests;
mod keyring;
#[cfg(target_os = "linux")]
mod keyutils;
mod kind;
#[cfg(target_os = "linux")]
mod layered;
mod memory;
mod password;
#[cfg(target_os = "linux")]
mod role_tier;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use entry_key::{EntryKey, Namespace, bound_id};
pub use error::{BackendError, StoreError, StoreOp};
pub use file::{DEFAULT_FILE_NAME, default_file_path};
pub use file_format::{Damage, KdfParams};
pub use kind::{ParseStoreKindError, StoreKind};
pub use password::{KEYRING_PASSWORD_ENV, MIN_PASSWORD_CHARS, PasswordProblem, read_file_password};

use self::file::FileStore;
use self::keyring::KeyringStore;
#[cfg(target_os = "linux")]
use self::layered::LayeredStore;
use crate::secret::Secret;

/// Environment variable naming the store kind (one of [`StoreKind::names`]).
pub const KEYRING_TYPE_ENV: &str = "ATMOS_KEYRING_TYPE";
/// Environment variable overriding the per-operation timeout.
pub const KEYRING_TIMEOUT_ENV: &str = "ATMOS_KEYRING_TIMEOUT";
/// How long one store operation may take, including the first connection, unless overridden.
pub const DEFAULT_TIMEOUT_SECS: u64 = 5;

/// A handle on one credential store. Opening is free: the keyring itself (and its worker
/// thread) is reached on the first operation.
#[derive(Debug)]
pub struct CredentialStore {
    kind: StoreKind,
    backend: Backend,
    /// Role credentials stay in process memory, out of `backend`: see
    /// [`CredentialStore::with_role_credentials_in_process`].
    role_credentials_in_process: bool,
}

#[derive(Debug)]
enum Backend {
    Memory,
    Keyring(KeyringStore),
    #[cfg(target_os = "linux")]
    Layered(LayeredStore),
    File(FileStore),
}

impl CredentialStore {
    /// Opens a store. `timeout` bounds each later operation, including the first connection.
    ///
    /// The `file` store needs a path and a password: open it with [`CredentialStore::open_file`].
    /// Here it fails with [`StoreError::PasswordRequired`].
    pub fn open(kind: StoreKind, timeout: Duration) -> Result<Self, StoreError> {
        let backend = match kind {
            StoreKind::Memory => Backend::Memory,
            StoreKind::File => return Err(StoreError::PasswordRequired),
            #[cfg(target_os = "linux")]
            StoreKind::System => Backend::Layered(LayeredStore::open(timeout)?),
            _ => Backend::Keyring(KeyringStore::open(kind, timeout)?),
        };
        Ok(Self {
            kind,
            backend,
            role_credentials_in_process: false,
        })
    }

    /// Opens the `file` store at `path` (usually [`default_file_path`]) with `password` (usually
    /// from [`read_file_password`]). `timeout` bounds each wait for the file's lock.
    ///
    /// If the file exists it is read once here, so a wrong password
    /// ([`StoreError::WrongPassword`]) or a damaged file ([`StoreError::Corrupt`]) is reported
    /// now. This derives the key (Argon2id, about 150 ms in a release build). A missing file is
    /// created, with its directory, by the first `save`.
    pub fn open_file(
        path: impl Into<PathBuf>,
        password: Secret<String>,
        timeout: Duration,
    ) -> Result<Self, StoreError> {
        Self::open_file_with_kdf(
            path,
            password,
            timeout,
            KdfParams::DEFAULT,
            KdfParams::FLOOR,
        )
    }

    /// [`CredentialStore::open_file`] with a cheap key derivation, so tests stay fast.
    #[cfg(test)]
    pub(crate) fn open_file_for_test(
        path: impl Into<PathBuf>,
        password: Secret<String>,
        timeout: Duration,
    ) -> Result<Self, StoreError> {
        const CHEAP: KdfParams = KdfParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        };
        Self::open_file_with_kdf(path, password, timeout, CHEAP, CHEAP)
    }

    /// The `file` store whose new files get cost `kdf`, and which refuses files below `floor`.
    fn open_file_with_kdf(
        path: impl Into<PathBuf>,
        password: Secret<String>,
        timeout: Duration,
        kdf: KdfParams,
        floor: KdfParams,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            kind: StoreKind::File,
            backend: Backend::File(FileStore::open(path.into(), password, timeout, kdf, floor)?),
            role_credentials_in_process: false,
        })
    }

    /// The `system` store with its role-credential tier under `runtime_dir` (none: the kernel
    /// keyring alone), whatever `XDG_RUNTIME_DIR` says.
    #[cfg(all(test, target_os = "linux"))]
    pub(crate) fn open_system_for_test(
        runtime_dir: Option<&Path>,
        timeout: Duration,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            kind: StoreKind::System,
            backend: Backend::Layered(LayeredStore::open_with_runtime_dir(timeout, runtime_dir)?),
            role_credentials_in_process: false,
        })
    }

    /// Keeps role credentials ([`Namespace::RoleCredentials`]) in this process's memory only,
    /// never in the store; every other entry still goes to the store. For CI jobs: their
    /// credentials must end with the job, while a per-user keyring or file outlives it and is
    /// readable by the next job on a self-hosted runner.
    pub fn with_role_credentials_in_process(mut self) -> Self {
        self.role_credentials_in_process = true;
        self
    }

    /// Whether `key` lives in process memory rather than in the store.
    fn in_process(&self, key: &EntryKey) -> bool {
        self.role_credentials_in_process && key.namespace() == Namespace::RoleCredentials
    }

    pub fn kind(&self) -> StoreKind {
        self.kind
    }

    /// The file behind a `file` store; `None` for the others.
    pub fn file_path(&self) -> Option<&Path> {
        match &self.backend {
            Backend::File(store) => Some(store.path()),
            _ => None,
        }
    }

    /// The value saved under `key`, or `None` if there is none.
    pub fn load(&self, key: &EntryKey) -> Result<Option<Secret<String>>, StoreError> {
        if self.in_process(key) {
            return Ok(memory::load(key));
        }
        match &self.backend {
            Backend::Memory => Ok(memory::load(key)),
            Backend::Keyring(store) => store.load(key),
            #[cfg(target_os = "linux")]
            Backend::Layered(store) => store.load(key),
            Backend::File(store) => store.load(key),
        }
    }

    /// Saves `value` under `key`, replacing any previous value.
    pub fn save(&self, key: &EntryKey, value: &Secret<String>) -> Result<(), StoreError> {
        self.save_with(key, value, None)
    }

    /// Saves `value` under `key` like [`CredentialStore::save`], for a value that is worthless
    /// after `lifetime` (the caller knows; this module does not read values). The kernel keyring
    /// removes the entry itself once `lifetime` has passed; the other stores keep it until it is
    /// replaced.
    pub fn save_expiring(
        &self,
        key: &EntryKey,
        value: &Secret<String>,
        lifetime: Duration,
    ) -> Result<(), StoreError> {
        self.save_with(key, value, Some(lifetime))
    }

    fn save_with(
        &self,
        key: &EntryKey,
        value: &Secret<String>,
        lifetime: Option<Duration>,
    ) -> Result<(), StoreError> {
        if value.expose().is_empty() {
            return Err(StoreError::EmptyValue {
                kind: self.kind,
                key: key.clone(),
            });
        }
        if self.in_process(key) {
            memory::save(key, value);
            return Ok(());
        }
        match &self.backend {
            Backend::Memory => {
                memory::save(key, value);
                Ok(())
            }
            Backend::Keyring(store) => store.save(key, value, lifetime),
            #[cfg(target_os = "linux")]
            Backend::Layered(store) => store.save(key, value, lifetime),
            Backend::File(store) => store.save(key, value),
        }
    }

    /// The key of every entry atmos-auth keeps in this store (for `logout`): everything under
    /// the service `atmos-auth`, in every layer, and what this process keeps in memory.
    pub fn entries(&self) -> Result<Vec<EntryKey>, StoreError> {
        let mut entries = match &self.backend {
            Backend::Memory => memory::entries(),
            Backend::Keyring(store) => store.entries()?,
            #[cfg(target_os = "linux")]
            Backend::Layered(store) => store.entries()?,
            Backend::File(store) => store.entries()?,
        };
        if self.role_credentials_in_process {
            let in_memory: Vec<EntryKey> = memory::entries()
                .into_iter()
                .filter(|key| self.in_process(key) && !entries.contains(key))
                .collect();
            entries.extend(in_memory);
        }
        Ok(entries)
    }

    /// Whether the Linux `system` store keeps the key of role credentials it cannot list: sealed
    /// under a runtime directory this process does not see (see `layered.rs`). Always `false`
    /// for the other stores.
    pub fn role_tier_key_unseen(&self) -> Result<bool, StoreError> {
        match &self.backend {
            #[cfg(target_os = "linux")]
            Backend::Layered(store) => store.tier_key_unseen(),
            _ => Ok(false),
        }
    }

    /// Removes that key, so that what it sealed can be read nowhere.
    pub fn forget_role_tier_key(&self) -> Result<(), StoreError> {
        match &self.backend {
            #[cfg(target_os = "linux")]
            Backend::Layered(store) => store.forget_tier_key(),
            _ => Ok(()),
        }
    }

    /// Deletes the value under `key`; deleting a missing entry succeeds.
    pub fn delete(&self, key: &EntryKey) -> Result<(), StoreError> {
        if self.in_process(key) {
            memory::delete(key);
            return Ok(());
        }
        match &self.backend {
            Backend::Memory => {
                memory::delete(key);
                Ok(())
            }
            Backend::Keyring(store) => store.delete(key),
            #[cfg(target_os = "linux")]
            Backend::Layered(store) => store.delete(key),
            Backend::File(store) => store.delete(key),
        }
    }
}
