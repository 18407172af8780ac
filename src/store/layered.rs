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
//!
//! In front of the kernel keyring, role credentials go to the runtime-directory tier
//! (`role_tier.rs`) when the process has a usable `$XDG_RUNTIME_DIR`: files there, sealed with a
//! key the kernel keyring keeps, so that any number of identities fit in a few dozen bytes of
//! kernel quota and none reaches a disk. A read tries the tier first (one file open, one kernel
//! read of the key, one decryption); a miss carries on as above, so credentials cached in the
//! kernel keyring by an earlier version, or by a process without a runtime directory, are still
//! found. A save goes to the tier and removes any kernel-keyring copy (freeing its quota); if the
//! tier cannot take it (its key refused by a full kernel keyring, a full tmpfs), the save carries
//! on as above. Without a runtime directory, or with one that is refused (another user's, or open
//! to others: one warning says why), role credentials live in the kernel keyring alone.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use super::keyring::KeyringStore;
use super::role_tier::{self, RoleTier, TierKey, Unusable};
use super::{BackendError, EntryKey, FileLock, Namespace, StoreError, StoreKind, StoreOp};
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
    /// The runtime-directory tier, opened by the first role-credential operation; `None` when
    /// this process has no usable runtime directory.
    tier: OnceLock<Option<RoleTier>>,
    /// Role-credential entries this process looked for in the Secret Service and did not find.
    absent_from_secret_service: Mutex<Vec<EntryKey>>,
}

impl LayeredStore {
    /// Opens both layers lazily: no thread, no syscall, no D-Bus until an operation needs it.
    pub(super) fn open(timeout: Duration) -> Result<Self, StoreError> {
        Ok(Self {
            kernel: KeyringStore::open(StoreKind::Keyutils, timeout)?,
            secret_service: KeyringStore::open(StoreKind::System, timeout)?,
            kernel_down: AtomicBool::new(false),
            warned: AtomicBool::new(false),
            tier: OnceLock::new(),
            absent_from_secret_service: Mutex::new(Vec::new()),
        })
    }

    /// [`LayeredStore::open`] with the tier under `runtime_dir` (none: no tier), whatever this
    /// process's environment says.
    #[cfg(test)]
    pub(super) fn open_with_runtime_dir(
        timeout: Duration,
        runtime_dir: Option<&std::path::Path>,
    ) -> Result<Self, StoreError> {
        let store = Self::open(timeout)?;
        let tier = runtime_dir.map(|dir| RoleTier::open_in(dir).expect("a usable runtime dir"));
        let _ = store.tier.set(tier);
        Ok(store)
    }

