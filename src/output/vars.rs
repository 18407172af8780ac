//! `EnvVar`: the environment an identity's credentials become, in the names every AWS SDK and
//! the AWS CLI read.

use std::collections::BTreeMap;

use crate::credentials::Credentials;
use crate::secret::Secret;

pub const ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
pub const SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";
pub const SESSION_TOKEN: &str = "AWS_SESSION_TOKEN";
pub const CREDENTIAL_EXPIRATION: &str = "AWS_CREDENTIAL_EXPIRATION";
pub const REGION: &str = "AWS_REGION";
/// botocore and the AWS CLI v1 read only this one.
pub const DEFAULT_REGION: &str = "AWS_DEFAULT_REGION";

/// Variables that would make an SDK in a child prefer other credentials, or sign with a mix of
/// ours and stale ones: `exec` removes them from the child's environment.
pub const CONFLICTING: &[&str] = &[
    // Credentials already in the caller's environment (an earlier `eval "$(atmos-auth env …)"`)
    // must never leak into a command run for another identity, or for none.
    ACCESS_KEY_ID,
    SECRET_ACCESS_KEY,
    SESSION_TOKEN,
    CREDENTIAL_EXPIRATION,
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_SECURITY_TOKEN",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
];

/// One variable; `secret` marks values that must be masked where the format can mask.
pub struct EnvVar {
    pub name: String,
    pub value: Secret<String>,
    pub secret: bool,
}

impl EnvVar {
    fn plain(name: &str, value: String) -> Self {
        Self {
            name: name.to_owned(),
            value: Secret::new(value),
            secret: false,
        }
    }
}

/// The variables for `credentials`, the region, and the identity's own `env:` entries (which
/// may override the region but never the credentials).
pub fn credential_vars(
    credentials: &Credentials,
    region: &str,
    extra: &BTreeMap<String, String>,
) -> Vec<EnvVar> {
    let mut vars = vec![
        EnvVar::plain(ACCESS_KEY_ID, credentials.access_key_id.clone()),
        EnvVar {
            name: SECRET_ACCESS_KEY.into(),
            value: credentials.secret_access_key.clone(),
            secret: true,
        },
        EnvVar {
            name: SESSION_TOKEN.into(),
            value: credentials.session_token.clone(),
            secret: true,
        },
        EnvVar::plain(CREDENTIAL_EXPIRATION, credentials.expiration_rfc3339()),
        EnvVar::plain(REGION, region.to_owned()),
        EnvVar::plain(DEFAULT_REGION, region.to_owned()),
    ];
    // The credentials, and anything that would make an SDK look elsewhere for them (`exec`
    // removes those from the environment), cannot be set through an identity's `env:`.
    let protected = |name: &str| CONFLICTING.contains(&name);
    for (name, value) in extra {
        if protected(name) {
            continue;
        }
        match vars.iter_mut().find(|v| v.name == *name) {
            Some(var) => var.value = Secret::new(value.clone()),
            None => vars.push(EnvVar::plain(name, value.clone())),
        }
    }
    vars
}
