//! Everything the emulator knows, behind one lock: the organisation, login state, STS sessions,
//! the ledger of calls and faults, and the mint. One lock keeps handlers simple and is far from
//! a bottleneck at test request rates.

use super::ledger::Ledger;
use super::login::Logins;
use super::mint::Mint;
use super::organization::Organization;
use super::pressure::Pressure;
use super::sessions::Sessions;
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

pub struct World {
    pub org: Organization,
    /// `http://127.0.0.1:PORT`, for links when a request carries no Host header.
    pub base_url: String,
    pub auto_approve: bool,
    /// Who signs in when a login is approved from now on; `None` is the organisation's user.
    pub signing_in: Option<String>,
    /// Browser authorizations are denied at once (the approval page's Deny, clicked for you).
    pub auto_deny: bool,
    pub mint: Mint,
    pub logins: Logins,
    pub sessions: Sessions,
    pub ledger: Ledger,
    /// Latency and listing throttles (see `pressure.rs`).
    pub pressure: Pressure,
}

impl World {
    pub fn new(org: Organization, base_url: String) -> World {
        World {
            sessions: Sessions::new(&org),
            org,
            base_url,
            auto_approve: false,
            signing_in: None,
            auto_deny: false,
            mint: Mint::new(),
            logins: Logins::default(),
            ledger: Ledger::default(),
            pressure: Pressure::default(),
        }
    }
}

impl World {
    /// When something issued now with a lifetime of `ttl_secs` is said to expire.
    pub fn expiry(&self, ttl_secs: u64) -> u64 {
        self.org
            .settings
            .stated_expiry
            .unwrap_or_else(|| now_secs() + ttl_secs)
    }
}

/// Locks the world even if a handler panicked while holding it: one broken request must not
/// take every later test request down with it.
pub fn lock(world: &Mutex<World>) -> MutexGuard<'_, World> {
    world
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Wall-clock epoch seconds. AWS expiries are wall-clock, and clients compare them with their
/// own clock, so the emulator uses the real one.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
