//! Opening the Linux kernel keyring (`keyutils` store) so that entries outlive the process.
//!
//! This file owns the choice of kernel keyrings and the kernel's own expiry of keys. It must run
//! on the store's worker thread (see `keyring.rs`) and must not read or write entries itself.
//!
//! Which keyring, and why. The `linux-keyutils-keyring-store` crate adds each key to the calling
//! thread's *session* keyring and links it into the user's *persistent* keyring
//! (`persistent-keyring(7)`), which it links into the session keyring; reads search the session
//! keyring, so they find keys through that link.
//!
//! A process started outside a login session (non-login shells, CI, `systemd-run`, containers)
//! has no session keyring. The kernel then hands it the per-user *user-session* keyring, into
//! which the persistent keyring cannot be linked, and every operation of that crate fails with
//! `EACCES` (measured: `NoStorageAccess(AccessDenied)`, even on reads). A plain
//! `add_key(..., @s)` in such a process silently creates a fresh anonymous session keyring that
//! dies with the process, so nothing would survive until the next `atmos-auth env`.
//!
//! So before the first operation the worker asks for its session keyring with "create" set: a
//! thread that has one (a login session made by `pam_keyinit`) keeps it; a thread that has none
//! gets a new anonymous one, the equivalent of `keyctl new_session`. Session keyrings are part of
//! a thread's credentials, so this changes only the worker thread: children started by `exec`
//! still inherit the user's own session keyring. Then the worker links the persistent keyring
//! into it and **requires** that to succeed, because the persistent keyring is what makes entries
//! survive between invocations: every `atmos-auth` process, in any session of the same user,
//! links the same `_persistent.<uid>` keyring and finds the keys there. Its lifetime is set by
//! `/proc/sys/kernel/keys/persistent_keyring_expiry` (3 days by default), counted from the last
//! time any process asked for it, so from the last atmos-auth run; a reboot clears it. A kernel
//! without `CONFIG_PERSISTENT_KEYRINGS` gets [`StoreError::Unavailable`] rather than a store
//! that forgets everything at exit.
//!
//! Keys are described `atmos-auth:<namespace>:<id>` (see `keyctl show %:_persistent.<uid>`
//! after `keyctl get_persistent @s`). The kernel's per-user quota (`/proc/sys/kernel/keys/
//! maxbytes`, 20000 bytes for non-root users by default) bounds how many entries fit; running out
//! is [`StoreError::QuotaExceeded`].
//!
//! Expiry. A key saved with a lifetime (role credentials: the caller knows when they expire) gets
//! a kernel timeout (`keyctl_set_timeout`) of that lifetime, rounded down to whole seconds and at
//! least one (zero would mean "never"). The kernel then treats the key as gone and reclaims it
//! and its quota, so dead credentials do not pile up in the persistent keyring for three days.
//! Saving again over an expired key revives it in place and sets a new timeout.
//!
//! Listing (for `logout`). The kernel has no search by prefix, so [`descriptions`] walks the
//! keyrings this thread can reach from its session keyring (the persistent keyring among them,
//! linked by [`open`]) and keeps the `user` keys whose description starts with the prefix. It
//! reads each keyring and description with a size query first, so no buffer is ever too small
//! whatever other programs keep in the same keyrings.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use keyring_core::CredentialStore as Backend;
use linux_keyutils::{KeyError, KeyRing, KeyRingIdentifier};

use super::{BackendError, StoreError, StoreKind};

pub(super) fn open(kind: StoreKind) -> Result<Arc<Backend>, StoreError> {
    let unavailable = |source: BackendError| StoreError::Unavailable { kind, source };
    KeyRing::from_special_id(KeyRingIdentifier::Session, true)
        .map_err(|error| unavailable(BackendError::new(error)))?;
    KeyRing::get_persistent(KeyRingIdentifier::Session)
        .map_err(|error| unavailable(BackendError::new(error)))?;
    let store: Arc<Backend> = linux_keyutils_keyring_store::Store::new()
        .map_err(|error| unavailable(BackendError::new(error)))?;
    Ok(store)
}

