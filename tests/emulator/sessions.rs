//! STS's view of credentials: every access key the emulator knows (issued temporary keys and
//! the org's long-term IAM user keys), whom each one identifies, and until when.
//!
//! GetCallerIdentity and the signed STS calls look callers up here; issuing is done by the
//! handlers that decide the identity (`portal`, `sts`).

use super::mint::Mint;
use super::organization::Organization;
use std::collections::HashMap;

/// Whom a key identifies, as GetCallerIdentity reports it.
#[derive(Clone)]
pub struct Identity {
    pub account_id: String,
    pub arn: String,
    pub user_id: String,
    /// A role session: AssumeRole from it is role chaining, capped at one hour.
    pub is_role: bool,
}

/// What STS remembers about a key. Signatures are not verified; the secret key is kept only for
/// the federation endpoint, which receives it in the clear.
#[derive(Clone)]
pub struct Session {
    pub identity: Identity,
    pub secret_access_key: String,
    /// `None` for a long-term IAM user key.
    pub session_token: Option<String>,
    /// Epoch seconds; `None` for a long-term key.
    pub expires_at: Option<u64>,
}

/// Freshly issued temporary credentials.
pub struct Issued {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub expires_at: u64,
}

pub struct Sessions {
    /// By access key id.
    by_key: HashMap<String, Session>,
}

impl Sessions {
    /// Starts with the org's IAM users' long-term keys.
    pub fn new(org: &Organization) -> Sessions {
        let by_key = org
            .iam_users
            .iter()
            .map(|user| {
                let session = Session {
                    identity: Identity {
                        account_id: user.account_id.clone(),
                        arn: format!("arn:aws:iam::{}:user/{}", user.account_id, user.name),
                        user_id: super::mint::stable_id("AIDAEMULATOR", &user.name, 21),
                        is_role: false,
                    },
                    secret_access_key: user.secret_access_key.clone(),
                    session_token: None,
                    expires_at: None,
                };
                (user.access_key_id.clone(), session)
            })
            .collect();
        Sessions { by_key }
    }

    pub fn issue(&mut self, mint: &mut Mint, identity: Identity, expires_at: u64) -> Issued {
        let issued = Issued {
            access_key_id: mint.id("ASIAEMULATOR", 20),
            secret_access_key: mint.secret("EMULATORSECRET", 40),
            session_token: mint.secret("EMULATORSESSIONTOKEN", 120),
            expires_at,
        };
        let session = Session {
            identity,
            secret_access_key: issued.secret_access_key.clone(),
            session_token: Some(issued.session_token.clone()),
            expires_at: Some(expires_at),
        };
        self.by_key.insert(issued.access_key_id.clone(), session);
        issued
    }

    pub fn get(&self, access_key_id: &str) -> Option<&Session> {
        self.by_key.get(access_key_id)
    }

    /// Makes every temporary credential expired (long-term keys do not expire).
    pub fn expire_all(&mut self) {
        for session in self.by_key.values_mut() {
            if let Some(at) = session.expires_at.as_mut() {
                *at = 0;
            }
        }
    }
}
