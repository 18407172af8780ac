//! The `system` store on Linux: the kernel keyring in front of the Secret Service.
//!
//! This file owns which layer each entry lives in. It must not interpret values or decide
//! expiry: the resolver checks every value it loads, so a stale copy in either layer costs at
//! most one refresh, never a wrong answer.
//!
//! Why two layers. The cached path of `credential-process` and `env` (one store read and an
//! expiry check) has a budget of a few milliseconds, and the Secret Service's first operation
//! alone costs about 5-15 ms: a D-Bus connection, a session-key exchange and a search. The
//! kernel keyring answers in microseconds. But the kernel keyring is not a place for secrets
//! that must last: it is cleared at reboot and after three idle days (`keyutils.rs`), and a
//! non-root user's quota is 20,000 bytes, about a dozen role credentials. So:
//!
//! - [`Namespace::RoleCredentials`] (STS credentials, an hour to twelve hours long, cheap to
//!   fetch again) live in the kernel keyring (`keyutils` layer), each key with a kernel timeout
//!   of the credentials' remaining lifetime (the caller passes it to
//!   [`save_expiring`](super::CredentialStore::save_expiring)), so the kernel drops them when
//!   they expire. A read tries the kernel keyring first and, on a hit, never starts the Secret
//!   Service worker or opens D-Bus. A miss reads the Secret Service, where earlier versions
//!   also saved role credentials when the kernel keyring was full, and moves a hit into the
//!   kernel keyring (then deletes the Secret Service copy). The moved key has no timeout (this
//!   layer cannot read the expiry); the next refresh replaces it with one that has.
//! - A save of role credentials goes to the kernel keyring only, never to the Secret Service:
//!   gnome-keyring writes its items to a file on disk, and short-lived credentials must never
//!   reach a disk (it would also add a D-Bus round trip and a file rewrite to every refresh).
//!   When the kernel keyring refuses the save (quota full, no persistent keyring), the
//!   credentials are not cached at all: the save succeeds without storing anything, after one
//!   warning per process naming the cause and the fix, so this run still gets its credentials
//!   and the next run fetches them again. Failing the command instead would break every run
//!   on a host whose keyring is full, for a cache miss that costs one STS call.
//! - Everything else (SSO token and refresh token, client registration, IAM user keys) lives in
//!   the Secret Service only, exactly as the `secret-service` store keeps it.
//! - A delete of role credentials removes both copies, so a forgotten entry cannot come back
//!   from the lower layer, and a listing shows the entries of both layers.
//!
//! If the kernel keyring is unusable (no persistent keyrings, `EACCES` outside any session), the
//! first failure stops this handle from reading it again (logged at debug); saves still try it,
//! and warn as above when it refuses. Errors of the Secret Service are returned as they are,
//! under the kind `system`.
//!
//! The `secret-service` and `keyutils` kinds stay single stores; only `system` is layered.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::keyring::KeyringStore;
use super::{EntryKey, Namespace, StoreError, StoreKind};
use crate::secret::Secret;

#[derive(Debug)]
pub(super) struct LayeredStore {
    /// The kernel keyring: role credentials.
    kernel: KeyringStore,
    /// The Secret Service: everything else, and role credentials the kernel keyring refused.
    secret_service: KeyringStore,
    /// Set once the kernel keyring has proved unusable in this process.
    kernel_down: AtomicBool,
    /// Set once the user has been told that role credentials are not being cached.
    warned: AtomicBool,
}

impl LayeredStore {
    /// Opens both layers lazily: no thread, no syscall, no D-Bus until an operation needs it.
    pub(super) fn open(timeout: Duration) -> Result<Self, StoreError> {
        Ok(Self {
            kernel: KeyringStore::open(StoreKind::Keyutils, timeout)?,
            secret_service: KeyringStore::open(StoreKind::System, timeout)?,
            kernel_down: AtomicBool::new(false),
            warned: AtomicBool::new(false),
        })
    }

