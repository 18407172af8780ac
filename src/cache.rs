//! Typed entries on top of the credential store: each entry is one JSON document, serialized
//! into a zeroizing buffer. An entry that cannot be read back (from an older version, or damaged)
//! is treated as absent and replaced, never as a reason to fail.

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
            // The serde error names a position and an expected type, never the content.
            tracing::warn!(entry = %key, %error, "ignoring an unreadable credential store entry");
            Ok(None)
        }
    }
}

pub fn save<T: Serialize>(
    store: &CredentialStore,
    key: &EntryKey,
    value: &T,
) -> Result<(), StoreError> {
    let json = serde_json::to_string(value).expect("credential store entries always serialize");
    store.save(key, &Secret::new(json))
}
