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

fn locked() -> MutexGuard<'static, HashMap<EntryKey, Secret<String>>> {
    // A panic while holding the lock cannot leave the map half-updated: every operation is a
    // single insert, remove or clone.
    ENTRIES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(super) fn load(key: &EntryKey) -> Option<Secret<String>> {
    locked().get(key).cloned()
}

pub(super) fn save(key: &EntryKey, value: &Secret<String>) {
    locked().insert(key.clone(), value.clone());
}

pub(super) fn delete(key: &EntryKey) {
    locked().remove(key);
}

pub(super) fn entries() -> Vec<EntryKey> {
    locked().keys().cloned().collect()
}
