//! A local, wire-compatible emulator of the three AWS services atmos-auth talks to: SSO OIDC
//! (device-code login; the browser login's authorize page and code exchange), the SSO portal (accounts, roles, role credentials) and STS. Tests start
//! one in-process with [`Emulator::start`]; the `aws-emulator` example serves one standalone.
//!
//! It owns the fake organisation, the tokens and credentials it issues, call counters, recorded
//! calls and injectable faults. It must stay test-only code: nothing under `src/` may depend on it.

// This module is compiled into two crates (the integration tests and the example binary), and
// each uses a different part of the API; what one leaves unused the other uses.
#![allow(dead_code)]

mod authorize_page;
mod call;
mod control;
mod device_page;
mod fault;
mod federation;
mod jwt;
mod ledger;
mod login;
mod mint;
mod oidc;
mod op;
mod organization;
mod portal;
mod pressure;
mod reply;
mod server;
mod sessions;
mod sts;
mod wire_error;
mod world;

// Re-exported for tests that build their own organisation; the example binary does not.
pub use fault::Fault;
pub use ledger::RecordedCall;
pub use op::Op;
pub use organization::Organization;
#[allow(unused_imports)]
pub use organization::{Account, IamUser, OrgError, RoleDef, Settings};

use std::io;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use world::{World, lock, now_secs};

/// A running emulator. It serves on background threads until dropped.
pub struct Emulator {
    url: String,
    world: Arc<Mutex<World>>,
    server: Arc<tiny_http::Server>,
    acceptor: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Serves `org` on `127.0.0.1` at a free port.
    pub fn start(org: Organization) -> Emulator {
        Emulator::bind(org, "127.0.0.1:0").expect("bind the AWS emulator to a local port")
    }

