//! The HTTP front: receives requests from tiny_http, answers each on its own thread (so a
//! delayed answer never holds up others), routes by method and path, applies queued faults, and
//! records every AWS call in the ledger.
//!
//! All three services share the base URL, as they do when a client overrides the endpoint: STS
//! is `POST /` with an awsQuery form, the rest are distinct restJson1 paths.

use super::call::Call;
use super::ledger::RecordedCall;
use super::op::Op;
use super::reply::Reply;
use super::world::{World, lock};
use super::{authorize_page, control, device_page, federation, oidc, portal, sts, wire_error};
use std::sync::{Arc, Mutex};
use std::thread;

/// Serves until the server is unblocked (the emulator is dropped).
pub fn accept_loop(server: Arc<tiny_http::Server>, world: Arc<Mutex<World>>) {
    for request in server.incoming_requests() {
        let world = Arc::clone(&world);
        thread::spawn(move || answer(&world, request));
    }
}

enum Route {
    Op(Op),
    Control,
    DevicePage,
    AuthorizePage,
    UnknownAction,
    NotFound,
}

fn route(call: &Call) -> Route {
    match (call.method.as_str(), call.path.as_str()) {
        (_, path) if path.starts_with("/_emulator/") => Route::Control,
        ("GET", "/device") => Route::DevicePage,
        ("GET", "/authorize" | "/authorize/decide") => Route::AuthorizePage,
        ("POST", "/") => match call.param("Action").and_then(Op::from_sts_action) {
            Some(op) => Route::Op(op),
            None => Route::UnknownAction,
        },
        (method, path) => Op::from_route(method, path).map_or(Route::NotFound, Route::Op),
    }
}

fn answer(world: &Mutex<World>, mut request: tiny_http::Request) {
    let request_id = lock(world).mint.request_id();
    let call = Call::read(&mut request, request_id);
    let reply = match route(&call) {
        Route::Op(op) => answer_op(world, op, &call),
        Route::Control => control::serve(&mut lock(world), &call),
        Route::DevicePage => device_page::serve(&mut lock(world), &call),
        Route::AuthorizePage => authorize_page::serve(&mut lock(world), &call),
        Route::UnknownAction => {
            let action = call.param("Action").unwrap_or_default();
            let message = format!("Could not find operation {action} for version 2011-06-15");
            wire_error::sts(400, "InvalidAction", &message, &call.request_id)
        }
        Route::NotFound => {
            wire_error::portal(404, "UnknownOperationException", "No such operation")
        }
    };
    reply
        .with_header("x-amzn-RequestId", &call.request_id)
        .send(request);
}

fn answer_op(world: &Mutex<World>, op: Op, call: &Call) -> Reply {
    let (fault, latency) = {
        let mut world = lock(world);
        world.ledger.count(op);
        let fault = world.ledger.take_fault(op).or_else(|| {
            world
                .pressure
                .throttled(op, call)
                .then_some(super::fault::Fault::Throttle)
        });
        (fault, world.pressure.latency)
    };
    if !latency.is_zero() {
        thread::sleep(latency);
    }
    // The lock is taken inside the handler call only, never across a Delay fault's sleep.
    let handle = || dispatch(&mut lock(world), op, call);
    let reply = match &fault {
        Some(fault) => fault.apply(op, &call.request_id, handle),
        None => handle(),
    };
    lock(world)
        .ledger
        .record(RecordedCall::new(op, call, reply.status, fault.as_ref()));
    reply
}

fn dispatch(world: &mut World, op: Op, call: &Call) -> Reply {
    let handler = match op {
        Op::RegisterClient => oidc::register_client,
        Op::StartDeviceAuthorization => oidc::start_device_authorization,
        Op::CreateToken => oidc::create_token,
        Op::ListAccounts => portal::list_accounts,
        Op::ListAccountRoles => portal::list_account_roles,
        Op::GetRoleCredentials => portal::get_role_credentials,
        Op::Logout => portal::logout,
        Op::GetCallerIdentity => sts::get_caller_identity,
        Op::AssumeRole => sts::assume_role,
        Op::AssumeRoleWithWebIdentity => sts::assume_role_with_web_identity,
        Op::GetSessionToken => sts::get_session_token,
        Op::GetSigninToken => federation::get_signin_token,
    };
    handler(world, call)
}
