//! `Plan`: how an identity's credentials are obtained, worked out from the configuration alone
//! (no I/O) — a source for the first credentials of the chain, then one `AssumeRole` hop per
//! chained identity. Each link has its own cache key, so a chain reuses every link that is
//! still valid.
//!
//! Each key is bound to what the link's credentials came from: the SSO session and portal
//! endpoint, or the STS endpoint and the link before. Credentials one endpoint issued are never
//! served for another, and a parent's credentials are only ever sent to the STS endpoint its
//! child's key names.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::config::{
    AccountRef, Config, GithubOidc, Identity, IdentityCenter, IdentityKind, ProcessCommand,
    ProviderKind, Via,
};
use crate::provider::sdk::{self, Endpoints};
use crate::provider::sso;
use crate::provider::sts::RoleRequest;
use crate::store::bound_id;

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
    /// The endpoint variables (`AWS_ENDPOINT_URL*`) that are set and not empty.
    pub endpoint_vars: BTreeMap<&'static str, String>,
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
        let endpoint_vars = sdk::env::ENDPOINT_VARS
            .into_iter()
            .filter_map(|name| Some((name, sdk::process_env(name)?)))
            .collect();
        Self {
            user,
            github_job,
            endpoint_vars,
        }
    }

    /// The effective endpoints for `region` and `spec.endpoint_url` in these surroundings.
    pub fn endpoints(&self, region: &str, configured: Option<&str>) -> Endpoints {
        Endpoints::resolve(region, configured, &|name| {
            self.endpoint_vars.get(name).cloned()
        })
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

pub struct Plan<'c> {
    pub source: Source<'c>,
    pub hops: Vec<RoleRequest<'c>>,
    /// Cache key of each link: the source first, then each hop.
    pub keys: Vec<String>,
    /// The region of the credentials of the last link.
    pub region: &'c str,
    /// The effective endpoints for the STS calls along the chain: in `region`, with the endpoint
    /// override of the provider at the root.
    pub endpoints: Endpoints,
}

impl<'c> Plan<'c> {
    pub fn new(config: &'c Config, identity: &'c Identity, ambient: &Ambient) -> Self {
        let user = ambient.user.as_str();
        let chain = config.chain(identity);
        let root = chain[0];
        let region = region_for(config, identity);
        let endpoints = ambient.endpoints(region, endpoint_for(config, identity));
        let (source, mut key) = source(config, root, ambient, &endpoints);
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
            key = bound_id(
                &hop.name,
                &[
                    role_arn,
                    external_id.as_deref().unwrap_or(""),
                    &request.session_name,
                    &endpoints.sts,
                    &key,
                ],
            );
            keys.push(key.clone());
            hops.push(request);
            parent_is_role = true;
        }
        Self {
            source,
            hops,
            keys,
            region,
            endpoints,
        }
    }
}

/// The region an identity's credentials are used in: `Config::region_for`, else
/// `FALLBACK_REGION`. Every command and the plan ask here.
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

/// The first link and its key. `endpoints` are the plan's, for the STS calls.
fn source<'c>(
    config: &'c Config,
    root: &'c Identity,
    ambient: &Ambient,
    endpoints: &Endpoints,
) -> (Source<'c>, String) {
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
            // Bound to the session the credentials are fetched with, which is bound to the
            // portal endpoint they come from.
            let session = sso::session_id(
                sso,
                &ambient.endpoints(&sso.region, sso.endpoint_url.as_deref()),
            );
            let key = bound_id(
                &format!(
                    "{}|{}|{account_key}|{permission_set}",
                    sso.region, sso.start_url
                ),
                &[&session],
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
            let key = bound_id(
                &format!("web-identity|{role_arn}|{}", github.audience),
                &[&ambient.github_job, &endpoints.sts],
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
            let key = bound_id(
                &format!("user|{keys_id}|{}", mfa_arn.as_deref().unwrap_or("")),
                &[&endpoints.sts],
            );
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
                bound_id("process", &[&text]),
            )
        }
        _ => unreachable!("validation ties each identity kind to a provider of the right kind"),
    }
}

/// Where an `aws/user` identity's access keys are kept: per config root and identity name, so
/// two repositories with an identity of the same name never share keys.
pub fn user_keys_id(config: &Config, identity: &Identity) -> String {
    crate::store::realm::qualify(format!("{}|{}", config.root.display(), identity.name))
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

    const CONFIG: &str = "
auth:
  providers:
    sso:
      kind: aws/iam-identity-center
      region: us-east-1
      start_url: https://x.awsapps.com/start
  identities:
    dev:
      kind: aws/permission-set
      via: { provider: sso }
      principal: { name: Admin, account: { id: \"222222222222\" } }
    chained:
      kind: aws/assume-role
      via: { identity: dev }
      principal: { assume_role: \"arn:aws:iam::222222222222:role/x\" }
";

    /// The keys of `chained` (its source, then its hop) with these endpoint variables set.
    fn keys(vars: &[(&'static str, &str)]) -> Vec<String> {
        let sources = [(std::path::PathBuf::from("atmos.yaml"), CONFIG.to_owned())];
        let config =
            crate::config::from_sources(std::path::PathBuf::from("."), None, &sources).unwrap();
        let ambient = Ambient {
            user: "u".into(),
            github_job: String::new(),
            endpoint_vars: vars.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
        };
        Plan::new(&config, config.identity("chained").unwrap(), &ambient).keys
    }

    #[test]
    fn every_link_is_bound_to_the_endpoints_it_came_from() {
        let aws = keys(&[]);
        assert!(
            aws[0].starts_with("us-east-1|https://x.awsapps.com/start|222222222222|Admin@"),
            "{}",
            aws[0]
        );
        assert!(aws[1].starts_with("chained@"), "{}", aws[1]);
        let sts = keys(&[("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1")]);
        assert_eq!(aws[0], sts[0], "portal credentials do not depend on STS");
        assert_ne!(aws[1], sts[1], "a hop is bound to its STS endpoint");
        for var in ["AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL_SSO_OIDC"] {
            let sso = keys(&[(var, "http://127.0.0.1:1")]);
            assert_ne!(aws[0], sso[0], "bound to the session's endpoints ({var})");
            assert_ne!(aws[1], sso[1], "a hop is bound to the link before ({var})");
        }
    }

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
