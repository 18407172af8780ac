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
    /// `realm`: the realm stored entries and cache files are namespaced by, unless
    /// `ATMOS_AUTH_REALM` or `--realm` names another.
    pub realm: Option<String>,
    /// Cached credentials are reused while more than this is left; `None` means the default
    /// (15 minutes), which the credential cache owns.
    pub refresh_margin: Option<Duration>,
    /// `exec.credentials`: how `exec` and `shell` hand credentials to their command when the
    /// command line does not say; `None` means `env`.
    pub exec_credentials: Option<ExecCredentials>,
    pub providers: BTreeMap<String, Provider>,
    pub identities: BTreeMap<String, Identity>,
}

/// How `exec` and `shell` give their command its credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecCredentials {
    /// Static keys in the environment, valid until they expire.
    Env,
    /// A credential server on loopback for the command's lifetime, refreshing as needed.
    Server,
}

impl ExecCredentials {
    pub const NAMES: [&'static str; 2] = ["env", "server"];

    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "env" => Some(Self::Env),
            "server" => Some(Self::Server),
            _ => None,
        }
    }
}
