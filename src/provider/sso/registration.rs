//! `ClientRegistration`: the OIDC client atmos-auth registers with IAM Identity Center once per
//! grant type ([`GrantKind`]) and reuses until it expires. Its secret lives in the credential
//! store like every other secret.
//!
//! A client registered for the device code cannot be used for the authorization code and the
//! reverse (AWS ties the grant types, and for the code flow the redirect URI, to the client), so
//! the two registrations are kept apart.

use std::fmt;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::credentials::{epoch_secs, expires_within};
use crate::provider::ProviderError;
use crate::secret::Secret;
use crate::upstream::UpstreamError;

/// Register a new client when the current one has less than this left, so it cannot expire in
/// the middle of a login.
const RENEW_BEFORE_SECS: u64 = 24 * 60 * 60;
/// The longest a client secret is believed to last, whatever the server states: 90 days, what
/// IAM Identity Center grants. A longer claim only means registering again sooner than needed.
pub const MAX_CLIENT_SECRET_SECS: u64 = 90 * 24 * 60 * 60;
const CLIENT_NAME: &str = "atmos-auth";
const CLIENT_TYPE: &str = "public";
pub const SCOPE: &str = "sso:account:access";
pub const GRANT_DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";
pub const GRANT_REFRESH_TOKEN: &str = "refresh_token";
pub const GRANT_AUTHORIZATION_CODE: &str = "authorization_code";
/// The loopback redirect URI registered for the code flow: without a port, which the service
/// lets vary (RFC 8252 §7.3); the port is added when the login runs.
pub const REGISTERED_REDIRECT_URI: &str = "http://127.0.0.1/oauth/callback";

/// The grant a client registration is made for, and the login that uses it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GrantKind {
    /// The device-code login (RFC 8628). Sessions cached before the code flow existed came
    /// from it, hence the default.
    #[default]
    DeviceCode,
    /// The authorization code with PKCE, through the browser and a loopback redirect.
    AuthorizationCode,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct ClientRegistration {
    pub client_id: String,
    pub client_secret: Secret<String>,
    /// When the client secret expires (epoch seconds).
    pub expires_at: u64,
}

impl ClientRegistration {
    pub fn usable(&self, now: SystemTime) -> bool {
        !expires_within(self.expires_at, Duration::from_secs(RENEW_BEFORE_SECS), now)
    }

    /// RegisterClient for `kind`, asking for the grants that make a refresh token possible. The
    /// code flow's client also names the loopback redirect URI and the start URL as issuer, as
    /// the AWS CLI registers it.
    pub async fn register(
        oidc: &aws_sdk_ssooidc::Client,
        kind: GrantKind,
        start_url: &str,
        now: SystemTime,
    ) -> Result<Self, ProviderError> {
        let request = oidc
            .register_client()
            .client_name(CLIENT_NAME)
            .client_type(CLIENT_TYPE)
            .scopes(SCOPE);
        let request = match kind {
            GrantKind::DeviceCode => request
                .grant_types(GRANT_DEVICE_CODE)
                .grant_types(GRANT_REFRESH_TOKEN),
            GrantKind::AuthorizationCode => request
                .grant_types(GRANT_AUTHORIZATION_CODE)
                .grant_types(GRANT_REFRESH_TOKEN)
                .redirect_uris(REGISTERED_REDIRECT_URI)
                .issuer_url(start_url),
        };
        let out = request
            .send()
            .await
            .map_err(|e| UpstreamError::from_sdk("RegisterClient", e))?;
        let client_id = out
            .client_id
            .ok_or_else(|| UpstreamError::missing_field("RegisterClient", "clientId"))?;
        let client_secret = out
            .client_secret
            .ok_or_else(|| UpstreamError::missing_field("RegisterClient", "clientSecret"))?;
        Ok(Self {
            client_id,
            client_secret: Secret::new(client_secret),
            expires_at: capped_secret_expiry(out.client_secret_expires_at, now),
        })
    }
}

/// The client secret's stated expiry (epoch seconds), believed up to [`MAX_CLIENT_SECRET_SECS`]
/// from `now`; a negative one reads as already expired.
fn capped_secret_expiry(stated: i64, now: SystemTime) -> u64 {
    let latest = epoch_secs(now).saturating_add(MAX_CLIENT_SECRET_SECS);
    u64::try_from(stated).unwrap_or(0).min(latest)
}

impl fmt::Debug for ClientRegistration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientRegistration")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_secret() {
        let registration = ClientRegistration {
            client_id: "id".into(),
            client_secret: "sentinel".into(),
            expires_at: 0,
        };
        assert!(!format!("{registration:?}").contains("sentinel"));
    }

    #[test]
    fn a_secret_said_to_last_centuries_lasts_ninety_days() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(
            capped_secret_expiry(32_503_680_000, now),
            1_000_000 + MAX_CLIENT_SECRET_SECS
        );
        assert_eq!(capped_secret_expiry(1_500_000, now), 1_500_000);
        assert_eq!(capped_secret_expiry(-1, now), 0);
    }

    #[test]
    fn renewed_a_day_before_expiry() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let mut registration = ClientRegistration {
            client_id: "id".into(),
            client_secret: "s".into(),
            expires_at: 1_000_000 + 90_000,
        };
        assert!(registration.usable(now));
        registration.expires_at = 1_000_000 + 80_000;
        assert!(!registration.usable(now));
    }
}
