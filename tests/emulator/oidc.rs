//! SSO OIDC (restJson1): RegisterClient, StartDeviceAuthorization and CreateToken, i.e. the
//! device-code login (RFC 8628), the authorization code with PKCE (RFC 7636; the browser side is
//! `authorize_page`) and the refresh-token grant.
//!
//! Errors follow the service model: `InvalidClientException` (401) for an unknown, mismatched or
//! expired client, the OAuth device-flow errors (400) while polling, `InvalidGrantException` for
//! unknown, reused or revoked codes and tokens, and for an authorization code redeemed with
//! another verifier or redirect URI. A client is used only for the grants it registered: a
//! device-code client cannot redeem an authorization code, nor the reverse
//! (`UnauthorizedClientException`).

use super::call::Call;
use super::login::{
    AUTHORIZATION_CODE_GRANT, AccessToken, Approval, Client, DEVICE_CODE_GRANT, DeviceGrant,
    RefreshToken,
};
use super::reply::Reply;
use super::wire_error::oidc as error;
use super::world::{World, now_secs};
use serde_json::{Map, Value, json};
use std::time::{Duration, Instant};

const REFRESH_GRANT: &str = "refresh_token";
/// Polls this much earlier than the interval still count as on time: request latency varies.
const POLL_SLACK: Duration = Duration::from_millis(250);

