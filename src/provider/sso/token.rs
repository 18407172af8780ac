//! `SsoToken`: the cached SSO session (access token, refresh token, expiry) and the policy that
//! decides whether it can be used as is, refreshed, or must be replaced by a new login.

use std::fmt;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::registration::GrantKind;
use crate::credentials::{epoch_secs, expires_within};
use crate::secret::Secret;

/// Refresh an access token that has less than this left, so a call made with it does not fail
/// half way (the value aws-config uses).
pub const REFRESH_BUFFER_SECS: u64 = 5 * 60;
/// The longest an access token is believed to last, whatever the server states: a day. AWS
/// issues them for hours; an endpoint claiming more is mistaken or hostile.
pub const MAX_ACCESS_TOKEN_SECS: u64 = 24 * 60 * 60;

/// When an access token issued at `now` for `expires_in` expires (epoch seconds), believing the
/// server only up to [`MAX_ACCESS_TOKEN_SECS`].
pub fn capped_expiry(now: SystemTime, expires_in: Duration) -> u64 {
    epoch_secs(now).saturating_add(expires_in.as_secs().min(MAX_ACCESS_TOKEN_SECS))
}

#[derive(Clone, Serialize, Deserialize)]
pub struct SsoToken {
    pub access_token: Secret<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret<String>>,
    /// When the access token expires (epoch seconds).
    pub expires_at: u64,
    /// When the session as a whole must end (`session.duration` after login), if configured:
    /// no silent refresh beyond it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_expires_at: Option<u64>,
    /// The login the session came from: its refresh token is bound to the client registered
    /// for that grant, so a refresh must present that client.
    #[serde(default)]
    pub client: GrantKind,
}

/// What to do with a cached token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenState {
    /// Good for at least the refresh buffer.
    Fresh,
    /// Expiring soon or expired, but a refresh token may renew it.
    Refreshable,
    /// Expired (or past the session's end) with no way to renew it silently.
    Dead,
}

impl SsoToken {
    pub fn new(
        access_token: String,
        refresh_token: Option<String>,
        expires_in: Duration,
        session_duration: Option<Duration>,
        now: SystemTime,
    ) -> Self {
        Self {
            access_token: Secret::new(access_token),
            refresh_token: refresh_token.filter(|t| !t.is_empty()).map(Secret::new),
            expires_at: capped_expiry(now, expires_in),
            session_expires_at: session_duration.map(|d| epoch_secs(now + d)),
            client: GrantKind::default(),
        }
    }

    pub fn state(&self, now: SystemTime) -> TokenState {
        let session_over = self
            .session_expires_at
            .is_some_and(|end| expires_within(end, Duration::ZERO, now));
        if session_over {
            return TokenState::Dead;
        }
        if !expires_within(
            self.expires_at,
            Duration::from_secs(REFRESH_BUFFER_SECS),
            now,
        ) {
            return TokenState::Fresh;
        }
        if self.refresh_token.is_some() {
            TokenState::Refreshable
        } else {
            TokenState::Dead
        }
    }

    /// Still accepted by the service right now, even if due for a refresh.
    pub fn valid(&self, now: SystemTime) -> bool {
        !expires_within(self.expires_at, Duration::ZERO, now)
            && !self
                .session_expires_at
                .is_some_and(|end| expires_within(end, Duration::ZERO, now))
    }

    /// The token after a refresh: the service may rotate the refresh token; keep the newest.
    pub fn refreshed(
        &self,
        access_token: String,
        refresh_token: Option<String>,
        expires_in: Duration,
        now: SystemTime,
    ) -> Self {
        let mut next = Self::new(access_token, refresh_token, expires_in, None, now);
        if next.refresh_token.is_none() {
            next.refresh_token = self.refresh_token.clone();
        }
        next.session_expires_at = self.session_expires_at;
        next.client = self.client;
        if let Some(end) = next.session_expires_at {
            next.expires_at = next.expires_at.min(end);
        }
        next
    }

    pub fn expiration(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(self.expires_at)
    }
}

impl fmt::Debug for SsoToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SsoToken")
            .field("access_token", &self.access_token)
            .field("refresh_token", &self.refresh_token)
            .field("expires_at", &self.expires_at)
            .field("session_expires_at", &self.session_expires_at)
            .field("client", &self.client)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn token(refresh: bool, expires_in: u64, session: Option<u64>) -> SsoToken {
        SsoToken::new(
            "access-sentinel".into(),
            refresh.then(|| "refresh-sentinel".into()),
            Duration::from_secs(expires_in),
            session.map(Duration::from_secs),
            at(1_000),
        )
    }

    #[test]
    fn fresh_then_refreshable_then_dead() {
        let t = token(true, 3_600, None);
        assert_eq!(t.state(at(1_000)), TokenState::Fresh);
        assert_eq!(t.state(at(1_000 + 3_600 - 200)), TokenState::Refreshable);
        assert!(t.valid(at(1_000 + 3_600 - 200)));
        assert_eq!(
            token(false, 3_600, None).state(at(1_000 + 3_600)),
            TokenState::Dead
        );
    }

    #[test]
    fn session_duration_ends_silent_refresh() {
        let t = token(true, 3_600, Some(1_800));
        assert_eq!(t.state(at(1_000 + 1_800)), TokenState::Dead);
        let renewed = t.refreshed("a2".into(), None, Duration::from_secs(3_600), at(2_000));
        assert_eq!(
            renewed.expires_at, 2_800,
            "a refresh never outlives the session"
        );
        assert!(
            renewed.refresh_token.is_some(),
            "the old refresh token is kept when none is returned"
        );
    }

    #[test]
    fn a_server_stated_lifetime_beyond_a_day_is_a_day() {
        let forever = Duration::from_secs(u64::MAX);
        let t = SsoToken::new("a".into(), None, forever, None, at(1_000));
        assert_eq!(t.expires_at, 1_000 + MAX_ACCESS_TOKEN_SECS);
        let renewed = t.refreshed("b".into(), None, forever, at(2_000));
        assert_eq!(renewed.expires_at, 2_000 + MAX_ACCESS_TOKEN_SECS);
        assert_eq!(capped_expiry(at(1_000), Duration::from_secs(3_600)), 4_600);
    }

    #[test]
    fn debug_redacts_tokens() {
        let debug = format!("{:?}", token(true, 10, None));
        assert!(!debug.contains("sentinel"), "{debug}");
    }
}
