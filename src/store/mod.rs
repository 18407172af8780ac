//! The credential store: where atmos-auth keeps SSO tokens, client registrations and STS role
//! credentials between runs.
//!
//! This module owns the [`CredentialStore`] API, which is the same on every platform: load, save
//! and delete an opaque string (the caller's JSON) under an [`EntryKey`]. Missing entries are
//! `Ok(None)` on load and `Ok(())` on delete. Every keyring operation finishes within the
//! timeout given to [`CredentialStore::open`] or fails with a typed [`StoreError`]; nothing here
//! falls back to another store or to storing nothing. This module must not interpret the values,
//! decide expiry, or choose a store on its own: the CLI passes the [`StoreKind`].
//!
//! - `kind.rs`: [`StoreKind`] and its names.
//! - `entry_key.rs`: [`EntryKey`], the mapping to keyring service, user and label.
//! - `error.rs`: [`StoreError`] and its hints.
//! - `keyring.rs`: the keyring-backed stores, on a worker thread with a timeout.
//! - `keyutils.rs`: which kernel keyrings the `keyutils` store uses, and why.
//! - `memory.rs`: the process-local `memory` store, for tests.

mod entry_key;
mod error;
mod keyring;
#[cfg(target_os = "linux")]
mod keyutils;
mod kind;
mod memory;
#[cfg(test)]
mod tests;

use std::time::Duration;

pub use entry_key::{EntryKey, Namespace};
pub use error::{BackendError, StoreError, StoreOp};
pub use kind::{ParseStoreKindError, StoreKind};

use self::keyring::KeyringStore;
use crate::secret::Secret;

/// Environment variable naming the store kind (`system`, `secret-service`, `keyutils`, `memory`).
pub const KEYRING_TYPE_ENV: &str = "ATMOS_KEYRING_TYPE";
/// Environment variable overriding the per-operation timeout.
pub const KEYRING_TIMEOUT_ENV: &str = "ATMOS_KEYRING_TIMEOUT";
/// How long one store operation may take, including the first connection, unless overridden.
pub const DEFAULT_TIMEOUT_SECS: u64 = 5;

/// A handle on one credential store. Opening is cheap: the keyring itself is reached on the
/// first operation.
#[derive(Debug)]
pub struct CredentialStore {
    kind: StoreKind,
    backend: Backend,
}

#[derive(Debug)]
enum Backend {
    Memory,
    Keyring(KeyringStore),
}

impl CredentialStore {
    /// Opens a store. `timeout` bounds each later operation, including the first connection.
    pub fn open(kind: StoreKind, timeout: Duration) -> Result<Self, StoreError> {
        let backend = match kind {
            StoreKind::Memory => Backend::Memory,
            _ => Backend::Keyring(KeyringStore::open(kind, timeout)?),
        };
        Ok(Self { kind, backend })
    }

    pub fn kind(&self) -> StoreKind {
        self.kind
    }

    /// The value saved under `key`, or `None` if there is none.
    pub fn load(&self, key: &EntryKey) -> Result<Option<Secret<String>>, StoreError> {
        match &self.backend {
            Backend::Memory => Ok(memory::load(key)),
            Backend::Keyring(store) => store.load(key),
        }
    }

    /// Saves `value` under `key`, replacing any previous value.
    pub fn save(&self, key: &EntryKey, value: &Secret<String>) -> Result<(), StoreError> {
        if value.expose().is_empty() {
            return Err(StoreError::EmptyValue {
                kind: self.kind,
                key: key.clone(),
            });
        }
        match &self.backend {
            Backend::Memory => {
                memory::save(key, value);
                Ok(())
            }
            Backend::Keyring(store) => store.save(key, value),
        }
    }

    /// Deletes the value under `key`; deleting a missing entry succeeds.
    pub fn delete(&self, key: &EntryKey) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Memory => {
                memory::delete(key);
                Ok(())
            }
            Backend::Keyring(store) => store.delete(key),
        }
    }
}