    /// Serves `org` on `addr` (for example `127.0.0.1:4566`; port 0 picks a free one).
    pub fn bind(org: Organization, addr: &str) -> io::Result<Emulator> {
        let server = tiny_http::Server::http(addr).map_err(io::Error::other)?;
        let local = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| io::Error::other("the emulator listens on a TCP address"))?;
        let url = format!("http://{local}");
        let world = Arc::new(Mutex::new(World::new(org, url.clone())));
        let server = Arc::new(server);
        let acceptor = {
            let (server, world) = (Arc::clone(&server), Arc::clone(&world));
            std::thread::Builder::new()
                .name("aws-emulator".into())
                .spawn(move || server::accept_loop(server, world))?
        };
        Ok(Emulator {
            url,
            world,
            server,
            acceptor: Some(acceptor),
        })
    }

    /// The base URL of all three services, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// When on, device codes are approved as soon as StartDeviceAuthorization issues them, and
    /// the browser's authorize page redirects with a code at once.
    pub fn set_auto_approve(&self, on: bool) {
        lock(&self.world).auto_approve = on;
    }

    /// Logins approved from now on sign in as `user` (a second person on the same instance);
    /// tokens, and the role credentials fetched with them, carry that user.
    pub fn sign_in_as(&self, user: &str) {
        lock(&self.world).signing_in = Some(user.to_owned());
    }

    /// When on, the browser's authorize page denies every sign-in at once (before auto-approve).
    pub fn set_auto_deny(&self, on: bool) {
        lock(&self.world).auto_deny = on;
    }

    /// Approves a pending device authorization, as the user would in the browser. False if no
    /// pending authorization has that user code.
    pub fn approve(&self, user_code: &str) -> bool {
        lock(&self.world).logins.approve(user_code)
    }

    pub fn deny(&self, user_code: &str) -> bool {
        lock(&self.world).logins.deny(user_code)
    }

    /// User codes awaiting approval, sorted.
    pub fn pending_user_codes(&self) -> Vec<String> {
        lock(&self.world).logins.pending_user_codes(now_secs())
    }

    /// How many calls of `op` arrived (faulted ones included).
    pub fn calls(&self, op: Op) -> usize {
        lock(&self.world).ledger.calls(op)
    }

    pub fn calls_total(&self) -> usize {
        lock(&self.world).ledger.calls_total()
    }

    /// Every answered AWS call, in order of completion.
    pub fn requests(&self) -> Vec<RecordedCall> {
        lock(&self.world).ledger.requests().to_vec()
    }

    /// Zeroes counters and recordings (queued faults stay).
    pub fn reset_calls(&self) {
        lock(&self.world).ledger.reset();
    }

    /// Makes the next call of `op` fail with `fault`.
    pub fn inject(&self, op: Op, fault: Fault) {
        self.inject_n(op, fault, 1);
    }

    /// Makes the next `times` calls of `op` fail with `fault`, after any faults already queued.
    pub fn inject_n(&self, op: Op, fault: Fault, times: usize) {
        lock(&self.world).ledger.inject(op, fault, times);
    }

    pub fn clear_faults(&self) {
        lock(&self.world).ledger.clear_faults();
    }

    /// Every AWS call is answered `latency` later than it would be (a round trip to AWS);
    /// calls are answered on their own threads, so concurrent calls wait side by side.
    pub fn set_latency(&self, latency: std::time::Duration) {
        lock(&self.world).pressure.latency = latency;
    }

    /// Every `every`-th page of `op` (ListAccounts or ListAccountRoles) asked for the first
    /// time is refused with `TooManyRequestsException` (429) on its first `times` asks, then
    /// served. Zero for either turns it off.
    pub fn throttle_pages(&self, op: Op, every: usize, times: usize) {
        lock(&self.world).pressure.throttle_pages(op, every, times);
    }

    /// Refresh grants with any token issued so far now fail with InvalidGrantException.
    pub fn revoke_refresh_tokens(&self) {
        lock(&self.world).logins.revoke_refresh_tokens();
    }

    /// Refresh tokens issued so far that would still be accepted (`Logout` ends them).
    pub fn live_refresh_tokens(&self) -> usize {
        lock(&self.world).logins.live_refresh_tokens()
    }

    /// Portal calls with any access token issued so far now fail with UnauthorizedException.
    pub fn expire_access_tokens(&self) {
        lock(&self.world).logins.expire_access_tokens();
    }

    /// Every registered OIDC client is now expired: its calls fail with InvalidClientException.
    pub fn expire_clients(&self) {
        lock(&self.world).logins.expire_clients();
    }

    /// Every temporary AWS credential issued so far is now expired for STS (`ExpiredToken`).
    pub fn expire_credentials(&self) {
        lock(&self.world).sessions.expire_all();
    }

    /// Access tokens issued from now on live `secs` (tests that need a stale session, then fresh
    /// ones after its refresh).
    pub fn set_access_token_ttl(&self, secs: u64) {
        lock(&self.world).org.settings.access_token_ttl_secs = secs;
    }

    /// Every secret value ever issued: client secrets, device codes, access and refresh tokens,
    /// secret access keys and session tokens. Leak tests check none appears in output.
    pub fn issued_secrets(&self) -> Vec<String> {
        lock(&self.world).mint.issued().to_vec()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // Wakes the accept loop, which then ends; requests already in flight finish on their own.
        self.server.unblock();
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpStream;

    /// One raw HTTP/1.1 exchange, so this check needs no HTTP client crate.
    fn post(url: &str, path: &str, body: &str) -> String {
        let mut stream = TcpStream::connect(url.trim_start_matches("http://")).unwrap();
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    }

    #[test]
    fn serves_counts_faults_and_stops_on_drop() {
        let emulator = Emulator::start(Organization::demo());
        let register = r#"{"clientName":"t","clientType":"public"}"#;
        emulator.inject(Op::RegisterClient, Fault::Status(503));
        assert!(post(&emulator.url(), "/client/register", register).starts_with("HTTP/1.1 503"));
        let ok = post(&emulator.url(), "/client/register", register);
        assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
        assert_eq!(emulator.calls(Op::RegisterClient), 2);
        assert_eq!(emulator.calls_total(), 2);
        let secret = &emulator.issued_secrets()[0];
        assert!(ok.contains(secret.as_str()));
        let statuses: Vec<u16> = emulator.requests().iter().map(|r| r.status).collect();
        assert_eq!(statuses, [503, 200]);
        let url = emulator.url();
        drop(emulator);
        // tiny_http closes its listener on its own thread shortly after the drop.
        let closed = (0..100).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(20));
            TcpStream::connect(url.trim_start_matches("http://")).is_err()
        });
        assert!(closed, "still listening after drop");
    }
}
