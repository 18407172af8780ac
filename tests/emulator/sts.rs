//! STS (awsQuery): GetCallerIdentity, AssumeRole, AssumeRoleWithWebIdentity, GetSessionToken.
//!
//! Callers are identified by the access key id in their SigV4 `Authorization` header and the
//! `X-Amz-Security-Token` that must go with a temporary key; the signature is not verified.
//! The rules enforced are the ones clients trip over: validation of session names and durations,
//! the one-hour cap on role chaining, a role's MaxSessionDuration, ExternalId, expired keys, and
//! GetSessionToken refusing session credentials.

use super::call::Call;
use super::jwt;
use super::mint::stable_id;
use super::reply::Reply;
use super::sessions::{Identity, Issued, Session};
use super::wire_error::{STS_NAMESPACE, sts as error, xml_escape};
use super::world::{World, now_secs};

const MIN_DURATION_SECS: u64 = 900;
const DEFAULT_ROLE_DURATION_SECS: u64 = 3600;
/// IAM's MaxSessionDuration for roles the org does not list.
const DEFAULT_MAX_SESSION_SECS: u64 = 3600;
const MAX_ROLE_DURATION_SECS: u64 = 43_200;
const MAX_SESSION_TOKEN_DURATION_SECS: u64 = 129_600;
const DEFAULT_SESSION_TOKEN_DURATION_SECS: u64 = 43_200;
const CHAINED_ROLE_MAX_SECS: u64 = 3600;

pub fn get_caller_identity(world: &mut World, call: &Call) -> Reply {
    let caller = match authenticate(world, call) {
        Ok(session) => session.identity,
        Err(reply) => return reply,
    };
    respond(
        "GetCallerIdentity",
        &format!(
            "<Arn>{}</Arn>\n    <UserId>{}</UserId>\n    <Account>{}</Account>",
            xml_escape(&caller.arn),
            xml_escape(&caller.user_id),
            caller.account_id
        ),
        call,
    )
}

pub fn assume_role(world: &mut World, call: &Call) -> Reply {
    let rid = &call.request_id;
    let caller = match authenticate(world, call) {
        Ok(session) => session.identity,
        Err(reply) => return reply,
    };
    let target = match RoleRequest::parse(call) {
        Ok(target) => target,
        Err(reply) => return reply,
    };
    let denied = || {
        let message = format!(
            "User: {} is not authorized to perform: sts:AssumeRole on resource: {}",
            caller.arn, target.arn
        );
        error(403, "AccessDenied", &message, rid)
    };
    let role = world.org.role(&target.arn);
    if world.org.account(&target.account_id).is_none() || role.is_some_and(|r| r.deny) {
        return denied();
    }
    // Without an ExternalId condition in the trust policy, STS ignores any ExternalId sent.
    let required_external_id = role.and_then(|r| r.external_id.as_deref());
    if required_external_id.is_some_and(|id| call.param("ExternalId") != Some(id)) {
        return denied();
    }
    if caller.is_role && target.duration_secs > CHAINED_ROLE_MAX_SECS {
        let message = "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.";
        return error(400, "ValidationError", message, rid);
    }
    if let Err(reply) = target.check_max_session(world, rid) {
        return reply;
    }
    let issued = target.issue(world);
    let source_identity = call
        .param("SourceIdentity")
        .map(|s| format!("\n    <SourceIdentity>{}</SourceIdentity>", xml_escape(s)));
    let result = format!(
        "{}{}",
        target.result_xml(&issued),
        source_identity.unwrap_or_default()
    );
    respond("AssumeRole", &result, call)
}

