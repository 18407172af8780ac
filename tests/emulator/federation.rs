//! The AWS console federation endpoint (`GET /federation?Action=getSigninToken`): turns a set
//! of temporary credentials, sent as the `Session` JSON, into a sign-in token.
//!
//! It checks the credentials against the sessions STS and the portal issued, records the session
//! key id in the ledger, and remembers which account each token signs in to.

use super::call::Call;
use super::reply::Reply;
use super::world::{World, now_secs};

/// The console session lengths the endpoint accepts.
const SESSION_DURATION_SECS: std::ops::RangeInclusive<u64> = 900..=43_200;

pub fn get_signin_token(world: &mut World, call: &Call) -> Reply {
    let bad = |message: &str| Reply::json(400, &serde_json::json!({ "message": message }));
    if call.query("Action") != Some("getSigninToken") {
        return bad("Action must be getSigninToken");
    }
    if let Some(duration) = call.query("SessionDuration") {
        match duration.parse::<u64>() {
            Ok(secs) if SESSION_DURATION_SECS.contains(&secs) => {}
            _ => return bad("SessionDuration must be 900 to 43200 seconds"),
        }
    }
    let Some(session) = call
        .query("Session")
        .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
    else {
        return bad("Session must be JSON with sessionId, sessionKey and sessionToken");
    };
    let field = |name: &str| session[name].as_str().unwrap_or_default().to_owned();
    let (key, secret, token) = (
        field("sessionId"),
        field("sessionKey"),
        field("sessionToken"),
    );
    let valid = world.sessions.get(&key).is_some_and(|known| {
        known.session_token.as_deref() == Some(token.as_str())
            && known.secret_access_key == secret
            && known.expires_at.is_none_or(|at| at > now_secs())
    });
    if !valid {
        return Reply::json(
            401,
            &serde_json::json!({ "message": "The session credentials are not valid" }),
        );
    }
    let signin_token = world.mint.secret("SIGNINTOKENEMULATOR", 48);
    Reply::json(200, &serde_json::json!({ "SigninToken": signin_token }))
}
