//! The `memory` store: a process-wide map, for tests.
//!
//! It owns one static map shared by every `CredentialStore` of kind `memory` in the process, so
//! two handles see each other's entries like two handles on a real keyring do. It must not be
//! used to keep anything across processes: nothing here is ever written anywhere.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, MutexGuard};

use super::EntryKey;
use crate::secret::Secret;

static ENTRIES: LazyLock<Mutex<HashMap<EntryKey, Secret<String>>>> = LazyLock::new(Mutex::default);

fn entries() -> MutexGuard<'static, HashMap<EntryKey, Secret<String>>> {
    // A panic while holding the lock cannot leave the map half-updated: every operation is a
    // single insert, remove or clone.
    ENTRIES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(super) fn load(key: &EntryKey) -> Option<Secret<String>> {
    entries().get(key).cloned()
}

pub(super) fn save(key: &EntryKey, value: &Secret<String>) {
    entries().insert(key.clone(), value.clone());
}

pub(super) fn delete(key: &EntryKey) {
    entries().remove(key);
}
