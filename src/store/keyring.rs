//! Keyring-backed stores (`system`, `secret-service`, `keyutils`), each bounded in time.
//!
//! This file owns the worker thread, the timeout and the translation of keyring errors into
//! [`StoreError`]. It must not decide which store to use (the caller passes a [`StoreKind`]) and
//! must never wait on a store without a deadline.
//!
//! Why a worker thread: Secret Service calls have no timeout of their own, and a locked
//! collection whose unlock prompt nobody answers blocks the calling thread forever. Every
//! operation is therefore sent to one worker thread per `KeyringStore`, and the caller waits for
//! the answer with `recv_timeout`. On timeout the caller gets [`StoreError::TimedOut`]; the worker
//! may stay blocked, and later operations queue behind it and time out too (no thread per call is
//! leaked). A job whose caller has already given up is dropped, not run late, so a timed-out
//! `save` or `delete` does not happen behind the caller's back once the store wakes up. The
//! worker also opens the store lazily, so the connection cost (a D-Bus connection and session
//! key exchange, about 5-12 ms) is paid by the first operation and is bounded by the same
//! timeout. The thread itself is spawned by the first operation too (about 50 µs), so `open`
//! costs nothing and a handle that is never used (the Secret Service layer of the `system` store
//! on a cache hit, see `layered.rs`) never starts one.
//!
//! The keyutils store must run on this worker too: see `keyutils.rs` for why its session keyring
//! is per thread.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use keyring_core::{CredentialStore as Backend, Entry, Error as KeyringError};

#[cfg(target_os = "linux")]
use super::keyutils;
use super::{BackendError, EntryKey, StoreError, StoreKind, StoreOp};
use crate::secret::Secret;

/// Opens the keyring store for a kind; runs on the worker thread.
type Opener = fn(StoreKind) -> Result<Arc<Backend>, StoreError>;

/// The store as the worker opened it, or why it could not.
type Opened<'a> = Result<&'a Arc<Backend>, StoreError>;

/// One operation for the worker. It holds the secret being saved, so it has no `Debug`.
struct Job {
    /// After this instant the caller has stopped waiting, and the job is dropped unrun.
    deadline: Instant,
    run: Box<dyn FnOnce(Opened<'_>) + Send>,
}

#[derive(Debug)]
pub(super) struct KeyringStore {
    kind: StoreKind,
    timeout: Duration,
    opener: Opener,
    /// The worker's queue, once the first operation has started it.
    jobs: OnceLock<mpsc::Sender<Job>>,
}

impl KeyringStore {
    /// A handle on the store of `kind`; nothing is started or connected until the first operation.
    pub(super) fn open(kind: StoreKind, timeout: Duration) -> Result<Self, StoreError> {
        let opener = opener(kind).ok_or(StoreError::Unsupported { kind })?;
        Ok(Self {
            kind,
            timeout,
            opener,
            jobs: OnceLock::new(),
        })
    }

    /// The worker's queue, starting the worker on first use.
    fn jobs(&self) -> Result<&mpsc::Sender<Job>, StoreError> {
        if let Some(jobs) = self.jobs.get() {
            return Ok(jobs);
        }
        let (kind, opener) = (self.kind, self.opener);
        let (jobs, queue) = mpsc::channel();
        thread::Builder::new()
            .name(format!("store-{kind}"))
            .spawn(move || work(kind, opener, queue))
            .map_err(|source| StoreError::Unavailable {
                kind,
                source: BackendError::new(source),
            })?;
        // Two threads racing here each start a worker; the loser's sender is dropped, so its
        // worker sees a closed queue and exits.
        Ok(self.jobs.get_or_init(|| jobs))
    }

    pub(super) fn load(&self, key: &EntryKey) -> Result<Option<Secret<String>>, StoreError> {
        self.call(StoreOp::Load, key, |entry| match entry.get_password() {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(KeyringError::NoEntry) => Ok(None),
            Err(error) => Err(error),
        })
    }

    /// Saves `value`; with a `lifetime`, the kernel keyring removes the entry once it has passed
    /// (the other stores cannot expire entries and keep it until it is replaced).
    pub(super) fn save(
        &self,
        key: &EntryKey,
        value: &Secret<String>,
        lifetime: Option<Duration>,
    ) -> Result<(), StoreError> {
        let value = value.clone();
        let kind = self.kind;
        let description = key_description(key);
        self.call(StoreOp::Save, key, move |entry| {
            entry.set_password(value.expose())?;
            match lifetime {
                Some(lifetime) => expire_after(kind, &description, lifetime),
                None => Ok(()),
            }
        })
    }

