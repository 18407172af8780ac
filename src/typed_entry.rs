//! Typed entries on top of the credential store: each entry is one JSON document, serialized
//! into a zeroizing buffer. An entry that cannot be read back (from an older version, or damaged)
//! is treated as absent and replaced, never as a reason to fail.

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::secret::Secret;
use crate::store::{CredentialStore, EntryKey, StoreError};

pub fn load<T: DeserializeOwned>(
    store: &CredentialStore,
    key: &EntryKey,
) -> Result<Option<T>, StoreError> {
    let Some(raw) = store.load(key)? else {
        return Ok(None);
    };
    match serde_json::from_str(raw.expose()) {
        Ok(value) => Ok(Some(value)),
        Err(error) => {
            // serde_json's message can quote the value it choked on; only its category and
            // position are logged.
            tracing::warn!(
                entry = %key,
                category = ?error.classify(),
                line = error.line(),
                column = error.column(),
                "ignoring an unreadable credential store entry"
            );
            Ok(None)
        }
    }
}

pub fn save<T: Serialize>(
    store: &CredentialStore,
    key: &EntryKey,
    value: &T,
) -> Result<(), StoreError> {
    store.save(key, &to_json(value))
}

/// [`save`] for a value worthless after `lifetime`: see [`CredentialStore::save_expiring`].
pub fn save_expiring<T: Serialize>(
    store: &CredentialStore,
    key: &EntryKey,
    value: &T,
    lifetime: Duration,
) -> Result<(), StoreError> {
    store.save_expiring(key, &to_json(value), lifetime)
}

fn to_json<T: Serialize>(value: &T) -> Secret<String> {
    Secret::new(serde_json::to_string(value).expect("credential store entries always serialize"))
}

/// Property tests: whatever a store entry holds (another version's JSON, damage, garbage), loading
/// it never panics and never fails: it reads as absent. Cases: 256 by default, `PROPTEST_CASES=N`.
#[cfg(test)]
mod props {
    use proptest::prelude::*;

    use super::*;
    use crate::credentials::Credentials;
    use crate::store::{Namespace, StoreKind};

    fn entry() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            // Near misses: the right shape with wrong types, missing or extra fields.
            (any::<i64>(), "[ -~]{0,20}", any::<bool>()).prop_map(|(n, s, b)| format!(
                "{{\"access_token\":{n},\"expires_at\":{},\"refresh_token\":{b},\"x\":1}}",
                serde_json::json!(s)
            )),
            (any::<u64>(), "[ -~]{0,20}").prop_map(|(n, s)| format!(
                "{{\"access_key_id\":{},\"secret_access_key\":\"k\",\"expires_at\":{n}",
                serde_json::json!(s)
            )),
        ]
    }

    proptest! {
        #[test]
        fn garbage_entries_load_as_absent(raw in entry()) {
            prop_assume!(!raw.is_empty(), "the store refuses empty values");
            let store = CredentialStore::open(StoreKind::Memory, Duration::from_secs(1)).unwrap();
            let key = EntryKey::new(Namespace::SsoSession, "props");
            store.save(&key, &Secret::new(raw.clone())).unwrap();
            let _ = load::<crate::credentials::AccessKeys>(&store, &key).unwrap();
            let _ = load::<Credentials>(&store, &key).unwrap();
            let _ = load::<serde_json::Value>(&store, &key).unwrap();
        }
    }
}
