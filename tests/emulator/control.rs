//! The HTTP control API under `/_emulator/`, for a separate process (sandbox, benchmark scripts,
//! the fidelity check) to drive the emulator the way in-process tests use the Rust API:
//!
//! - `GET /_emulator/calls`: `{"total": N, "by_op": {"CreateToken": 3, ...}}`
//! - `GET /_emulator/requests`: every recorded call (see `RecordedCall`), as a JSON list
//! - `GET /_emulator/pending`: `{"user_codes": [...]}` awaiting approval
//! - `GET /_emulator/secrets`: `{"secrets": [...]}`, every secret issued
//! - `POST /_emulator/approve?user_code=X`, `POST /_emulator/deny?user_code=X` (404 if no such
//!   pending code)
//! - `POST /_emulator/auto-approve?enabled=true|false` (device codes and the authorize page)
//! - `POST /_emulator/auto-deny?enabled=true|false` (the authorize page denies every sign-in)
//! - `POST /_emulator/fault` with `{"op": "AssumeRole", "fault": "throttle", "count": 2}`; the
//!   fault is `{"status": 500}`, `"throttle"`, `{"delay_ms": 1500}`, `"malformed_body"`,
//!   `"truncated_body"`, `"wrong_content_type"`, `"slow_down"`, `"expired_token"` or
//!   `"access_denied"`; `count` defaults to 1
//! - `POST /_emulator/latency?ms=N`: every AWS call answered N ms later
//! - `POST /_emulator/throttle?op=ListAccountRoles&every=K&times=T`: every K-th page of the
//!   listing asked for the first time is refused (429) on its first T asks (see `pressure.rs`)
//! - `POST /_emulator/clear-faults`; `POST /_emulator/reset` (zero counters and recordings)
//! - `POST /_emulator/revoke-refresh-tokens`, `/expire-access-tokens`, `/expire-clients`,
//!   `/expire-credentials`: as the Rust methods of the same names

use super::call::Call;
use super::fault::Fault;
use super::op::Op;
use super::reply::Reply;
use super::world::{World, now_secs};
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;

#[derive(Deserialize)]
struct FaultRequest {
    op: Op,
    fault: FaultSpec,
    #[serde(default = "one")]
    count: usize,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum FaultSpec {
    Status(u16),
    Throttle,
    DelayMs(u64),
    MalformedBody,
    TruncatedBody,
    WrongContentType,
    SlowDown,
    ExpiredToken,
    AccessDenied,
}

impl From<FaultSpec> for Fault {
    fn from(spec: FaultSpec) -> Fault {
        match spec {
            FaultSpec::Status(code) => Fault::Status(code),
            FaultSpec::Throttle => Fault::Throttle,
            FaultSpec::DelayMs(ms) => Fault::Delay(Duration::from_millis(ms)),
            FaultSpec::MalformedBody => Fault::MalformedBody,
            FaultSpec::TruncatedBody => Fault::TruncatedBody,
            FaultSpec::WrongContentType => Fault::WrongContentType,
            FaultSpec::SlowDown => Fault::SlowDown,
            FaultSpec::ExpiredToken => Fault::ExpiredToken,
            FaultSpec::AccessDenied => Fault::AccessDenied,
        }
    }
}

fn one() -> usize {
    1
}

pub fn serve(world: &mut World, call: &Call) -> Reply {
    let route = call.path.trim_start_matches("/_emulator/");
    let ok = || Reply::json(200, &json!({ "ok": true }));
    match (call.method.as_str(), route) {
        ("GET", "calls") => {
            let by_op: serde_json::Map<String, Value> = world
                .ledger
                .counters()
                .iter()
                .map(|(op, n)| (op.name().to_string(), json!(n)))
                .collect();
            Reply::json(
                200,
                &json!({ "total": world.ledger.calls_total(), "by_op": by_op }),
            )
        }
        ("GET", "requests") => Reply::json(200, &json!(world.ledger.requests())),
        ("GET", "pending") => Reply::json(
            200,
            &json!({ "user_codes": world.logins.pending_user_codes(now_secs()) }),
        ),
        ("GET", "secrets") => Reply::json(200, &json!({ "secrets": world.mint.issued() })),
        ("POST", "approve" | "deny") => {
            let code = call.query("user_code").unwrap_or_default();
            let decided = if route == "approve" {
                world.logins.approve(code)
            } else {
                world.logins.deny(code)
            };
            if decided {
                ok()
            } else {
                not_found("no pending device authorization with that user code")
            }
        }
        ("POST", "auto-approve") => {
            world.auto_approve = call.query("enabled") != Some("false");
            ok()
        }
        ("POST", "auto-deny") => {
            world.auto_deny = call.query("enabled") != Some("false");
            ok()
        }
        ("POST", "fault") => match serde_json::from_slice::<FaultRequest>(&call.body) {
            Ok(request) => {
                world
                    .ledger
                    .inject(request.op, request.fault.into(), request.count);
                ok()
            }
            Err(err) => Reply::json(
                400,
                &json!({ "error": format!("invalid fault request: {err}") }),
            ),
        },
        ("POST", "latency") => match call.query("ms").map(str::parse::<u64>) {
            Some(Ok(ms)) => {
                world.pressure.latency = Duration::from_millis(ms);
                ok()
            }
            _ => bad_request("`ms` must be a number of milliseconds"),
        },
        ("POST", "throttle") => {
            let op = call
                .query("op")
                .and_then(|name| serde_json::from_value::<Op>(json!(name)).ok())
                .filter(|op| matches!(op, Op::ListAccounts | Op::ListAccountRoles));
            let number = |name| call.query(name).and_then(|n| n.parse::<usize>().ok());
            match (op, number("every"), number("times")) {
                (Some(op), Some(every), Some(times)) => {
                    world.pressure.throttle_pages(op, every, times);
                    ok()
                }
                _ => bad_request(
                    "needs `op` (ListAccounts or ListAccountRoles), `every` and `times`",
                ),
            }
        }
        ("POST", "clear-faults") => {
            world.ledger.clear_faults();
            ok()
        }
        ("POST", "reset") => {
            world.ledger.reset();
            ok()
        }
        ("POST", "revoke-refresh-tokens") => {
            world.logins.revoke_refresh_tokens();
            ok()
        }
        ("POST", "expire-access-tokens") => {
            world.logins.expire_access_tokens();
            ok()
        }
        ("POST", "expire-clients") => {
            world.logins.expire_clients();
            ok()
        }
        ("POST", "expire-credentials") => {
            world.sessions.expire_all();
            ok()
        }
        _ => not_found("unknown control route"),
    }
}

fn bad_request(message: &str) -> Reply {
    Reply::json(400, &json!({ "error": message }))
}

fn not_found(message: &str) -> Reply {
    Reply::json(404, &json!({ "error": message }))
}
