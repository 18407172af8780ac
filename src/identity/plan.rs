//! `Plan`: how an identity's credentials are obtained, worked out from the configuration alone
//! (no I/O) — a source for the first credentials of the chain, then one `AssumeRole` hop per
//! chained identity. Each link has its own cache key, so a chain reuses every link that is
//! still valid.

use std::time::Duration;

use crate::config::{
    AccountRef, Config, GithubOidc, Identity, IdentityCenter, IdentityKind, ProcessCommand,
    ProviderKind, Via,
};
use crate::paths::file_name_for;

/// STS caps a role session obtained with another role session's credentials at one hour.
pub const CHAINED_SESSION_CAP: Duration = Duration::from_secs(3600);
/// AssumeRole's own default session length.
pub const DEFAULT_ROLE_DURATION: Duration = Duration::from_secs(3600);
/// The region used when neither the identity nor its chain names one.
pub const FALLBACK_REGION: &str = "us-east-1";

/// What a plan takes from the process's surroundings, gathered once by the caller so the plan
/// itself stays a pure function of its inputs.
pub struct Ambient {
    /// The local user, for default role session names.
    pub user: String,
    /// The GitHub Actions job (repository, run, attempt, job, token URL); empty elsewhere.
    pub github_job: String,
}

impl Ambient {
    pub fn from_process() -> Self {
        let var = |name: &str| std::env::var(name).unwrap_or_default();
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("USERNAME"))
            .unwrap_or_else(|_| "user".into());
        let github_job = [
            "GITHUB_REPOSITORY",
            "GITHUB_RUN_ID",
            "GITHUB_RUN_ATTEMPT",
            "GITHUB_JOB",
            "ACTIONS_ID_TOKEN_REQUEST_URL",
        ]
        .map(var)
        .join("|");
        Self { user, github_job }
    }
}

/// Where the first credentials of a chain come from.
pub enum Source<'c> {
    /// SSO GetRoleCredentials for a permission set.
    PermissionSet {
        provider: &'c IdentityCenter,
        permission_set: &'c str,
        account: &'c AccountRef,
    },
    /// AssumeRoleWithWebIdentity with a GitHub Actions OIDC token.
    WebIdentity {
        provider: &'c GithubOidc,
        role: RoleRequest<'c>,
    },
    /// GetSessionToken with an IAM user's stored keys (`keys_id` names them in the store).
    User {
        identity: &'c str,
        keys_id: String,
        mfa_arn: Option<&'c str>,
        duration: Duration,
    },
    /// An external `credential_process` program.
    Process {
        command: &'c ProcessCommand,
        timeout: Duration,
    },
}

/// One AssumeRole call's parameters.
pub struct RoleRequest<'c> {
    pub identity: &'c str,
    pub role_arn: &'c str,
    pub external_id: Option<&'c str>,
    pub session_name: String,
    pub duration: Duration,
}

pub struct Plan<'c> {
    pub source: Source<'c>,
    pub hops: Vec<RoleRequest<'c>>,
    /// Cache key of each link: the source first, then each hop.
    pub keys: Vec<String>,
    /// The region of the credentials of the last link.
    pub region: &'c str,
    /// The endpoint override of the provider at the root, for the STS calls along the chain.
    pub endpoint_url: Option<&'c str>,
}

impl<'c> Plan<'c> {
    pub fn new(config: &'c Config, identity: &'c Identity, ambient: &Ambient) -> Self {
        let user = ambient.user.as_str();
        let chain = config.chain(identity);
        let root = chain[0];
        let (source, mut key) = source(config, root, ambient);
        let mut keys = vec![key.clone()];
        // Every credential a hop starts from is a role session except an IAM user's session
        // token or whatever an external process returns.
        let mut parent_is_role = matches!(
            source,
            Source::PermissionSet { .. } | Source::WebIdentity { .. }
        );
        let mut hops = Vec::new();
        for hop in &chain[1..] {
            let IdentityKind::AssumeRole {
                role_arn,
                external_id,
                session_name,
                duration,
                ..
            } = &hop.kind
            else {
                unreachable!(
                    "validation allows only aws/assume-role identities to use via.identity"
                )
            };
            let mut duration = duration.unwrap_or(DEFAULT_ROLE_DURATION);
            if parent_is_role {
                duration = duration.min(CHAINED_SESSION_CAP);
            }
            let request = RoleRequest {
                identity: &hop.name,
                role_arn,
                external_id: external_id.as_deref(),
                session_name: session_name
                    .clone()
                    .unwrap_or_else(|| default_session_name(user)),
                duration,
            };
            key = format!(
                "{}:{}",
                hop.name,
                file_name_for(&format!(
                    "{role_arn}|{external_id:?}|{}|{key}",
                    request.session_name
                ))
            );
            keys.push(key.clone());
            hops.push(request);
            parent_is_role = true;
        }
        Self {
            source,
            hops,
            keys,
            region: region_for(config, identity),
            endpoint_url: endpoint_for(config, identity),
        }
    }
}