pub fn assume_role_with_web_identity(world: &mut World, call: &Call) -> Reply {
    let rid = &call.request_id;
    let target = match RoleRequest::parse(call) {
        Ok(target) => target,
        Err(reply) => return reply,
    };
    let Some(token) = call.param("WebIdentityToken").filter(|t| !t.is_empty()) else {
        return validation(rid, "null", "webIdentityToken", "Member must not be null");
    };
    let accepted = &world.org.web_identity_tokens;
    if !accepted.is_empty() && !accepted.iter().any(|t| t == token) {
        let message = "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements";
        return error(400, "InvalidIdentityToken", message, rid);
    }
    let claims = jwt::claims(token);
    if claims
        .as_ref()
        .and_then(|c| c.expires_at)
        .is_some_and(|exp| exp <= now_secs())
    {
        let message = "Token expired: current date/time must be before the expiration date/time";
        return error(400, "ExpiredTokenException", message, rid);
    }
    let role = world.org.role(&target.arn);
    if world.org.account(&target.account_id).is_none() || role.is_some_and(|r| r.deny) {
        let message = "Not authorized to perform sts:AssumeRoleWithWebIdentity";
        return error(403, "AccessDenied", message, rid);
    }
    if let Err(reply) = target.check_max_session(world, rid) {
        return reply;
    }
    let (subject, audience, issuer) = match claims {
        Some(c) => (c.subject, c.audience, c.issuer),
        None => (None, None, None),
    };
    let issuer = issuer.unwrap_or_else(|| "emulator.example.com".into());
    // STS names the provider by the ARN of the account's OIDC provider for the issuer host.
    let host = issuer.trim_start_matches("https://").trim_end_matches('/');
    let provider = format!("arn:aws:iam::{}:oidc-provider/{host}", target.account_id);
    let issued = target.issue(world);
    let result = format!(
        "{}\n    <SubjectFromWebIdentityToken>{}</SubjectFromWebIdentityToken>\n    \
         <Audience>{}</Audience>\n    <Provider>{}</Provider>",
        target.result_xml(&issued),
        xml_escape(&subject.unwrap_or_else(|| "emulator-subject".into())),
        xml_escape(&audience.unwrap_or_else(|| "sts.amazonaws.com".into())),
        xml_escape(&provider),
    );
    respond("AssumeRoleWithWebIdentity", &result, call)
}

pub fn get_session_token(world: &mut World, call: &Call) -> Reply {
    let rid = &call.request_id;
    let caller = match authenticate(world, call) {
        Ok(session) => session,
        Err(reply) => return reply,
    };
    if caller.session_token.is_some() {
        return error(
            403,
            "AccessDenied",
            "Cannot call GetSessionToken with session credentials",
            rid,
        );
    }
    let range = MIN_DURATION_SECS..=MAX_SESSION_TOKEN_DURATION_SECS;
    let duration = match duration_param(call, DEFAULT_SESSION_TOKEN_DURATION_SECS, range) {
        Ok(duration) => duration,
        Err(reply) => return reply,
    };
    if let Some(serial) = call.param("SerialNumber") {
        let code = call.param("TokenCode").unwrap_or_default();
        let user = world
            .org
            .iam_users
            .iter()
            .find(|u| caller.identity.arn.ends_with(&format!(":user/{}", u.name)));
        let serial_ok = user.is_some_and(|u| u.mfa_serial.as_deref() == Some(serial));
        let code_ok =
            code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) && code != "000000";
        if !(serial_ok && code_ok) {
            let message = "MultiFactorAuthentication failed with invalid MFA one time pass code. ";
            return error(403, "AccessDenied", message, rid);
        }
    }
    let identity = Identity {
        is_role: false,
        ..caller.identity
    };
    let expires_at = world.expiry(duration);
    let issued = world.sessions.issue(&mut world.mint, identity, expires_at);
    respond("GetSessionToken", &credentials_xml(&issued), call)
}

/// The calling session, or the error STS gives for a missing, unknown, mismatched or expired key.
fn authenticate(world: &World, call: &Call) -> Result<Session, Reply> {
    let rid = &call.request_id;
    let Some(key) = call.access_key_id() else {
        return Err(error(
            403,
            "MissingAuthenticationToken",
            "Request is missing Authentication Token",
            rid,
        ));
    };
    let invalid = || {
        error(
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
            rid,
        )
    };
    let session = world.sessions.get(key).ok_or_else(invalid)?;
    if session.session_token.as_deref() != call.header("x-amz-security-token") {
        return Err(invalid());
    }
    if session.expires_at.is_some_and(|at| at <= now_secs()) {
        return Err(error(
            400,
            "ExpiredToken",
            "The security token included in the request is expired",
            rid,
        ));
    }
    Ok(session.clone())
}

/// The parameters AssumeRole and AssumeRoleWithWebIdentity share, validated.
struct RoleRequest {
    arn: String,
    account_id: String,
    role_name: String,
    session_name: String,
    duration_secs: u64,
}

