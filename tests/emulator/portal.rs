//! The SSO portal (restJson1): ListAccounts, ListAccountRoles, GetRoleCredentials and Logout,
//! authorised by the OIDC access token in `x-amz-sso_bearer_token`.
//!
//! Lists are paginated the way the real portal does it: the page size is capped by the org
//! settings whatever `max_result` asks, so pages come back shorter than asked and still carry a
//! `nextToken`, and the last page says `"nextToken": null`.

use super::call::Call;
use super::mint::stable_id;
use super::reply::Reply;
use super::sessions::Identity;
use super::wire_error::portal as error;
use super::world::{World, now_secs};
use serde_json::{Value, json};

const BEARER_HEADER: &str = "x-amz-sso_bearer_token";

pub fn list_accounts(world: &mut World, call: &Call) -> Reply {
    if let Err(reply) = authorize(world, call) {
        return reply;
    }
    let accounts: Vec<Value> = world
        .org
        .accounts
        .iter()
        .map(|a| json!({ "accountId": a.id, "accountName": a.name, "emailAddress": a.email }))
        .collect();
    paginate(world, call, "accounts", "accountList", accounts)
}

pub fn list_account_roles(world: &mut World, call: &Call) -> Reply {
    if let Err(reply) = authorize(world, call) {
        return reply;
    }
    let Some(account_id) = call.query("account_id") else {
        return error(400, "InvalidRequestException", "account_id is required");
    };
    // An account with no assignment lists no roles rather than failing.
    let roles: Vec<Value> = world
        .org
        .account(account_id)
        .map(|a| {
            a.permission_sets
                .iter()
                .map(|p| json!({ "roleName": p, "accountId": a.id }))
                .collect()
        })
        .unwrap_or_default();
    paginate(
        world,
        call,
        &format!("roles{account_id}"),
        "roleList",
        roles,
    )
}

pub fn get_role_credentials(world: &mut World, call: &Call) -> Reply {
    let token = match authorize(world, call) {
        Ok(token) => token,
        Err(reply) => return reply,
    };
    let (Some(account_id), Some(role_name)) = (call.query("account_id"), call.query("role_name"))
    else {
        return error(
            400,
            "InvalidRequestException",
            "account_id and role_name are required",
        );
    };
    if !world.org.is_assigned(account_id, role_name) {
        // Not in the service model, but what the portal answers; clients match the code string.
        return error(403, "ForbiddenException", "No access");
    }
    // The user who signed in for this token.
    let user = world.logins.access_tokens[&token].user.clone();
    // The reserved role name carries a suffix fixed per permission-set provisioning.
    let suffix = stable_id("", &format!("{account_id}/{role_name}"), 16).to_ascii_lowercase();
    let identity = Identity {
        account_id: account_id.to_string(),
        arn: format!(
            "arn:aws:sts::{account_id}:assumed-role/AWSReservedSSO_{role_name}_{suffix}/{user}"
        ),
        user_id: format!(
            "{}:{user}",
            stable_id("AROAEMULATOR", &format!("{account_id}/{role_name}"), 21)
        ),
        is_role: true,
    };
    let expires_at = world.expiry(world.org.settings.role_credentials_ttl_secs);
    let issued = world.sessions.issue(&mut world.mint, identity, expires_at);
    Reply::json(
        200,
        &json!({
            "roleCredentials": {
                "accessKeyId": issued.access_key_id,
                "secretAccessKey": issued.secret_access_key,
                "sessionToken": issued.session_token,
                // Epoch milliseconds, unlike every other expiry in these APIs.
                "expiration": issued.expires_at * 1000,
            }
        }),
    )
}

pub fn logout(world: &mut World, call: &Call) -> Reply {
    match authorize(world, call) {
        Ok(token) => {
            world.logins.end_sign_in(&token);
            Reply::new(200, "application/json", Vec::new())
        }
        Err(reply) => reply,
    }
}

/// The caller's access token if it is valid, else the portal's 401.
fn authorize(world: &World, call: &Call) -> Result<String, Reply> {
    match call.header(BEARER_HEADER) {
        Some(token) if world.logins.access_token_valid(token, now_secs()) => Ok(token.to_string()),
        _ => Err(error(
            401,
            "UnauthorizedException",
            "Session token not found or invalid",
        )),
    }
}

/// One page of `items`. `kind` ties a next token to the list it came from, so a token passed to
/// the wrong list (or made up) is rejected like the real opaque ones.
fn paginate(world: &World, call: &Call, kind: &str, list_key: &str, items: Vec<Value>) -> Reply {
    let cap = world.org.settings.page_size;
    let asked = match call.query("max_result").map(str::parse::<usize>) {
        None => cap,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => return error(400, "InvalidRequestException", "Invalid max_result"),
    };
    let start = match call.query("next_token") {
        None => 0,
        Some(token) => match decode_token(kind, token) {
            Some(offset) if offset <= items.len() => offset,
            _ => return error(400, "InvalidRequestException", "Invalid next token"),
        },
    };
    let end = (start + asked.min(cap)).min(items.len());
    let next = (end < items.len()).then(|| encode_token(kind, end));
    let mut body = json!({ "nextToken": next });
    body[list_key] = Value::Array(items[start..end].to_vec());
    Reply::json(200, &body)
}

fn encode_token(kind: &str, offset: usize) -> String {
    format!("EMULATORPAGE.{kind}.{offset}")
}

fn decode_token(kind: &str, token: &str) -> Option<usize> {
    let rest = token
        .strip_prefix("EMULATORPAGE.")?
        .strip_prefix(kind)?
        .strip_prefix('.')?;
    rest.parse().ok()
}
