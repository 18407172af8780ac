//! `EntryKey`: the address of one secret in a credential store.
//!
//! It owns the mapping from what atmos-auth stores (a namespace plus an id) to what the keyring
//! sees: the service `atmos-auth`, a user string `<namespace>:<id>` and a human label for keyring
//! UIs such as Seahorse. It must not hold or touch secret values.

use std::fmt;

/// What kind of secret an entry holds. The namespace keeps ids of different kinds apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Namespace {
    /// An IAM Identity Center token (access and refresh token) for one SSO session.
    SsoSession,
    /// An OIDC client registration (client id and secret) for one SSO session.
    SsoClient,
    /// STS credentials for one identity.
    RoleCredentials,
    /// An IAM user's long-lived access keys, entered with `atmos-auth configure`.
    UserKeys,
}

impl Namespace {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SsoSession => "sso-session",
            Self::SsoClient => "sso-client",
            Self::RoleCredentials => "role-credentials",
            Self::UserKeys => "user-keys",
        }
    }

    fn description(self) -> &'static str {
        match self {
            Self::SsoSession => "SSO token",
            Self::SsoClient => "SSO client registration",
            Self::RoleCredentials => "AWS role credentials",
            Self::UserKeys => "IAM user access keys",
        }
    }
}

/// The address of one entry: keyring service [`EntryKey::SERVICE`], user `<namespace>:<id>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EntryKey {
    namespace: Namespace,
    id: String,
}

impl EntryKey {
    /// The keyring service every atmos-auth entry is filed under.
    pub const SERVICE: &'static str = "atmos-auth";

    pub fn new(namespace: Namespace, id: impl Into<String>) -> Self {
        Self {
            namespace,
            id: id.into(),
        }
    }

    pub fn namespace(&self) -> Namespace {
        self.namespace
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The keyring user (Secret Service `username` attribute), for example
    /// `role-credentials:plat-dev/terraform`.
    pub fn user(&self) -> String {
        format!("{}:{}", self.namespace.as_str(), self.id)
    }

    /// The label a keyring UI shows, for example `atmos-auth: AWS role credentials for
    /// plat-dev/terraform`.
    pub fn label(&self) -> String {
        format!(
            "{}: {} for {}",
            Self::SERVICE,
            self.namespace.description(),
            self.id
        )
    }
}

/// Same text as [`EntryKey::user`]; error messages put it in backticks.
impl fmt::Display for EntryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.namespace.as_str(), self.id)
    }
}