pub fn register_client(world: &mut World, call: &Call) -> Reply {
    let Some(body) = call.json() else {
        return error("InvalidRequestException", "Invalid request body");
    };
    let (Some(_name), Some(client_type)) = (text(&body, "clientName"), text(&body, "clientType"))
    else {
        return error(
            "InvalidRequestException",
            "clientName and clientType are required",
        );
    };
    if client_type != "public" {
        return error(
            "InvalidClientMetadataException",
            "Only public clients are supported",
        );
    }
    let grant_types = body
        .get("grantTypes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let grant_types: Vec<String> = grant_types
        .iter()
        .filter_map(|g| g.as_str().map(str::to_owned))
        .collect();
    let redirect_uris: Vec<String> = body
        .get("redirectUris")
        .and_then(Value::as_array)
        .map(|uris| {
            uris.iter()
                .filter_map(|u| u.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if let Some(bad) = redirect_uris.iter().find(|uri| !loopback_redirect(uri)) {
        return error(
            "InvalidRedirectUriException",
            &format!("Redirect URI {bad} must use the loopback interface http://127.0.0.1"),
        );
    }
    let wants_code = grant_types.iter().any(|g| g == AUTHORIZATION_CODE_GRANT);
    if wants_code && redirect_uris.is_empty() {
        return error(
            "InvalidRequestException",
            "redirectUris are required for the authorization_code grant",
        );
    }
    let now = now_secs();
    let id = world.mint.id("EMULATORCLIENT", 22);
    let secret = world.mint.secret("EMULATORCLIENTSECRET", 96);
    let expires_at = world.expiry(world.org.settings.client_secret_ttl_secs);
    let refresh_allowed = grant_types.iter().any(|g| g == REFRESH_GRANT);
    world.logins.clients.insert(
        id.clone(),
        Client {
            secret: secret.clone(),
            expires_at,
            refresh_allowed,
            grant_types,
            redirect_uris,
        },
    );
    Reply::json(
        200,
        &json!({
            "clientId": id,
            "clientSecret": secret,
            "clientIdIssuedAt": now,
            "clientSecretExpiresAt": expires_at,
        }),
    )
}

pub fn start_device_authorization(world: &mut World, call: &Call) -> Reply {
    let Some(body) = call.json() else {
        return error("InvalidRequestException", "Invalid request body");
    };
    let (Some(client_id), Some(client_secret), Some(start_url)) = (
        text(&body, "clientId"),
        text(&body, "clientSecret"),
        text(&body, "startUrl"),
    ) else {
        return error(
            "InvalidRequestException",
            "clientId, clientSecret and startUrl are required",
        );
    };
    let now = now_secs();
    match world.logins.client(client_id, client_secret, now) {
        None => return error("InvalidClientException", "Invalid client provided"),
        Some(client) if !client.allows(DEVICE_CODE_GRANT) => {
            return error(
                "UnauthorizedClientException",
                "The client is not registered for the device code grant",
            );
        }
        Some(_) => {}
    }
    if world
        .org
        .start_url
        .as_deref()
        .is_some_and(|expected| expected != start_url)
    {
        return error("InvalidRequestException", "Invalid start url");
    }
    let device_code = world.mint.secret("EMULATORDEVICECODE", 64);
    let user_code = loop {
        let code = world.mint.user_code();
        if world.logins.devices.values().all(|d| d.user_code != code) {
            break code;
        }
    };
    let approval = if world.auto_approve {
        Approval::Approved
    } else {
        Approval::Pending
    };
    let settings = &world.org.settings;
    world.logins.devices.insert(
        device_code.clone(),
        DeviceGrant {
            user_code: user_code.clone(),
            client_id: client_id.to_string(),
            expires_at: now + settings.device_code_ttl_secs,
            approval,
            last_poll: None,
        },
    );
    let verification_uri = format!("{}/device", call.base_url(&world.base_url));
    Reply::json(
        200,
        &json!({
            "deviceCode": device_code,
            "userCode": user_code,
            "verificationUri": verification_uri,
            "verificationUriComplete": format!("{verification_uri}?user_code={user_code}"),
            "expiresIn": settings.device_code_ttl_secs,
            "interval": settings.poll_interval_secs,
        }),
    )
}

pub fn create_token(world: &mut World, call: &Call) -> Reply {
    let Some(body) = call.json() else {
        return error("InvalidRequestException", "Invalid request body");
    };
    let (Some(client_id), Some(client_secret), Some(grant_type)) = (
        text(&body, "clientId"),
        text(&body, "clientSecret"),
        text(&body, "grantType"),
    ) else {
        return error(
            "InvalidRequestException",
            "clientId, clientSecret and grantType are required",
        );
    };
    let now = now_secs();
    let Some(client) = world.logins.client(client_id, client_secret, now) else {
        return error("InvalidClientException", "Invalid client provided");
    };
    let refresh_allowed = client.refresh_allowed;
    if matches!(grant_type, DEVICE_CODE_GRANT | AUTHORIZATION_CODE_GRANT)
        && !client.allows(grant_type)
    {
        return error(
            "UnauthorizedClientException",
            "The client is not registered for this grant type",
        );
    }
    let result = match grant_type {
        DEVICE_CODE_GRANT => redeem_device_code(world, client_id, text(&body, "deviceCode"), now)
            .map(|()| signing_in(world)),
        AUTHORIZATION_CODE_GRANT => {
            redeem_auth_code(world, client_id, &body, now).map(|()| signing_in(world))
        }
        REFRESH_GRANT => redeem_refresh_token(world, client_id, text(&body, "refreshToken")),
        _ => Err(error(
            "UnsupportedGrantTypeException",
            "Unsupported grant type",
        )),
    };
    match result {
        Ok(user) => issue_tokens(world, client_id, &user, refresh_allowed, now),
        Err(reply) => reply,
    }
}

fn redeem_device_code(
    world: &mut World,
    client_id: &str,
    device_code: Option<&str>,
    now: u64,
) -> Result<(), Reply> {
    let settings = &world.org.settings;
    let interval = Duration::from_secs(settings.poll_interval_secs);
    let enforce = settings.enforce_poll_interval;
    let grant = device_code
        .and_then(|code| world.logins.devices.get_mut(code))
        .filter(|grant| grant.client_id == client_id)
        .ok_or_else(|| error("InvalidGrantException", "Invalid device code provided"))?;
    if grant.expires_at <= now {
        return Err(error("ExpiredTokenException", "Device code has expired"));
    }
    let polled_early = grant
        .last_poll
        .is_some_and(|last| last.elapsed() + POLL_SLACK < interval);
    grant.last_poll = Some(Instant::now());
    if enforce && polled_early {
        return Err(error("SlowDownException", "Client is polling too fast"));
    }
    match grant.approval {
        Approval::Pending => Err(error(
            "AuthorizationPendingException",
            "Authorization is still pending",
        )),
        Approval::Denied => Err(error("AccessDeniedException", "Access denied by the user")),
        Approval::Redeemed => Err(error(
            "InvalidGrantException",
            "Device code has already been used",
        )),
        Approval::Approved => {
            grant.approval = Approval::Redeemed;
            Ok(())
        }
    }
}

/// An authorization code works once, within its lifetime, for the client it was issued to, with
/// the redirect URI it was sent to (port included) and the verifier of its challenge.
fn redeem_auth_code(
    world: &mut World,
    client_id: &str,
    body: &Map<String, Value>,
    now: u64,
) -> Result<(), Reply> {
    let invalid = || {
        error(
            "InvalidGrantException",
            "Invalid authorization code provided",
        )
    };
    // Removed whatever the outcome: a code that failed once cannot be tried again.
    let code = text(body, "code")
        .and_then(|code| world.logins.auth_codes.remove(code))
        .ok_or_else(invalid)?;
    if code.expires_at <= now {
        return Err(error(
            "ExpiredTokenException",
            "Authorization code has expired",
        ));
    }
    let verifier = text(body, "codeVerifier");
    if let Some(verifier) = verifier {
        world.mint.witness(verifier);
    }
    let verifier_ok =
        verifier.is_some_and(|verifier| super::authorize_page::s256(verifier) == code.challenge);
    let redirect_ok = text(body, "redirectUri") == Some(code.redirect_uri.as_str());
    if code.client_id != client_id || !verifier_ok || !redirect_ok {
        return Err(invalid());
    }
    Ok(())
}

/// A redirect URI on the loopback interface, as the service takes them: `http://127.0.0.1`,
/// any port, path `/oauth/callback` or none.
pub fn loopback_redirect(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("http://127.0.0.1") else {
        return false;
    };
    let path = match rest.strip_prefix(':') {
        Some(port_and_path) => {
            let digits = port_and_path
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(port_and_path.len());
            if digits == 0 || port_and_path[..digits].parse::<u16>().is_err() {
                return false;
            }
            &port_and_path[digits..]
        }
        None => rest,
    };
    path.is_empty() || path == "/oauth/callback"
}

/// Whether `uri` (sent with a port) matches one of the client's registered URIs, which may
/// leave the port out (RFC 8252 §7.3: any port on the loopback interface).
pub fn redirect_registered(client: &Client, uri: &str) -> bool {
    if !loopback_redirect(uri) {
        return false;
    }
    let without_port = |u: &str| {
        let rest = &u["http://127.0.0.1".len()..];
        match rest.strip_prefix(':') {
            Some(p) => p
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .to_owned(),
            None => rest.to_owned(),
        }
    };
    client
        .redirect_uris
        .iter()
        .any(|registered| without_port(registered) == without_port(uri))
}

/// Who signs in with a login approved now.
fn signing_in(world: &World) -> String {
    world
        .signing_in
        .clone()
        .unwrap_or_else(|| world.org.user.clone())
}

/// The user of a valid refresh token, which is redeemed.
fn redeem_refresh_token(
    world: &mut World,
    client_id: &str,
    refresh_token: Option<&str>,
) -> Result<String, Reply> {
    let single_use = world.org.settings.single_use_refresh_tokens;
    let token = refresh_token
        .and_then(|value| world.logins.refresh_tokens.get_mut(value))
        .filter(|token| token.client_id == client_id && !token.revoked)
        .ok_or_else(|| error("InvalidGrantException", "Invalid refresh token provided"))?;
    if single_use {
        token.revoked = true;
    }
    Ok(token.user.clone())
}

fn issue_tokens(
    world: &mut World,
    client_id: &str,
    user: &str,
    refresh_allowed: bool,
    now: u64,
) -> Reply {
    let ttl = world.org.settings.access_token_ttl_secs;
    // `expiresIn` is an int32 on the wire.
    let stated_ttl = world.expiry(ttl).saturating_sub(now).min(i32::MAX as u64);
    let access_token = world.mint.secret("aoaEMULATORACCESSTOKEN", 96);
    world.logins.access_tokens.insert(
        access_token.clone(),
        AccessToken {
            client_id: client_id.to_string(),
            user: user.to_owned(),
            expires_at: now + ttl,
            revoked: false,
        },
    );
    let mut body =
        json!({ "accessToken": access_token, "tokenType": "Bearer", "expiresIn": stated_ttl });
    if refresh_allowed {
        let refresh_token = world.mint.secret("aorEMULATORREFRESHTOKEN", 96);
        let token = RefreshToken {
            client_id: client_id.to_string(),
            user: user.to_owned(),
            revoked: false,
        };
        world
            .logins
            .refresh_tokens
            .insert(refresh_token.clone(), token);
        body["refreshToken"] = Value::String(refresh_token);
    }
    Reply::json(200, &body)
}

fn text<'a>(body: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    body.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}