    pub(super) fn load(&self, key: &EntryKey) -> Result<Option<Secret<String>>, StoreError> {
        if !in_kernel(key) {
            return self.secret_service.load(key);
        }
        if let Some(kernel) = self.kernel() {
            match kernel.load(key) {
                Ok(Some(value)) => return Ok(Some(value)),
                Ok(None) => {}
                Err(error) => self.kernel_failed(key, &error),
            }
        }
        let value = self.secret_service.load(key)?;
        if let (Some(value), Some(kernel)) = (&value, self.kernel()) {
            // Move it off the disk, so the next read is a kernel hit; failing to is only slower.
            match kernel.save(key, value, None) {
                Ok(()) => {
                    if let Err(error) = self.secret_service.delete(key) {
                        tracing::debug!(entry = %key, %error, "could not remove an old Secret Service copy");
                    }
                }
                Err(error) => self.kernel_failed(key, &error),
            }
        }
        Ok(value)
    }

    pub(super) fn save(
        &self,
        key: &EntryKey,
        value: &Secret<String>,
        lifetime: Option<Duration>,
    ) -> Result<(), StoreError> {
        if !in_kernel(key) {
            return self.secret_service.save(key, value, lifetime);
        }
        let Err(error) = self.kernel.save(key, value, lifetime) else {
            return Ok(());
        };
        self.kernel_failed(key, &error);
        // An older copy left in the kernel layer would be served instead of the new one.
        let _ = self.kernel.delete(key);
        if !self.warned.swap(true, Ordering::Relaxed) {
            let hint = error
                .hint()
                .map(|hint| format!("; hint: {hint}"))
                .unwrap_or_default();
            tracing::warn!(
                "{error}; role credentials are used for this run only, not cached, and never \
                 written to the Secret Service (which keeps them on disk){hint}"
            );
        }
        Ok(())
    }

    pub(super) fn delete(&self, key: &EntryKey) -> Result<(), StoreError> {
        if in_kernel(key)
            && let Some(kernel) = self.kernel()
            && let Err(error) = kernel.delete(key)
        {
            self.kernel_failed(key, &error);
            if !self.kernel_down.load(Ordering::Relaxed) {
                // The kernel keyring works but would not delete: the entry may still be there.
                return Err(error);
            }
        }
        self.secret_service.delete(key)
    }

    /// The entries of both layers, each once. A kernel keyring that cannot be used holds
    /// nothing this store could have saved, as for `load`; a failure of the Secret Service is
    /// returned.
    pub(super) fn entries(&self) -> Result<Vec<EntryKey>, StoreError> {
        let mut entries = match self.kernel().map(KeyringStore::entries) {
            Some(Ok(entries)) => entries,
            Some(Err(error)) if !matches!(error, StoreError::Unavailable { .. }) => {
                return Err(error);
            }
            _ => Vec::new(),
        };
        for entry in self.secret_service.entries()? {
            if !entries.contains(&entry) {
                entries.push(entry);
            }
        }
        Ok(entries)
    }

    /// The kernel layer, unless it has failed for good in this process.
    fn kernel(&self) -> Option<&KeyringStore> {
        (!self.kernel_down.load(Ordering::Relaxed)).then_some(&self.kernel)
    }

    /// Records a kernel-keyring failure; the caller carries on with the Secret Service.
    fn kernel_failed(&self, key: &EntryKey, error: &StoreError) {
        let down = matches!(
            error,
            StoreError::Unavailable { .. }
                | StoreError::Unsupported { .. }
                | StoreError::WorkerLost { .. }
                | StoreError::TimedOut { .. }
        );
        if down {
            self.kernel_down.store(true, Ordering::Relaxed);
        }
        tracing::debug!(entry = %key, %error, down, "kernel keyring layer failed; using the Secret Service");
    }
}

/// Whether `key` belongs in the kernel keyring layer.
fn in_kernel(key: &EntryKey) -> bool {
    key.namespace() == Namespace::RoleCredentials
}
