//! `Credentials`: a set of temporary AWS credentials and the rule for when they are too old to
//! hand out.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

/// Temporary credentials for one identity, as stored in the credential store (JSON) and handed
/// to `env`, `exec` and `whoami`.
#[derive(Clone, Serialize, Deserialize)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: Secret<String>,
    pub session_token: Secret<String>,
    /// Seconds since the Unix epoch, as the issuing service stated it.
    pub expires_at: u64,
    /// The account the credentials act in, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
}

impl Credentials {
    pub fn expiration(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.expires_at)
    }

    /// RFC 3339 expiry in UTC, the form AWS SDKs expect in `AWS_CREDENTIAL_EXPIRATION` and
    /// `credential_process` output.
    pub fn expiration_rfc3339(&self) -> String {
        humantime::format_rfc3339_seconds(self.expiration()).to_string()
    }

    /// Whether the credentials are still good for at least `margin` at `now`.
    pub fn usable(&self, margin: Duration, now: SystemTime) -> bool {
        !expires_within(self.expires_at, margin, now)
    }

    /// The form the SDK uses to sign calls made with these credentials.
    pub fn to_sdk(&self) -> aws_sdk_sts::config::Credentials {
        aws_sdk_sts::config::Credentials::new(
            self.access_key_id.clone(),
            self.secret_access_key.expose().clone(),
            // Long-lived keys from a credential process have no session token.
            Some(self.session_token.expose().clone()).filter(|t| !t.is_empty()),
            Some(self.expiration()),
            "atmos-auth",
        )
    }
}

/// An IAM user's long-lived access keys, as `atmos-auth configure` stores them.
#[derive(Clone, Serialize, Deserialize)]
pub struct AccessKeys {
    pub access_key_id: String,
    pub secret_access_key: Secret<String>,
}

impl AccessKeys {
    pub fn to_sdk(&self) -> aws_sdk_sts::config::Credentials {
        aws_sdk_sts::config::Credentials::new(
            self.access_key_id.clone(),
            self.secret_access_key.expose().clone(),
            None,
            None,
            "atmos-auth",
        )
    }
}

impl fmt::Debug for AccessKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessKeys")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key)
            .finish()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key)
            .field("session_token", &self.session_token)
            .field("expires_at", &self.expires_at)
            .field("account_id", &self.account_id)
            .finish()
    }
}

/// True when something expiring at `expires_at` (epoch seconds) has `margin` or less left at
/// `now`. A clock that runs ahead only makes this more cautious; one that runs behind by more
/// than the margin is caught by the service's own refusal.
pub fn expires_within(expires_at: u64, margin: Duration, now: SystemTime) -> bool {
    let now = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    expires_at <= now.saturating_add(margin.as_secs())
}

/// The longest role session AWS grants: 12 hours.
pub const MAX_ROLE_SESSION_SECS: u64 = 12 * 60 * 60;

/// A server-stated credential expiry (epoch seconds), believed up to `now` plus the longer of
/// [`MAX_ROLE_SESSION_SECS`] and `asked`, the lifetime requested (an IAM user's session token may
/// be asked for 36 h). Anything later is mistaken or hostile and is treated as that cap.
pub fn capped_role_expiry(expires_at: u64, asked: Duration, now: SystemTime) -> u64 {
    let longest = asked.as_secs().max(MAX_ROLE_SESSION_SECS);
    expires_at.min(epoch_secs(now).saturating_add(longest))
}

/// Seconds since the Unix epoch for `time`.
pub fn epoch_secs(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn expiry_honours_the_margin() {
        let margin = Duration::from_secs(900);
        assert!(!expires_within(10_000, margin, at(9_000)));
        assert!(expires_within(10_000, margin, at(9_100)));
        assert!(expires_within(10_000, margin, at(9_101)));
        assert!(expires_within(10_000, Duration::ZERO, at(10_000)));
    }

    #[test]
    fn role_expiries_are_believed_up_to_twelve_hours_or_what_was_asked() {
        let now = at(1_000);
        let year_3000 = 32_503_680_000;
        let hour = Duration::from_secs(3_600);
        assert_eq!(capped_role_expiry(year_3000, hour, now), 1_000 + 12 * 3_600);
        assert_eq!(
            capped_role_expiry(year_3000, 36 * hour, now),
            1_000 + 36 * 3_600
        );
        assert_eq!(capped_role_expiry(4_600, hour, now), 4_600);
    }

    #[test]
    fn debug_redacts_secrets() {
        let credentials = Credentials {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: "secret-sentinel".into(),
            session_token: "token-sentinel".into(),
            expires_at: 1,
            account_id: None,
        };
        let debug = format!("{credentials:?}");
        assert!(!debug.contains("sentinel"), "{debug}");
        assert!(debug.contains("ASIAEXAMPLE"));
    }

    #[test]
    fn debug_redacts_access_keys() {
        let keys = AccessKeys {
            access_key_id: "AKIAEXAMPLE".into(),
            secret_access_key: "secret-sentinel".into(),
        };
        assert_eq!(
            format!("{keys:?}"),
            "AccessKeys { access_key_id: \"AKIAEXAMPLE\", secret_access_key: <redacted> }"
        );
    }

    #[test]
    fn expiration_is_rfc3339_utc() {
        let credentials = Credentials {
            access_key_id: String::new(),
            secret_access_key: "".into(),
            session_token: "".into(),
            expires_at: 1_700_000_000,
            account_id: None,
        };
        assert_eq!(credentials.expiration_rfc3339(), "2023-11-14T22:13:20Z");
    }
}
