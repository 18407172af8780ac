//! IAM Identity Center login state: registered OIDC clients, device authorizations waiting for
//! the user, browser authorizations (the approval page and the codes it hands out), and the
//! access and refresh tokens issued from them.
//!
//! It answers "is this client/token valid" and applies approvals and expiries; the wire handling
//! lives in `oidc` and `portal`.

use std::collections::HashMap;
use std::time::Instant;

pub struct Client {
    pub secret: String,
    pub expires_at: u64,
    /// Registered with the `refresh_token` grant type, so CreateToken also returns refresh tokens.
    pub refresh_allowed: bool,
    /// The `grantTypes` it was registered with (none: the device code, as before the field).
    pub grant_types: Vec<String>,
    /// The `redirectUris` it was registered with.
    pub redirect_uris: Vec<String>,
}

impl Client {
    /// Whether the client may use `grant`. A client registered without grant types is a
    /// device-code client (the service's behaviour before `grantTypes` existed).
    pub fn allows(&self, grant: &str) -> bool {
        if self.grant_types.is_empty() {
            return grant == DEVICE_CODE_GRANT || grant == "refresh_token";
        }
        self.grant_types.iter().any(|g| g == grant)
    }
}

pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
pub const AUTHORIZATION_CODE_GRANT: &str = "authorization_code";

/// A browser authorization shown on the approval page, waiting for Approve or Deny.
pub struct BrowserRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub challenge: String,
}

/// An authorization code handed to the browser: single-use and short-lived.
pub struct AuthCode {
    pub client_id: String,
    /// The exact redirect URI (port included) the code was sent to.
    pub redirect_uri: String,
    /// The S256 challenge the verifier must match.
    pub challenge: String,
    pub expires_at: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Approval {
    Pending,
    Approved,
    Denied,
    /// Approved and already exchanged for a token: a device code works once.
    Redeemed,
}

pub struct DeviceGrant {
    pub user_code: String,
    pub client_id: String,
    pub expires_at: u64,
    pub approval: Approval,
    pub last_poll: Option<Instant>,
}

pub struct AccessToken {
    /// The client the token was issued to: its sign-in session, for `Logout`.
    pub client_id: String,
    /// Who signed in.
    pub user: String,
    pub expires_at: u64,
    pub revoked: bool,
}

pub struct RefreshToken {
    pub client_id: String,
    pub user: String,
    pub revoked: bool,
}

#[derive(Default)]
pub struct Logins {
    /// By client id.
    pub clients: HashMap<String, Client>,
    /// By device code.
    pub devices: HashMap<String, DeviceGrant>,
    /// By token value.
    pub access_tokens: HashMap<String, AccessToken>,
    /// By token value.
    pub refresh_tokens: HashMap<String, RefreshToken>,
    /// Browser authorizations awaiting a decision, by request id.
    pub browser_requests: HashMap<String, BrowserRequest>,
    /// Authorization codes not yet redeemed, by code.
    pub auth_codes: HashMap<String, AuthCode>,
}

impl Logins {
    /// The client with this id, if its registration has not expired (the browser's view: it
    /// knows no secret).
    pub fn public_client(&self, id: &str, now: u64) -> Option<&Client> {
        self.clients.get(id).filter(|c| c.expires_at > now)
    }

    /// The client, if `id` and `secret` match a registration that has not expired.
    pub fn client(&self, id: &str, secret: &str, now: u64) -> Option<&Client> {
        self.clients
            .get(id)
            .filter(|c| c.secret == secret && c.expires_at > now)
    }

    /// Approves a pending device authorization by its user code; false if there is none.
    pub fn approve(&mut self, user_code: &str) -> bool {
        self.decide(user_code, Approval::Approved)
    }

    pub fn deny(&mut self, user_code: &str) -> bool {
        self.decide(user_code, Approval::Denied)
    }

    fn decide(&mut self, user_code: &str, approval: Approval) -> bool {
        // People type codes in lower case and without the dash; the real page accepts that too.
        let wanted = normalize_user_code(user_code);
        let grant = self.devices.values_mut().find(|d| {
            normalize_user_code(&d.user_code) == wanted && d.approval == Approval::Pending
        });
        match grant {
            Some(grant) => {
                grant.approval = approval;
                true
            }
            None => false,
        }
    }

    /// User codes still waiting for approval and not expired, sorted.
    pub fn pending_user_codes(&self, now: u64) -> Vec<String> {
        let mut codes: Vec<String> = self
            .devices
            .values()
            .filter(|d| d.approval == Approval::Pending && d.expires_at > now)
            .map(|d| d.user_code.clone())
            .collect();
        codes.sort();
        codes
    }

    pub fn access_token_valid(&self, token: &str, now: u64) -> bool {
        self.access_tokens
            .get(token)
            .is_some_and(|t| !t.revoked && t.expires_at > now)
    }

    /// The portal's `Logout`: ends the sign-in session `token` belongs to, so neither its
    /// access tokens nor its refresh tokens work any more.
    pub fn end_sign_in(&mut self, token: &str) {
        let Some(client_id) = self.access_tokens.get(token).map(|t| t.client_id.clone()) else {
            return;
        };
        self.access_tokens
            .values_mut()
            .filter(|t| t.client_id == client_id)
            .for_each(|t| t.revoked = true);
        self.refresh_tokens
            .values_mut()
            .filter(|t| t.client_id == client_id)
            .for_each(|t| t.revoked = true);
    }

    /// Refresh tokens that would still be accepted.
    pub fn live_refresh_tokens(&self) -> usize {
        self.refresh_tokens.values().filter(|t| !t.revoked).count()
    }

    pub fn revoke_refresh_tokens(&mut self) {
        self.refresh_tokens
            .values_mut()
            .for_each(|t| t.revoked = true);
    }

    pub fn expire_access_tokens(&mut self) {
        self.access_tokens
            .values_mut()
            .for_each(|t| t.expires_at = 0);
    }

    pub fn expire_clients(&mut self) {
        self.clients.values_mut().for_each(|c| c.expires_at = 0);
    }
}

fn normalize_user_code(code: &str) -> String {
    code.chars()
        .filter(|c| *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}
