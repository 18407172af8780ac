//! `StoreError`: everything that can go wrong talking to a credential store, and what the user
//! can do about it.
//!
//! It owns the error taxonomy and the hints. Display is one lowercase clause naming the store and
//! never repeats the cause, which sits in `source()`. No variant may carry a secret value: the
//! keyring library's own error carries the stored bytes in some variants, so `keyring.rs`
//! classifies those into [`StoreError::NotUtf8`] and [`StoreError::Ambiguous`] before anything
//! is kept (see [`BackendError`]).

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

use super::{
    Damage, EntryKey, KEYRING_PASSWORD_ENV, KEYRING_TIMEOUT_ENV, KEYRING_TYPE_ENV, Namespace,
    PasswordProblem, StoreKind,
};
use crate::fs::{Exposure, LockError, LockMode};

/// The operation that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreOp {
    Load,
    Save,
    Delete,
    /// Listing the store's own entries (`logout`).
    List,
}

impl fmt::Display for StoreOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Load => "load",
            Self::Save => "save",
            Self::Delete => "delete",
            Self::List => "list entries",
        })
    }
}

/// The cause reported by the keyring library or the kernel, kept for `caused by:` lines.
///
/// Built only from errors that carry no secret bytes: platform errors (D-Bus, keyutils errno)
/// and the keyring library's argument and support errors.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct BackendError(Box<dyn std::error::Error + Send + Sync>);

impl BackendError {
    pub(super) fn new(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(source.into())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The kind exists, but not on this platform (for example `keyutils` on macOS).
    #[error("credential store `{kind}` is not supported on this platform")]
    Unsupported { kind: StoreKind },

    /// The store could not be reached or refused access (no D-Bus session, no Secret Service,
    /// keyutils `EACCES`, no persistent keyring).
    #[error("credential store `{kind}` is unavailable")]
    Unavailable {
        kind: StoreKind,
        #[source]
        source: BackendError,
    },

    /// The Secret Service collection is locked and could not be unlocked without a prompt.
    #[error("credential store `{kind}` is locked")]
    Locked {
        kind: StoreKind,
        op: StoreOp,
        #[source]
        source: BackendError,
    },

    /// The store did not answer in time, typically an unlock prompt nobody can answer.
    #[error("credential store `{kind}` did not answer a {op} within {}", humantime::format_duration(*.after))]
    TimedOut {
        kind: StoreKind,
        op: StoreOp,
        after: Duration,
    },

    /// The kernel keyring quota for this user is exhausted.
    #[error("credential store `{kind}` is full: cannot save `{key}`")]
    QuotaExceeded { kind: StoreKind, key: EntryKey },

    /// More than one keyring item matches the entry, so the store cannot tell which one is ours.
    #[error("credential store `{kind}` holds {count} items for `{key}`")]
    Ambiguous {
        kind: StoreKind,
        key: EntryKey,
        count: usize,
    },

    /// The stored value is not UTF-8, so atmos-auth did not write it.
    #[error("credential store `{kind}` holds a value for `{key}` that is not UTF-8")]
    NotUtf8 { kind: StoreKind, key: EntryKey },

    /// Keyrings cannot hold an empty value (keyutils rejects it), so no store accepts one.
    #[error("cannot save an empty value for `{key}` in credential store `{kind}`")]
    EmptyValue { kind: StoreKind, key: EntryKey },

    /// The store's worker thread died (a panic inside the keyring library).
    #[error("credential store `{kind}` stopped while trying to {op} `{key}`")]
    WorkerLost {
        kind: StoreKind,
        op: StoreOp,
        key: EntryKey,
    },

    /// Any other failure reported by the store.
    #[error("credential store `{kind}` failed to {op} `{key}`")]
    Backend {
        kind: StoreKind,
        op: StoreOp,
        key: EntryKey,
        #[source]
        source: BackendError,
    },

    /// The store could not list its entries (the kernel keyring or Secret Service refused the
    /// search).
    #[error("credential store `{kind}` could not list its entries")]
    ListFailed {
        kind: StoreKind,
        #[source]
        source: BackendError,
    },

    /// The `file` store was opened without a password: none in the environment and no terminal
    /// to ask on, or `CredentialStore::open` was used instead of `open_file`.
    #[error("credential store `file` needs a password")]
    PasswordRequired,

    /// The `file` store's password is unusable (too short, not UTF-8, confirmation differs).
    #[error("the password for credential store `file` {problem}")]
    InvalidPassword { problem: PasswordProblem },

    /// The password does not open the existing file. The file is left as it was.
    #[error("wrong password for credential store `file` at `{}`", path.display())]
    WrongPassword { path: PathBuf },

    /// The file cannot be read as a credential file. It is left as it was.
    #[error("credential store file `{}` is unreadable: {damage}", path.display())]
    Corrupt { path: PathBuf, damage: Damage },

    /// The file or its directory could be changed or swapped by someone else.
    #[error("credential store `file` refuses `{}`: {exposure}", path.display())]
    Insecure { path: PathBuf, exposure: Exposure },

    /// The lock beside the file could not be taken in time, or at all.
    #[error("credential store `file` could not take its lock to {op}")]
    Lock {
        op: StoreOp,
        #[source]
        source: LockError,
    },

    /// Reading, writing or creating the file or its directory failed.
    #[error("credential store `file` failed to {what} `{}`", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// No home directory, so no default place for the file.
    #[error("there is no user data directory to keep credential store `file` in")]
    NoDataDir,
}

impl StoreError {
    pub fn kind(&self) -> StoreKind {
        match self {
            Self::Unsupported { kind }
            | Self::Unavailable { kind, .. }
            | Self::Locked { kind, .. }
            | Self::TimedOut { kind, .. }
            | Self::QuotaExceeded { kind, .. }
            | Self::Ambiguous { kind, .. }
            | Self::NotUtf8 { kind, .. }
            | Self::EmptyValue { kind, .. }
            | Self::WorkerLost { kind, .. }
            | Self::ListFailed { kind, .. }
            | Self::Backend { kind, .. } => *kind,
            Self::PasswordRequired
            | Self::InvalidPassword { .. }
            | Self::WrongPassword { .. }
            | Self::Corrupt { .. }
            | Self::Insecure { .. }
            | Self::Lock { .. }
            | Self::Io { .. }
            | Self::NoDataDir => StoreKind::File,
        }
    }