impl RoleRequest {
    fn parse(call: &Call) -> Result<RoleRequest, Reply> {
        let rid = &call.request_id;
        let Some(arn) = call.param("RoleArn") else {
            return Err(validation(
                rid,
                "null",
                "roleArn",
                "Member must not be null",
            ));
        };
        let Some(session_name) = call.param("RoleSessionName") else {
            return Err(validation(
                rid,
                "null",
                "roleSessionName",
                "Member must not be null",
            ));
        };
        let name_ok = (2..=64).contains(&session_name.len())
            && session_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
        if !name_ok {
            let constraint = "Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64";
            return Err(validation(
                rid,
                &format!("'{session_name}'"),
                "roleSessionName",
                constraint,
            ));
        }
        // arn:aws:iam::ACCOUNT:role/optional/path/NAME
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let (account_id, role_name) = match parts.as_slice() {
            ["arn", "aws", "iam", "", account, resource]
                if super::organization::is_account_id(account) && resource.starts_with("role/") =>
            {
                (
                    account.to_string(),
                    resource.rsplit('/').next().unwrap_or_default().to_string(),
                )
            }
            _ => {
                return Err(validation(
                    rid,
                    &format!("'{arn}'"),
                    "roleArn",
                    "Member must be a valid IAM role ARN",
                ));
            }
        };
        let duration_secs = duration_param(
            call,
            DEFAULT_ROLE_DURATION_SECS,
            MIN_DURATION_SECS..=MAX_ROLE_DURATION_SECS,
        )?;
        Ok(RoleRequest {
            arn: arn.to_string(),
            account_id,
            role_name,
            session_name: session_name.to_string(),
            duration_secs,
        })
    }

    fn check_max_session(&self, world: &World, rid: &str) -> Result<(), Reply> {
        let max = world
            .org
            .role(&self.arn)
            .map_or(DEFAULT_MAX_SESSION_SECS, |r| r.max_session_duration_secs);
        if self.duration_secs > max {
            let message =
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.";
            return Err(error(400, "ValidationError", message, rid));
        }
        Ok(())
    }

    fn issue(&self, world: &mut World) -> Issued {
        let identity = Identity {
            account_id: self.account_id.clone(),
            arn: self.session_arn(),
            user_id: self.assumed_role_id(),
            is_role: true,
        };
        let expires_at = world.expiry(self.duration_secs);
        world.sessions.issue(&mut world.mint, identity, expires_at)
    }

    fn session_arn(&self) -> String {
        format!(
            "arn:aws:sts::{}:assumed-role/{}/{}",
            self.account_id, self.role_name, self.session_name
        )
    }

    fn assumed_role_id(&self) -> String {
        format!(
            "{}:{}",
            stable_id("AROAEMULATOR", &self.arn, 21),
            self.session_name
        )
    }

    fn result_xml(&self, issued: &Issued) -> String {
        format!(
            "{}\n    <AssumedRoleUser>\n      <AssumedRoleId>{}</AssumedRoleId>\n      <Arn>{}</Arn>\n    \
             </AssumedRoleUser>",
            credentials_xml(issued),
            xml_escape(&self.assumed_role_id()),
            xml_escape(&self.session_arn())
        )
    }
}

fn duration_param(
    call: &Call,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, Reply> {
    let rid = &call.request_id;
    let Some(text) = call.param("DurationSeconds") else {
        return Ok(default);
    };
    let value = format!("'{text}'");
    match text.parse::<u64>() {
        Ok(n) if n < *range.start() => Err(validation(
            rid,
            &value,
            "durationSeconds",
            &format!(
                "Member must have value greater than or equal to {}",
                range.start()
            ),
        )),
        Ok(n) if n > *range.end() => Err(validation(
            rid,
            &value,
            "durationSeconds",
            &format!(
                "Member must have value less than or equal to {}",
                range.end()
            ),
        )),
        Ok(n) => Ok(n),
        Err(_) => Err(error(
            400,
            "MalformedInput",
            "Invalid value for DurationSeconds",
            rid,
        )),
    }
}

fn validation(rid: &str, value: &str, field: &str, constraint: &str) -> Reply {
    let message = format!(
        "1 validation error detected: Value {value} at '{field}' failed to satisfy constraint: {constraint}"
    );
    error(400, "ValidationError", &message, rid)
}

fn credentials_xml(issued: &Issued) -> String {
    let expiration = std::time::UNIX_EPOCH + std::time::Duration::from_secs(issued.expires_at);
    format!(
        "<Credentials>\n      <AccessKeyId>{}</AccessKeyId>\n      <SecretAccessKey>{}</SecretAccessKey>\n      \
         <SessionToken>{}</SessionToken>\n      <Expiration>{}</Expiration>\n    </Credentials>",
        issued.access_key_id,
        issued.secret_access_key,
        issued.session_token,
        humantime::format_rfc3339_seconds(expiration)
    )
}

/// `<ActionResponse><ActionResult>…</ActionResult><ResponseMetadata>…` as STS frames every answer.
fn respond(action: &str, result: &str, call: &Call) -> Reply {
    Reply::xml(
        200,
        format!(
            "<{action}Response xmlns=\"{STS_NAMESPACE}\">\n  <{action}Result>\n    {result}\n  </{action}Result>\n  \
             <ResponseMetadata>\n    <RequestId>{}</RequestId>\n  </ResponseMetadata>\n</{action}Response>\n",
            call.request_id
        ),
    )
}
