//! STS exchanges: AssumeRole (role chains), AssumeRoleWithWebIdentity (GitHub Actions OIDC) and
//! GetSessionToken (IAM users, with MFA), each made at the plan's STS endpoint. The expiry STS
//! states is believed only up to the session length a role can have (or the length asked for).

use std::time::{Duration, SystemTime};

use aws_sdk_sts::types::Credentials as StsCredentials;

use crate::credentials::{AccessKeys, Credentials, capped_role_expiry};
use crate::provider::ProviderError;
use crate::provider::sdk::{Clients, Endpoints};
use crate::secret::Secret;
use crate::upstream::UpstreamError;

/// One AssumeRole call's parameters.
pub struct RoleRequest<'c> {
    pub identity: &'c str,
    pub role_arn: &'c str,
    pub external_id: Option<&'c str>,
    pub session_name: String,
    pub duration: Duration,
}

/// AssumeRole with `parent`'s credentials.
pub async fn assume_role(
    clients: &Clients,
    endpoints: &Endpoints,
    parent: &Credentials,
    request: &RoleRequest<'_>,
    now: SystemTime,
) -> Result<Credentials, ProviderError> {
    let out = clients
        .sts(endpoints, parent.to_sdk())
        .assume_role()
        .role_arn(request.role_arn)
        .role_session_name(&request.session_name)
        .set_external_id(request.external_id.map(str::to_owned))
        .duration_seconds(duration_secs(request))
        .send()
        .await
        .map_err(|e| UpstreamError::from_sdk("AssumeRole", e))?;
    let asked = Requested {
        duration: request.duration,
        now,
    };
    convert(
        "AssumeRole",
        out.credentials,
        account_of(request.role_arn),
        asked,
    )
}

/// AssumeRoleWithWebIdentity: an unsigned call that trades an OIDC token for role credentials.
pub async fn assume_role_with_web_identity(
    clients: &Clients,
    endpoints: &Endpoints,
    token: &Secret<String>,
    request: &RoleRequest<'_>,
    now: SystemTime,
) -> Result<Credentials, ProviderError> {
    let out = clients
        .sts_unsigned(endpoints)
        .assume_role_with_web_identity()
        .role_arn(request.role_arn)
        .role_session_name(&request.session_name)
        .web_identity_token(token.expose())
        .duration_seconds(duration_secs(request))
        .send()
        .await
        .map_err(|e| UpstreamError::from_sdk("AssumeRoleWithWebIdentity", e))?;
    let asked = Requested {
        duration: request.duration,
        now,
    };
    convert(
        "AssumeRoleWithWebIdentity",
        out.credentials,
        account_of(request.role_arn),
        asked,
    )
}

/// GetSessionToken with an IAM user's long-lived keys, with an MFA device and code if given.
pub async fn get_session_token(
    clients: &Clients,
    endpoints: &Endpoints,
    keys: &AccessKeys,
    mfa: Option<(&str, &str)>,
    duration: Duration,
    now: SystemTime,
) -> Result<Credentials, ProviderError> {
    let out = clients
        .sts(endpoints, keys.to_sdk())
        .get_session_token()
        .duration_seconds(i32::try_from(duration.as_secs()).unwrap_or(i32::MAX))
        .set_serial_number(mfa.map(|(serial, _)| serial.to_owned()))
        .set_token_code(mfa.map(|(_, code)| code.to_owned()))
        .send()
        .await
        .map_err(|e| UpstreamError::from_sdk("GetSessionToken", e))?;
    convert(
        "GetSessionToken",
        out.credentials,
        None,
        Requested { duration, now },
    )
}

/// Who STS says `credentials` belong to (`GetCallerIdentity`).
pub struct Caller {
    pub account: String,
    pub arn: String,
    pub user_id: String,
}

/// GetCallerIdentity with `credentials`, in a runtime of its own: one blocking call.
pub fn caller_identity(
    region: &str,
    endpoints: &Endpoints,
    credentials: &Credentials,
) -> Result<Caller, ProviderError> {
    let caller = super::sdk::runtime()
        .map_err(ProviderError::Runtime)?
        .block_on(async {
            let clients = Clients::new(region)?;
            clients
                .sts(endpoints, credentials.to_sdk())
                .get_caller_identity()
                .send()
                .await
                .map_err(|e| ProviderError::from(UpstreamError::from_sdk("GetCallerIdentity", e)))
        })?;
    // The SDK's XML reader accepts a document cut short and returns what it read so far: an
    // answer without all three fields was damaged on the way, and is not shown as if complete.
    let required = |value: Option<String>, field| {
        value.filter(|v| !v.is_empty()).ok_or_else(|| {
            ProviderError::from(UpstreamError::missing_field("GetCallerIdentity", field))
        })
    };
    Ok(Caller {
        account: required(caller.account, "Account")?,
        arn: required(caller.arn, "Arn")?,
        user_id: required(caller.user_id, "UserId")?,
    })
}

fn duration_secs(request: &RoleRequest<'_>) -> i32 {
    i32::try_from(request.duration.as_secs()).unwrap_or(3600)
}

/// The account id in a role ARN (`arn:aws:iam::ACCOUNT:role/NAME`).
fn account_of(role_arn: &str) -> Option<String> {
    role_arn
        .split(':')
        .nth(4)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
}

/// What was asked for, and when: the bounds for the expiry STS states.
#[derive(Clone, Copy)]
struct Requested {
    duration: Duration,
    now: SystemTime,
}

fn convert(
    operation: &'static str,
    credentials: Option<StsCredentials>,
    account_id: Option<String>,
    asked: Requested,
) -> Result<Credentials, ProviderError> {
    let missing = |field| ProviderError::from(UpstreamError::missing_field(operation, field));
    let credentials = credentials.ok_or_else(|| missing("Credentials"))?;
    // The SDK fills required members an answer lacks with defaults (empty strings, the epoch),
    // and its XML reader returns what it read of a document cut short: an empty member or an
    // expiry at the epoch means the answer was damaged, and such credentials are never stored.
    for (field, value) in [
        ("AccessKeyId", &credentials.access_key_id),
        ("SecretAccessKey", &credentials.secret_access_key),
        ("SessionToken", &credentials.session_token),
    ] {
        if value.is_empty() {
            return Err(missing(field));
        }
    }
    let expires_at = u64::try_from(credentials.expiration.secs())
        .ok()
        .filter(|secs| *secs > 0)
        .map(|secs| capped_role_expiry(secs, asked.duration, asked.now))
        .ok_or_else(|| missing("Expiration"))?;
    Ok(Credentials {
        access_key_id: credentials.access_key_id,
        secret_access_key: Secret::new(credentials.secret_access_key),
        session_token: Secret::new(credentials.session_token),
        expires_at,
        account_id,
    })
}

#[cfg(test)]
mod tests {
    use aws_smithy_types::DateTime;

    use super::*;

    #[test]
    fn an_expiry_in_the_year_3000_is_stored_as_the_cap() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let credentials = StsCredentials::builder()
            .access_key_id("ASIAEXAMPLE")
            .secret_access_key("secret")
            .session_token("token")
            .expiration(DateTime::from_secs(32_503_680_000))
            .build()
            .unwrap();
        let asked = Requested {
            duration: Duration::from_secs(3_600),
            now,
        };
        let converted = convert("AssumeRole", Some(credentials), None, asked).unwrap();
        assert_eq!(converted.expires_at, 1_000_000 + 12 * 3_600);
    }
}
