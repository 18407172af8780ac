//! The browser side of the authorization code with PKCE: `GET /authorize`, the page IAM Identity
//! Center shows to approve a sign-in, and its two links.
//!
//! - `GET /authorize?response_type=code&client_id&redirect_uri&state&code_challenge_method=S256
//!   &scopes&code_challenge`: checks the client (registered for `authorization_code`, not
//!   expired) and the redirect URI (one the client registered, on 127.0.0.1, any port) before
//!   anything else; a request failing those gets an error page and is never redirected. Then,
//!   with auto-deny on it redirects with `error=access_denied`, with auto-approve on it redirects
//!   with a code, and otherwise it shows the approval page.
//! - `GET /authorize/decide?request=ID&decision=approve|deny`: the page's Approve and Deny links.
//!
//! A code is single-use and lives [`CODE_TTL_SECS`]; CreateToken checks it against the verifier
//! and the redirect URI (`oidc::redeem_auth_code`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::call::Call;
use super::login::{AUTHORIZATION_CODE_GRANT, AuthCode, BrowserRequest};
use super::oidc::redirect_registered;
use super::reply::Reply;
use super::wire_error::xml_escape;
use super::world::{World, now_secs};

/// How long an authorization code may wait to be redeemed.
pub const CODE_TTL_SECS: u64 = 120;

/// The S256 code challenge of `verifier` (RFC 7636 §4.2).
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

pub fn serve(world: &mut World, call: &Call) -> Reply {
    match call.path.as_str() {
        "/authorize" => authorize(world, call),
        _ => decide(world, call),
    }
}

fn authorize(world: &mut World, call: &Call) -> Reply {
    let now = now_secs();
    let client_id = call.query("client_id").unwrap_or_default();
    let redirect_uri = call.query("redirect_uri").unwrap_or_default();
    let Some(client) = world.logins.public_client(client_id, now) else {
        return page(400, "Invalid request", "<p>Unknown or expired client.</p>");
    };
    if !client.allows(AUTHORIZATION_CODE_GRANT) {
        return page(
            400,
            "Invalid request",
            "<p>The client is not registered for the authorization code grant.</p>",
        );
    }
    if !redirect_registered(client, redirect_uri) {
        return page(
            400,
            "Invalid request",
            "<p>The redirect URI is not registered for this client.</p>",
        );
    }
    let state = call.query("state").map(str::to_owned);
    let challenge = call.query("code_challenge").unwrap_or_default();
    if call.query("response_type") != Some("code")
        || call.query("code_challenge_method") != Some("S256")
        || challenge.is_empty()
    {
        return redirect(
            redirect_uri,
            &[("error", "invalid_request")],
            state.as_deref(),
        );
    }
    let request = BrowserRequest {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        state,
        challenge: challenge.to_owned(),
    };
    if world.auto_deny {
        return deny(&request);
    }
    if world.auto_approve {
        return approve(world, &request);
    }
    let id = world.mint.id("AUTHZREQUEST", 16);
    world.logins.browser_requests.insert(id.clone(), request);
    page(
        200,
        "Authorize request",
        &format!(
            "<p>atmos-auth is asking to sign in to your AWS access portal.</p>\
             <p><a id=\"approve\" href=\"/authorize/decide?request={id}&amp;decision=approve\">Approve</a> \
             <a id=\"deny\" href=\"/authorize/decide?request={id}&amp;decision=deny\">Deny</a></p>"
        ),
    )
}

fn decide(world: &mut World, call: &Call) -> Reply {
    let id = call.query("request").unwrap_or_default();
    let Some(request) = world.logins.browser_requests.remove(id) else {
        return page(
            404,
            "Invalid request",
            "<p>This sign-in request is unknown or already decided.</p>",
        );
    };
    match call.query("decision") {
        Some("approve") => approve(world, &request),
        _ => deny(&request),
    }
}

fn approve(world: &mut World, request: &BrowserRequest) -> Reply {
    let code = world.mint.secret("EMULATORAUTHCODE", 48);
    world.logins.auth_codes.insert(
        code.clone(),
        AuthCode {
            client_id: request.client_id.clone(),
            redirect_uri: request.redirect_uri.clone(),
            challenge: request.challenge.clone(),
            expires_at: now_secs() + CODE_TTL_SECS,
        },
    );
    redirect(
        &request.redirect_uri,
        &[("code", &code)],
        request.state.as_deref(),
    )
}

fn deny(request: &BrowserRequest) -> Reply {
    redirect(
        &request.redirect_uri,
        &[("error", "access_denied")],
        request.state.as_deref(),
    )
}

/// A 302 to `uri` with `params` and the request's `state` in the query (RFC 6749 §4.1.2).
fn redirect(uri: &str, params: &[(&str, &str)], state: Option<&str>) -> Reply {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        query.append_pair(name, value);
    }
    if let Some(state) = state {
        query.append_pair("state", state);
    }
    let location = format!("{uri}?{}", query.finish());
    Reply::html(302, String::new()).with_header("Location", &location)
}

fn page(status: u16, title: &str, content: &str) -> Reply {
    Reply::html(
        status,
        format!(
            "<!DOCTYPE html>\n<html><head><title>{}</title></head>\
             <body><h1>AWS emulator: {}</h1>{content}</body></html>\n",
            xml_escape(title),
            xml_escape(title)
        ),
    )
}
