//! IAM Identity Center login state: registered OIDC clients, device authorizations waiting for
//! the user, and the access and refresh tokens issued from them.
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
    pub expires_at: u64,
    pub revoked: bool,
}

pub struct RefreshToken {
    pub client_id: String,
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
}

impl Logins {
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
