//! `EntryKey`: the address of one secret in a credential store.
//!
//! It owns the mapping from what atmos-auth stores (a namespace plus an id) to what the keyring
//! sees: the service `atmos-auth`, a user string `<namespace>:<id>` and a human label for keyring
//! UIs such as Seahorse. It must not hold or touch secret values.
//!
//! Ids of entries that came from a server are *bound* ([`bound_id`]) to everything the secret
//! depends on: the endpoints that issued it and the entry it was obtained with. A profile that
//! points the same start URL at another endpoint therefore finds nothing to send there, and
//! nothing it stores is ever read for the legitimate endpoint.

use std::fmt;

use sha2::{Digest, Sha256};

/// Hex digits of SHA-256 kept in a bound id: 128 bits, beyond any crafted collision.
const BINDING_HEX_DIGITS: usize = 32;

/// `<readable>@<digest>`: an entry id that still says what it is for (`plat-dev/terraform@…`),
/// bound to every part of `binding`. Ids differ whenever any part differs; each part's length is
/// hashed with it, so no two lists of parts run together into the same bytes. In a realm the id
/// starts with `<realm>~` ([`crate::realm::qualify`]).
pub fn bound_id(readable: &str, binding: &[&str]) -> String {
    let mut hash = Sha256::new();
    for part in binding {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    let hex: String = hash
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    crate::realm::qualify(format!("{readable}@{}", &hex[..BINDING_HEX_DIGITS]))
}

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
    /// Every namespace.
    pub const ALL: [Self; 4] = [
        Self::SsoSession,
        Self::SsoClient,
        Self::RoleCredentials,
        Self::UserKeys,
    ];

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

    /// The entry whose keyring user is `user` (`<namespace>:<id>`), as [`EntryKey::user`] writes
    /// it; `None` for a namespace this version does not know, or no id.
    pub fn from_user(user: &str) -> Option<Self> {
        let (namespace, id) = user.split_once(':')?;
        let namespace = Namespace::ALL
            .into_iter()
            .find(|candidate| candidate.as_str() == namespace)?;
        (!id.is_empty()).then(|| Self::new(namespace, id))
    }

    /// What the entry holds and for what, for people: `AWS role credentials for
    /// plat-dev/terraform@…`.
    pub fn describe(&self) -> String {
        format!("{} for {}", self.namespace.description(), self.id)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_ids_stay_readable_and_differ_with_any_part() {
        let id = bound_id(
            "plat-dev/terraform",
            &["https://sts.us-east-1.amazonaws.com"],
        );
        let (readable, digest) = id.split_once('@').unwrap();
        assert_eq!(readable, "plat-dev/terraform");
        assert_eq!(digest.len(), BINDING_HEX_DIGITS);
        assert_eq!(
            id,
            bound_id(
                "plat-dev/terraform",
                &["https://sts.us-east-1.amazonaws.com"]
            )
        );
        assert_ne!(
            id,
            bound_id("plat-dev/terraform", &["http://127.0.0.1:4566"])
        );
        assert_ne!(bound_id("x", &["ab", "c"]), bound_id("x", &["a", "bc"]));
    }

    #[test]
    fn a_keyring_user_reads_back_as_its_entry() {
        for namespace in Namespace::ALL {
            let key = EntryKey::new(namespace, "us-east-1|https://x/start@ab#authorization-code");
            assert_eq!(EntryKey::from_user(&key.user()), Some(key));
        }
        assert_eq!(EntryKey::from_user("sso-session:"), None);
        assert_eq!(EntryKey::from_user("other:x"), None);
        assert_eq!(EntryKey::from_user("no colon"), None);
    }
}
