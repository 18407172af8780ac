//! The view model `list` renders: plain data the command layer builds from the config and the
//! store, holding names, kinds, targets and expiry times, never a secret. Also the time formats
//! the renderings share.

use std::time::{Duration, SystemTime};

use serde::{Serialize, Serializer};

/// Everything `list` shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ListView {
    /// The selected profile, if any.
    pub profile: Option<String>,
    /// The realm sessions and credentials are shown for, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realm: Option<String>,
    pub providers: Vec<ProviderView>,
    pub identities: Vec<IdentityView>,
    /// Why the credential store could not be read, when it could not: sessions and credentials
    /// are then `unknown`, and the configuration is shown all the same.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_error: Option<String>,
}

/// One configured provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProviderView {
    pub name: String,
    /// The `kind:` word, e.g. `aws/iam-identity-center` or `github/oidc`.
    pub kind: String,
    /// What it points at: the start URL and region, or the OIDC audience.
    pub detail: String,
    pub session: SessionStatus,
}

/// The state of a provider's login session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SessionStatus {
    LoggedIn {
        #[serde(serialize_with = "serialize_time")]
        until: SystemTime,
    },
    Expired,
    LoggedOut,
    /// The provider has no session to log in to (`github/oidc`).
    NotApplicable,
    /// The store could not be read (`ListView::store_error` says why).
    Unknown,
}

/// One configured identity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IdentityView {
    pub name: String,
    /// The `kind:` word, e.g. `aws/permission-set`.
    pub kind: String,
    /// What the identity's credentials are obtained through; `None` for identities that need
    /// nothing else (`aws/user`, `credential_process`).
    pub via: Option<Via>,
    /// What it becomes: `TerraformApplyAccess @ plat-dev`, a role ARN, `IAM user`, a command.
    pub target: String,
    /// Marked `default: true`.
    pub default: bool,
    pub alias: Option<String>,
    pub credentials: CredentialStatus,
    /// Added by a provider's `auto_provision_identities` rather than written in the config.
    pub provisioned: bool,
    /// Its own tags and its provider's, sorted.
    pub tags: Vec<String>,
}

/// The provider or identity an identity is obtained through.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    Provider(String),
    Identity(String),
}

/// The state of an identity's cached credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CredentialStatus {
    Valid {
        #[serde(serialize_with = "serialize_time")]
        until: SystemTime,
    },
    Expired,
    None,
    /// The store could not be read (`ListView::store_error` says why).
    Unknown,
}

/// The output formats of `list`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Tree,
    Json,
    Yaml,
    Dot,
    Mermaid,
}

/// `2026-11-25T20:11:57Z (in 52m)`
pub(in crate::output) fn until_text(until: SystemTime, now: SystemTime) -> String {
    format!("{} ({})", rfc3339(until), relative(until, now))
}

/// `2026-11-25T20:11:57Z, in 52m`, for places already inside parentheses.
pub(super) fn until_parts(until: SystemTime, now: SystemTime) -> String {
    format!("{}, {}", rfc3339(until), relative(until, now))
}

/// `in 52m` or `3m ago`, to the minute once it is a minute or more.
pub(super) fn relative(until: SystemTime, now: SystemTime) -> String {
    let round = |duration: Duration| {
        let secs = duration.as_secs();
        let secs = if secs >= 60 { secs - secs % 60 } else { secs };
        humantime::format_duration(Duration::from_secs(secs))
    };
    match until.duration_since(now) {
        Ok(ahead) => format!("in {}", round(ahead)),
        Err(behind) => format!("{} ago", round(behind.duration())),
    }
}

/// The latest time humantime can write: the last second of year 9999.
pub(super) const MAX_RFC3339_SECS: u64 = 253_402_300_799;

/// The time in RFC 3339 to the second. humantime panics outside 1970–9999, so times there
/// are clamped; an expiry that far out is nonsense either way.
pub(super) fn rfc3339(time: SystemTime) -> String {
    let max = SystemTime::UNIX_EPOCH + Duration::from_secs(MAX_RFC3339_SECS);
    let time = time.clamp(SystemTime::UNIX_EPOCH, max);
    humantime::format_rfc3339_seconds(time).to_string()
}

fn serialize_time<S: Serializer>(time: &SystemTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&rfc3339(*time))
}
