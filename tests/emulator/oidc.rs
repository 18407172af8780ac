//! SSO OIDC (restJson1): RegisterClient, StartDeviceAuthorization and CreateToken, i.e. the
//! device-code login (RFC 8628) and refresh-token grant.
//!
//! Errors follow the service model: `InvalidClientException` (401) for an unknown, mismatched or
//! expired client, the OAuth device-flow errors (400) while polling, `InvalidGrantException` for
//! unknown, reused or revoked codes and tokens.

use super::call::Call;
use super::login::{AccessToken, Approval, Client, DeviceGrant, RefreshToken};
use super::reply::Reply;
use super::wire_error::oidc as error;
use super::world::{World, now_secs};
use serde_json::{Map, Value, json};
use std::time::{Duration, Instant};

const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
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
    let now = now_secs();
    let id = world.mint.id("EMULATORCLIENT", 22);
    let secret = world.mint.secret("EMULATORCLIENTSECRET", 96);
    let expires_at = world.expiry(world.org.settings.client_secret_ttl_secs);
    let refresh_allowed = grant_types
        .iter()
        .any(|g| g.as_str() == Some(REFRESH_GRANT));
    world.logins.clients.insert(
        id.clone(),
        Client {
            secret: secret.clone(),
            expires_at,
            refresh_allowed,
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
    if world.logins.client(client_id, client_secret, now).is_none() {
        return error("InvalidClientException", "Invalid client provided");
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
    let result = match grant_type {
        DEVICE_CODE_GRANT => redeem_device_code(world, client_id, text(&body, "deviceCode"), now),
        REFRESH_GRANT => redeem_refresh_token(world, client_id, text(&body, "refreshToken")),
        _ => Err(error(
            "UnsupportedGrantTypeException",
            "Unsupported grant type",
        )),
    };
    match result {
        Ok(()) => issue_tokens(world, client_id, refresh_allowed, now),
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

fn redeem_refresh_token(
    world: &mut World,
    client_id: &str,
    refresh_token: Option<&str>,
) -> Result<(), Reply> {
    let single_use = world.org.settings.single_use_refresh_tokens;
    let token = refresh_token
        .and_then(|value| world.logins.refresh_tokens.get_mut(value))
        .filter(|token| token.client_id == client_id && !token.revoked)
        .ok_or_else(|| error("InvalidGrantException", "Invalid refresh token provided"))?;
    if single_use {
        token.revoked = true;
    }
    Ok(())
}

fn issue_tokens(world: &mut World, client_id: &str, refresh_allowed: bool, now: u64) -> Reply {
    let ttl = world.org.settings.access_token_ttl_secs;
    // `expiresIn` is an int32 on the wire.
    let stated_ttl = world.expiry(ttl).saturating_sub(now).min(i32::MAX as u64);
    let access_token = world.mint.secret("aoaEMULATORACCESSTOKEN", 96);
    world.logins.access_tokens.insert(
        access_token.clone(),
        AccessToken {
            client_id: client_id.to_string(),
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