    /// Every store failure ends the run with the store's exit code (README, "Exit codes").
    pub fn exit_code(&self) -> i32 {
        crate::exit::STORE
    }

    /// What the user can do about it, printed after the error and its causes.
    pub fn hint(&self) -> Option<String> {
        let other_store = match self.kind() {
            StoreKind::Keyutils => StoreKind::SecretService,
            StoreKind::System | StoreKind::SecretService | StoreKind::Memory | StoreKind::File => {
                StoreKind::Keyutils
            }
        };
        // Only Linux has a second real store to switch to.
        let switch = if cfg!(target_os = "linux") {
            format!(", or set {KEYRING_TYPE_ENV}={other_store}")
        } else {
            String::new()
        };
        match self {
            Self::Unsupported { .. } => Some(format!("set {KEYRING_TYPE_ENV}=system")),
            Self::Unavailable {
                kind: StoreKind::Keyutils,
                ..
            } => Some(format!(
                "the kernel keyring refused access: run atmos-auth from a login session (or under `keyctl \
         session -`) on a kernel with persistent keyrings{switch}"
            )),
            Self::Unavailable {
                kind: StoreKind::System | StoreKind::SecretService,
                ..
            } if cfg!(target_os = "linux") => Some(format!(
                "start a Secret Service (gnome-keyring, KeePassXC or KWallet) in your D-Bus session and \
           unlock it{switch}"
            )),
            Self::Unavailable { .. }
            | Self::WorkerLost { .. }
            | Self::ListFailed { .. }
            | Self::Backend { .. } => None,
            Self::Locked { .. } => Some(format!(
                "unlock your login keyring (log in to the desktop, or on a headless host pipe its password \
         to `gnome-keyring-daemon --unlock`){switch}"
            )),
            Self::TimedOut { .. } => Some(format!(
                "the store may be waiting for an unlock prompt nobody can answer: unlock it, raise \
         {KEYRING_TIMEOUT_ENV}{switch}"
            )),
            // An ordinary user cannot raise the quota, but can drop the role credentials
            // cached there (fetched again when needed), including those an earlier version
            // left without a timeout under keys this one never reads.
            Self::QuotaExceeded { .. } => Some(format!(
                "free it with `keyctl get_persistent @s >/dev/null && keyctl purge -p user {}:{}:` \
                 (role credentials are fetched again when needed), or as root raise \
                 /proc/sys/kernel/keys/maxbytes and maxkeys (the per-user kernel key quota){switch}",
                EntryKey::SERVICE,
                Namespace::RoleCredentials.as_str()
            )),
            Self::Ambiguous { key, .. } => Some(format!(
                "delete the duplicates, for example `secret-tool clear service {} username {}`",
                EntryKey::SERVICE,
                key.user()
            )),
            Self::NotUtf8 { key, .. } => Some(format!(
                "the item for `{key}` was not written by atmos-auth: delete it and log in again"
            )),
            Self::EmptyValue { .. } => None,
            Self::PasswordRequired => Some(format!(
                "set {KEYRING_PASSWORD_ENV}, or run atmos-auth in a terminal to be asked for it"
            )),
            Self::InvalidPassword { .. } => None,
            Self::WrongPassword { path } => Some(format!(
                "check {KEYRING_PASSWORD_ENV} or what you typed; if the password is lost, delete `{}` \
         and log in again",
                path.display()
            )),
            Self::Corrupt { path, .. } => Some(format!(
                "atmos-auth left `{}` as it was: move it aside and log in again",
                path.display()
            )),
            Self::Insecure {
                path,
                exposure: Exposure::Writable { .. },
            } => Some(format!("run `chmod go-w {}`", path.display())),
            Self::Insecure {
                exposure: Exposure::Owner { .. },
                ..
            } => Some(
                "use a credential file in a directory of your own (`auth.keyring.spec.path`)"
                    .to_owned(),
            ),
            Self::Lock {
                source: LockError::TimedOut { mode, .. },
                ..
            } => Some(format!(
                "another atmos-auth process is {} the credential file: wait for it, or raise \
         {KEYRING_TIMEOUT_ENV}",
                match mode {
                    LockMode::Shared => "writing",
                    LockMode::Exclusive => "using",
                }
            )),
            Self::Lock { .. } | Self::Io { .. } => None,
            Self::NoDataDir => Some(
                "set `auth.keyring.spec.path` to where the credential file should be".to_owned(),
            ),
        }
    }
}
