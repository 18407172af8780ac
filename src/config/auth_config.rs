//! `AuthConfig`: the validated `auth:` section.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::{Identity, Provider};
use crate::store::StoreKind;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthConfig {
    /// `keyring.type`; `None` leaves the choice to the caller.
    pub keyring: Option<StoreKind>,
    /// `keyring.spec.path`: where the `file` store keeps its encrypted file.
    pub keyring_path: Option<PathBuf>,
    /// Cached credentials are reused while more than this is left; `None` means the default
    /// (15 minutes), which the credential cache owns.
    pub refresh_margin: Option<Duration>,
    pub providers: BTreeMap<String, Provider>,
    pub identities: BTreeMap<String, Identity>,
}