    pub(super) fn delete(&self, key: &EntryKey) -> Result<(), StoreError> {
        self.call(StoreOp::Delete, key, |entry| {
            match entry.delete_credential() {
                Ok(()) | Err(KeyringError::NoEntry) => Ok(()),
                Err(error) => Err(error),
            }
        })
    }

    /// Every atmos-auth entry in this store: the Secret Service items with the service
    /// `atmos-auth`, or the kernel keys described `atmos-auth:…`. Items of a namespace this
    /// version does not know are left out.
    pub(super) fn entries(&self) -> Result<Vec<EntryKey>, StoreError> {
        let kind = self.kind;
        let lost = || StoreError::ListFailed {
            kind,
            source: BackendError::new("the store's worker thread stopped"),
        };
        self.run(StoreOp::List, lost, move |backend| list(kind, backend))
    }

    /// Runs `task` on the worker for the entry `key` and waits at most `self.timeout` for its
    /// answer.
    fn call<T: Send + 'static>(
        &self,
        op: StoreOp,
        key: &EntryKey,
        task: impl FnOnce(&Entry) -> Result<T, KeyringError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let kind = self.kind;
        let job_key = key.clone();
        let lost = || StoreError::WorkerLost {
            kind,
            op,
            key: key.clone(),
        };
        self.run(op, lost, move |backend| {
            let entry = build_entry(kind, backend, &job_key)
                .map_err(|error| classify(kind, op, &job_key, error))?;
            task(&entry).map_err(|error| classify(kind, op, &job_key, error))
        })
    }

    /// Runs `task` on the worker with the opened store and waits at most `self.timeout` for its
    /// answer; `lost` is the error when the worker is gone.
    fn run<T: Send + 'static>(
        &self,
        op: StoreOp,
        lost: impl Fn() -> StoreError,
        task: impl FnOnce(&Arc<Backend>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let kind = self.kind;
        let (reply, answer) = mpsc::sync_channel(1);
        let job = Job {
            deadline: Instant::now() + self.timeout,
            run: Box::new(move |backend: Opened<'_>| {
                // The caller may have timed out and gone; then nobody wants the answer.
                let _ = reply.send(backend.and_then(task));
            }),
        };
        self.jobs()?.send(job).map_err(|_| lost())?;
        match answer.recv_timeout(self.timeout) {
            Ok(result) => result,
            Err(mpsc::RecvTimeoutError::Timeout) => Err(StoreError::TimedOut {
                kind,
                op,
                after: self.timeout,
            }),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(lost()),
        }
    }
}

/// The atmos-auth entries of `backend`; runs on the worker.
fn list(kind: StoreKind, backend: &Arc<Backend>) -> Result<Vec<EntryKey>, StoreError> {
    #[cfg(target_os = "linux")]
    if kind == StoreKind::Keyutils {
        let prefix = format!("{}:", EntryKey::SERVICE);
        let descriptions = keyutils::descriptions(&prefix).map_err(|error| match error {
            linux_keyutils::KeyError::AccessDenied => StoreError::Unavailable {
                kind,
                source: BackendError::new(error),
            },
            other => StoreError::ListFailed {
                kind,
                source: BackendError::new(other),
            },
        })?;
        // The role-credential tier's key is no entry: `layered.rs` removes it with the tier.
        let tier_key = super::role_tier::key_entry();
        return Ok(descriptions
            .iter()
            .filter_map(|description| EntryKey::from_user(&description[prefix.len()..]))
            .filter(|entry| *entry != tier_key)
            .collect());
    }
    let spec = HashMap::from([("service", EntryKey::SERVICE)]);
    let found = backend.search(&spec).map_err(|error| match error {
        KeyringError::NoStorageAccess(source) => StoreError::Locked {
            kind,
            op: StoreOp::List,
            source: BackendError::new(source),
        },
        // Search errors describe the store and the query, never stored data.
        other => StoreError::ListFailed {
            kind,
            source: BackendError::new(other),
        },
    })?;
    Ok(found
        .iter()
        .filter_map(Entry::get_specifiers)
        .filter(|(service, _)| service == EntryKey::SERVICE)
        .filter_map(|(_, user)| EntryKey::from_user(&user))
        .collect())
}

fn opener(kind: StoreKind) -> Option<Opener> {
    match kind {
        StoreKind::System => Some(open_system),
        #[cfg(target_os = "linux")]
        StoreKind::SecretService => Some(open_system),
        #[cfg(target_os = "linux")]
        StoreKind::Keyutils => Some(keyutils::open),
        // `memory` is served by memory.rs; the rest do not exist on this platform.
        _ => None,
    }
}