    pub(super) fn load(&self, key: &EntryKey) -> Result<Option<Secret<String>>, StoreError> {
        if !in_kernel(key) {
            return self.secret_service.load(key);
        }
        if let Some(value) = self.tier_load(key) {
            return Ok(Some(value));
        }
        if let Some(kernel) = self.kernel() {
            match kernel.load(key) {
                Ok(Some(value)) => return Ok(Some(value)),
                Ok(None) => {}
                Err(error) => self.kernel_failed(key, &error),
            }
        }
        // This version never saves role credentials there: once looked for, an entry cannot
        // appear in the Secret Service during this process, and the resolver's second read
        // (under the entry's lock) need not ask the daemon, which serves every process in turn.
        if self.not_in_secret_service(key) {
            return Ok(None);
        }
        let value = self.secret_service.load(key)?;
        if value.is_none() {
            self.lock_absent().push(key.clone());
        }
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
        if self.tier_save(key, value, lifetime) {
            return Ok(());
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
            && let Some(tier) = self.tier()
        {
            tier.remove(key)
                .map_err(|source| tier_failed(StoreOp::Delete, key, source))?;
            // Nothing left to open with the key: it goes too (logout leaves no trace).
            if tier.is_empty()
                && let Some(kernel) = self.kernel()
                && let Err(error) = kernel.delete(&role_tier::key_entry())
            {
                tracing::debug!(%error, "could not remove the role-credential tier's key");
            }
        }
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
        if let Some(tier) = self.tier() {
            for entry in tier.entries().map_err(|source| StoreError::ListFailed {
                kind: StoreKind::System,
                source: BackendError::new(source),
            })? {
                if !entries.contains(&entry) {
                    entries.push(entry);
                }
            }
        }
        for entry in self.secret_service.entries()? {
            if !entries.contains(&entry) {
                entries.push(entry);
            }
        }
        Ok(entries)
    }

    /// Whether `key` was looked for in the Secret Service by this process and not found.
    fn not_in_secret_service(&self, key: &EntryKey) -> bool {
        self.lock_absent().contains(key)
    }

    fn lock_absent(&self) -> std::sync::MutexGuard<'_, Vec<EntryKey>> {
        // A panic while holding it cannot leave the list inconsistent: it only ever grows.
        self.absent_from_secret_service
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether the kernel keyring holds the tier's key while this process sees no file sealed
    /// with it: it has no usable runtime directory (the files are in one it cannot see, as from
    /// cron, `su` or a container), or an empty one. `logout` then removes the key, which makes
    /// every file sealed with it unreadable wherever that is; listing the entries could not find
    /// them.
    pub(super) fn tier_key_unseen(&self) -> Result<bool, StoreError> {
        if self.tier().is_some_and(|tier| !tier.is_empty()) {
            return Ok(false);
        }
        let Some(kernel) = self.kernel() else {
            return Ok(false);
        };
        let entry = role_tier::key_entry();
        match kernel.load(&entry) {
            Ok(found) => Ok(found.is_some()),
            Err(error) => {
                self.kernel_failed(&entry, &error);
                if self.kernel_down.load(Ordering::Relaxed) {
                    Ok(false)
                } else {
                    Err(error)
                }
            }
        }
    }

    /// Removes the tier's key from the kernel keyring (see [`LayeredStore::tier_key_unseen`]).
    pub(super) fn forget_tier_key(&self) -> Result<(), StoreError> {
        match self.kernel() {
            Some(kernel) => kernel.delete(&role_tier::key_entry()),
            None => Ok(()),
        }
    }

    /// The runtime-directory tier, opened on first use; a refused runtime directory is said once.
    fn tier(&self) -> Option<&RoleTier> {
        self.tier
            .get_or_init(|| match RoleTier::open() {
                Ok(tier) => tier,
                Err(error) => {
                    tracing::warn!(
                        "{error}; role credentials are kept in the kernel keyring only, which \
                         holds about a dozen for an ordinary user"
                    );
                    None
                }
            })
            .as_ref()
    }

    /// `key`'s value from the tier; `None` on any miss. A file that cannot be used is removed,
    /// with a warning when it was damaged; no failure here stops the caller, who reads the
    /// layers below.
    fn tier_load(&self, key: &EntryKey) -> Option<Secret<String>> {
        let (tier, kernel) = (self.tier()?, self.kernel()?);
        let sealed = match tier.read(key) {
            Ok(sealed) => sealed?,
            Err(error) => {
                tracing::debug!(entry = %key, %error, "could not read the role-credential tier");
                return None;
            }
        };
        let unusable = match self.load_tier_key(kernel) {
            Ok(Some(tier_key)) => {
                match role_tier::open(&tier_key, key, &sealed, role_tier::now_secs()) {
                    Ok(value) => return Some(value),
                    Err(unusable) => unusable,
                }
            }
            // The key is gone (purged, timed out): what it sealed is unreadable for good.
            Ok(None) => Unusable::OtherKey,
            Err(error) => {
                self.kernel_failed(key, &error);
                return None;
            }
        };
        if unusable == Unusable::Tampered {
            tracing::warn!(
                "`{}` does not hold what atmos-auth wrote there for `{key}`; removed it and \
                 fetching the credentials again",
                tier.path().display()
            );
        }
        tracing::debug!(entry = %key, ?unusable, "unusable role-credential file removed");
        if let Err(error) = tier.remove(key) {
            tracing::debug!(entry = %key, %error, "could not remove an unusable tier file");
        }
        None
    }

    /// Saves `key` in the tier; `false` when there is no tier or it could not take the value
    /// (the caller then uses the kernel keyring).
    fn tier_save(
        &self,
        key: &EntryKey,
        value: &Secret<String>,
        lifetime: Option<Duration>,
    ) -> bool {
        let (Some(tier), Some(kernel)) = (self.tier(), self.kernel()) else {
            return false;
        };
        let saved = self.tier_key_for_save(tier, kernel).and_then(|tier_key| {
            let sealed = role_tier::seal(&tier_key, key, value, role_tier::expiry_after(lifetime))
                .map_err(|source| tier_failed(StoreOp::Save, key, source))?;
            tier.write(key, &sealed)
                .map_err(|source| tier_failed(StoreOp::Save, key, source))
        });
        match saved {
            Ok(()) => {
                // A copy in the kernel keyring (earlier version, or a run without a runtime
                // directory) would only hold quota now.
                if let Err(error) = kernel.delete(key) {
                    tracing::debug!(entry = %key, %error, "could not remove a kernel-keyring copy");
                }
                true
            }
            Err(error) => {
                tracing::debug!(entry = %key, %error, "role-credential tier refused the save");
                false
            }
        }
    }

    /// The tier's key from the kernel keyring; `None` when there is none (or not one this
    /// version wrote).
    fn load_tier_key(&self, kernel: &KeyringStore) -> Result<Option<TierKey>, StoreError> {
        Ok(kernel
            .load(&role_tier::key_entry())?
            .as_ref()
            .and_then(TierKey::from_stored))
    }

    /// The tier's key for a save, made if there is none, its kernel timeout renewed to
    /// [`role_tier::KEY_LIFETIME`] so that it outlives what it is about to seal. A new key is made
    /// under the tier's lock, so that processes racing to make one agree on it.
    fn tier_key_for_save(
        &self,
        tier: &RoleTier,
        kernel: &KeyringStore,
    ) -> Result<TierKey, StoreError> {
        let entry = role_tier::key_entry();
        let tier_key = match self.load_tier_key(kernel)? {
            Some(tier_key) => tier_key,
            None => {
                let lock_file = tier.key_lock();
                let _lock =
                    FileLock::exclusive(&lock_file, tier.key_lock_timeout()).map_err(|source| {
                        tier_failed(StoreOp::Save, &entry, std::io::Error::other(source))
                    })?;
                match self.load_tier_key(kernel)? {
                    Some(tier_key) => tier_key,
                    None => {
                        let made = TierKey::generate()
                            .map_err(|source| tier_failed(StoreOp::Save, &entry, source))?;
                        kernel.save(&entry, &made.to_stored(), Some(role_tier::KEY_LIFETIME))?;
                        return Ok(made);
                    }
                }
            }
        };
        kernel.save(&entry, &tier_key.to_stored(), Some(role_tier::KEY_LIFETIME))?;
        Ok(tier_key)
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

/// A failure of the tier's files, reported under the `system` store.
fn tier_failed(op: StoreOp, key: &EntryKey, source: std::io::Error) -> StoreError {
    StoreError::Backend {
        kind: StoreKind::System,
        op,
        key: key.clone(),
        source: BackendError::new(source),
    }
}

/// Whether `key` belongs in the kernel keyring layer.
fn in_kernel(key: &EntryKey) -> bool {
    key.namespace() == Namespace::RoleCredentials
}