/// Whether a platform failure reported by the keyutils store is `EDQUOT`.
pub(super) fn is_quota_exceeded(source: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
    matches!(
        source.downcast_ref::<KeyError>(),
        Some(KeyError::QuotaExceeded)
    )
}

/// Makes the kernel remove the key described `description`, just saved by this thread, after
/// `lifetime`.
pub(super) fn expire_after(description: &str, lifetime: Duration) -> Result<(), KeyError> {
    let seconds = usize::try_from(lifetime.as_secs().max(1)).unwrap_or(usize::MAX);
    KeyRing::from_special_id(KeyRingIdentifier::Session, false)?
        .search(description)?
        .set_timeout(seconds)
}

/// `keyctl(2)` operations and special ids used by [`descriptions`] (from `<linux/keyctl.h>`).
const KEYCTL_DESCRIBE: libc::c_long = 6;
const KEYCTL_READ: libc::c_long = 11;
const KEY_SPEC_SESSION_KEYRING: i32 = -3;
/// How deep below the session keyring to look: the persistent keyring is one level down.
const MAX_KEYRING_DEPTH: usize = 3;

/// The descriptions of the `user` keys starting with `prefix` that this thread reaches from its
/// session keyring, each once. Keys and keyrings this user may not view are skipped.
pub(super) fn descriptions(prefix: &str) -> Result<Vec<String>, KeyError> {
    let mut found = Vec::new();
    let mut seen = HashSet::new();
    let mut rings = vec![(KEY_SPEC_SESSION_KEYRING, 0)];
    while let Some((ring, depth)) = rings.pop() {
        let links = match keyctl_read(KEYCTL_READ, ring) {
            Ok(links) => links,
            // The session keyring must be readable; a nested keyring of someone else's need not.
            Err(error) if ring == KEY_SPEC_SESSION_KEYRING => return Err(error),
            Err(_) => continue,
        };
        for id in links
            .chunks_exact(4)
            .map(|bytes| i32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
        {
            if !seen.insert(id) {
                continue;
            }
            let Ok(raw) = keyctl_read(KEYCTL_DESCRIBE, id) else {
                continue;
            };
            // `type;uid;gid;perm;description`, NUL-terminated; the description may hold `;`.
            let text = String::from_utf8_lossy(raw.strip_suffix(b"\0").unwrap_or(&raw));
            let mut fields = text.splitn(5, ';');
            let kind = fields.next().unwrap_or_default();
            let description = fields.nth(3).unwrap_or_default();
            match kind {
                "keyring" if depth < MAX_KEYRING_DEPTH => rings.push((id, depth + 1)),
                "user" if description.starts_with(prefix) => found.push(description.to_owned()),
                _ => {}
            }
        }
    }
    Ok(found)
}

/// The bytes `keyctl(operation, id, buffer, size)` fills in, asking for the size first and again
/// if it grew in between.
fn keyctl_read(operation: libc::c_long, id: i32) -> Result<Vec<u8>, KeyError> {
    loop {
        // SAFETY: a null buffer of length zero only asks the kernel for the size.
        let size = unsafe {
            libc::syscall(
                libc::SYS_keyctl,
                operation,
                libc::c_long::from(id),
                std::ptr::null_mut::<u8>(),
                0usize,
            )
        };
        let size = usize::try_from(size).map_err(|_| KeyError::from_errno())?;
        let mut buffer = vec![0u8; size];
        // SAFETY: the kernel writes at most `buffer.len()` bytes into `buffer`.
        let filled = unsafe {
            libc::syscall(
                libc::SYS_keyctl,
                operation,
                libc::c_long::from(id),
                buffer.as_mut_ptr(),
                buffer.len(),
            )
        };
        let filled = usize::try_from(filled).map_err(|_| KeyError::from_errno())?;
        if filled <= buffer.len() {
            buffer.truncate(filled);
            return Ok(buffer);
        }
    }
}