/// The region an identity's credentials are used in.
pub fn region_for<'c>(config: &'c Config, identity: &'c Identity) -> &'c str {
    config.region_for(identity).unwrap_or(FALLBACK_REGION)
}

/// The endpoint override (`spec.endpoint_url`) of the provider at the root of the identity's
/// chain, which the STS calls along the chain use too.
pub fn endpoint_for<'c>(config: &'c Config, identity: &'c Identity) -> Option<&'c str> {
    let root = config.chain(identity)[0];
    match config.provider_for(root).map(|p| &p.kind) {
        Some(ProviderKind::IdentityCenter(sso)) => sso.endpoint_url.as_deref(),
        _ => None,
    }
}

fn source<'c>(config: &'c Config, root: &'c Identity, ambient: &Ambient) -> (Source<'c>, String) {
    let user = ambient.user.as_str();
    let provider = config.provider_for(root).map(|p| &p.kind);
    match (&root.kind, provider) {
        (
            IdentityKind::PermissionSet {
                permission_set,
                account,
                ..
            },
            Some(ProviderKind::IdentityCenter(sso)),
        ) => {
            let account_key = match account {
                AccountRef::Id(id) => id.to_string(),
                AccountRef::Name(name) => name.clone(),
            };
            let key = format!(
                "{}|{}|{account_key}|{permission_set}",
                sso.region, sso.start_url
            );
            (
                Source::PermissionSet {
                    provider: sso,
                    permission_set,
                    account,
                },
                key,
            )
        }
        (
            IdentityKind::AssumeRole {
                via: Via::Provider(_),
                role_arn,
                session_name,
                duration,
                ..
            },
            Some(ProviderKind::GithubOidc(github)),
        ) => {
            let role = RoleRequest {
                identity: &root.name,
                role_arn,
                external_id: None,
                session_name: session_name
                    .clone()
                    .unwrap_or_else(|| default_session_name(user)),
                duration: duration.unwrap_or(DEFAULT_ROLE_DURATION),
            };
            // Web-identity credentials belong to one workflow job: a runner shared by several
            // repositories must never hand one job's role session to another.
            let key = format!(
                "web-identity|{role_arn}|{}|{}",
                github.audience,
                file_name_for(&ambient.github_job)
            );
            (
                Source::WebIdentity {
                    provider: github,
                    role,
                },
                key,
            )
        }
        (IdentityKind::User { mfa_arn, duration }, _) => {
            let keys_id = user_keys_id(config, root);
            let key = format!("user|{keys_id}|{}", mfa_arn.as_deref().unwrap_or(""));
            let source = Source::User {
                identity: &root.name,
                keys_id,
                mfa_arn: mfa_arn.as_deref(),
                duration: duration.unwrap_or(crate::config::DEFAULT_USER_DURATION),
            };
            (source, key)
        }
        (IdentityKind::CredentialProcess { command, timeout }, _) => {
            let text = match command {
                ProcessCommand::Shell(line) => line.clone(),
                ProcessCommand::Args(args) => args.join("\u{1f}"),
            };
            (
                Source::Process {
                    command,
                    timeout: timeout.unwrap_or(crate::config::DEFAULT_PROCESS_TIMEOUT),
                },
                format!("process|{}", file_name_for(&text)),
            )
        }
        _ => unreachable!("validation ties each identity kind to a provider of the right kind"),
    }
}

/// Where an `aws/user` identity's access keys are kept: per config root and identity name, so
/// two repositories with an identity of the same name never share keys.
pub fn user_keys_id(config: &Config, identity: &Identity) -> String {
    format!("{}|{}", config.root.display(), identity.name)
}

/// `atmos-auth-<user>`, reduced to what STS accepts in a role session name: `[\w+=,.@-]`,
/// 2 to 64 characters.
pub fn default_session_name(user: &str) -> String {
    let mut name: String = format!("atmos-auth-{user}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    name.truncate(64);
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_follow_the_sts_rules() {
        assert_eq!(default_session_name("jane.doe"), "atmos-auth-jane.doe");
        assert_eq!(
            default_session_name("DOMAIN\\jane doe"),
            "atmos-auth-DOMAIN-jane-doe"
        );
        assert_eq!(default_session_name(&"x".repeat(100)).len(), 64);
    }
}