/// The platform store, as chosen by the `keyring` crate: the Secret Service (pure-Rust zbus
/// client) on Linux, the Keychain on macOS, the Credential Manager on Windows.
///
/// `keyring` builds it once per process and installs it as keyring-core's default store; a
/// failure is remembered for the life of the process, which suits a short-lived CLI.
fn open_system(kind: StoreKind) -> Result<Arc<Backend>, StoreError> {
    let unavailable = |source: BackendError| StoreError::Unavailable { kind, source };
    match keyring::Entry::store_status() {
        Ok(()) => keyring_core::get_default_store()
            .ok_or_else(|| unavailable(BackendError::new(KeyringError::NoDefaultStore))),
        Err(error) => Err(unavailable(BackendError::new(error))),
    }
}

fn work(kind: StoreKind, open: Opener, queue: mpsc::Receiver<Job>) {
    let mut backend: Option<Arc<Backend>> = None;
    for job in queue {
        if Instant::now() >= job.deadline {
            continue;
        }
        // Not opened yet, or the last attempt failed: try again, so a store that comes up later
        // (a keyring unlocked in the meantime) is picked up.
        match backend.take().map_or_else(|| open(kind), Ok) {
            Ok(opened) => {
                (job.run)(Ok(&opened));
                backend = Some(opened);
            }
            Err(error) => (job.run)(Err(error)),
        }
    }
}

fn build_entry(
    kind: StoreKind,
    backend: &Arc<Backend>,
    key: &EntryKey,
) -> Result<Entry, KeyringError> {
    let user = key.user();
    let label = key.label();
    let description = key_description(key);
    // Each store accepts only its own modifiers and rejects unknown ones.
    let modifiers: HashMap<&str, &str> = match kind {
        StoreKind::Keyutils => HashMap::from([("description", description.as_str())]),
        _ if cfg!(target_os = "linux") => HashMap::from([("label", label.as_str())]),
        _ => HashMap::new(),
    };
    Entry::new_in_store_with_modifiers(backend, EntryKey::SERVICE, &user, &modifiers)
}

/// Has the kernel remove the key just saved once `lifetime` has passed. The other stores cannot
/// expire entries: there the resolver's expiry check alone stops a stale value being used.
#[cfg(target_os = "linux")]
fn expire_after(
    kind: StoreKind,
    description: &str,
    lifetime: Duration,
) -> Result<(), KeyringError> {
    if kind != StoreKind::Keyutils {
        return Ok(());
    }
    keyutils::expire_after(description, lifetime)
        .map_err(|error| KeyringError::PlatformFailure(Box::new(error)))
}

#[cfg(not(target_os = "linux"))]
fn expire_after(
    _kind: StoreKind,
    _description: &str,
    _lifetime: Duration,
) -> Result<(), KeyringError> {
    Ok(())
}

/// The kernel key's description: `atmos-auth:<namespace>:<id>`.
fn key_description(key: &EntryKey) -> String {
    format!("{}:{}", EntryKey::SERVICE, key.user())
}

/// Translates a keyring error, dropping the secret bytes some variants carry.
fn classify(kind: StoreKind, op: StoreOp, key: &EntryKey, error: KeyringError) -> StoreError {
    let key = key.clone();
    match error {
        // keyutils: EACCES. Secret Service: the collection is locked and unlocking needs a prompt.
        KeyringError::NoStorageAccess(source) if kind == StoreKind::Keyutils => {
            StoreError::Unavailable {
                kind,
                source: BackendError::new(source),
            }
        }
        KeyringError::NoStorageAccess(source) => StoreError::Locked {
            kind,
            op,
            source: BackendError::new(source),
        },
        // Both carry the stored bytes, that is the secret: keep neither.
        KeyringError::BadEncoding(_) | KeyringError::BadDataFormat(..) => {
            StoreError::NotUtf8 { kind, key }
        }
        KeyringError::Ambiguous(items) => StoreError::Ambiguous {
            kind,
            key,
            count: items.len(),
        },
        #[cfg(target_os = "linux")]
        KeyringError::PlatformFailure(source) if keyutils::is_quota_exceeded(source.as_ref()) => {
            StoreError::QuotaExceeded { kind, key }
        }
        KeyringError::PlatformFailure(source) => StoreError::Backend {
            kind,
            op,
            key,
            source: BackendError::new(source),
        },
        // The remaining variants describe arguments and store support, never stored data.
        other => StoreError::Backend {
            kind,
            op,
            key,
            source: BackendError::new(other),
        },
    }
}
