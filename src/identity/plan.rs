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
    crate::realm::qualify(format!("{}|{}", config.root.display(), identity.name))
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

    /// Every kind of chain: each identity kind as the source, hops above a role session (capped
    /// at an hour), above an IAM user's session token and above an external process (not capped),
    /// and regions set on the identity, on a link below it, on the provider, or nowhere.
    const CHAINS: &str = r#"
auth:
  providers:
    sso:
      kind: aws/iam-identity-center
      region: eu-west-1
      start_url: https://x.awsapps.com/start
    github:
      kind: github/oidc
      region: eu-central-1
      spec: { audience: sts.example.com }
  identities:
    dev:
      kind: aws/permission-set
      via: { provider: sso }
      principal: { name: Admin, account: { id: "222222222222" } }
    named:
      kind: aws/permission-set
      region: us-west-2
      via: { provider: sso }
      principal: { name: ReadOnlyAccess, account: { name: plat-dev } }
    chained:
      kind: aws/assume-role
      via: { identity: dev }
      principal: { assume_role: "arn:aws:iam::222222222222:role/x" }
    deep:
      kind: aws/assume-role
      region: ap-south-1
      via: { identity: chained }
      principal:
        assume_role: arn:aws:iam::333333333333:role/y
        external_id: ext-1
        session_name: ci-deploy
        duration: 4h
    below-deep:
      kind: aws/assume-role
      via: { identity: deep }
      principal: { assume_role: "arn:aws:iam::333333333333:role/z" }
    ci:
      kind: aws/assume-role
      via: { provider: github }
      principal: { assume_role: "arn:aws:iam::444444444444:role/ci", duration: 2h }
    ci-hop:
      kind: aws/assume-role
      via: { identity: ci }
      principal: { assume_role: "arn:aws:iam::444444444444:role/z", duration: 2h }
    me:
      kind: aws/user
      principal: { mfa_arn: "arn:aws:iam::555555555555:mfa/alice", duration: 36h }
    me-hop:
      kind: aws/assume-role
      via: { identity: me }
      principal: { assume_role: "arn:aws:iam::555555555555:role/z", duration: 2h }
    helper:
      kind: credential_process
      region: us-east-2
      spec: { args: [my-helper, --profile, dev] }
    helper-hop:
      kind: aws/assume-role
      via: { identity: helper }
      principal: { assume_role: "arn:aws:iam::666666666666:role/z", duration: 2h }
"#;

    /// `yaml` loaded as a config root's `atmos.yaml`.
    fn config(yaml: &str) -> Config {
        let sources = [(std::path::PathBuf::from("atmos.yaml"), yaml.to_owned())];
        crate::config::from_sources(std::path::PathBuf::from("."), None, &sources).unwrap()
    }

    /// The keys of `chained` (its source, then its hop) with these endpoint variables set.
    fn keys(vars: &[(&'static str, &str)]) -> Vec<String> {
        let config = config(CHAINS);
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
            aws[0].starts_with("eu-west-1|https://x.awsapps.com/start|222222222222|Admin@"),
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

    /// A plan as text: the source, each hop, the readable part of each link's key, the region.
    fn describe(plan: &Plan<'_>) -> String {
        let mut lines = vec![match &plan.source {
            Source::PermissionSet {
                provider,
                permission_set,
                account,
            } => format!(
                "permission set {permission_set} in {account:?} from {}",
                provider.start_url
            ),
            Source::WebIdentity { provider, role } => format!(
                "web identity {} ({}s, session {}) for {}",
                role.role_arn,
                role.duration.as_secs(),
                role.session_name,
                provider.audience
            ),
            Source::User {
                identity,
                keys_id,
                mfa_arn,
                duration,
            } => format!(
                "user {identity} keys {keys_id} mfa {mfa_arn:?} ({}s)",
                duration.as_secs()
            ),
            Source::Process { command, timeout } => {
                format!("process {command:?} ({}s)", timeout.as_secs())
            }
        }];
        for hop in &plan.hops {
            lines.push(format!(
                "hop {} {} ({}s, session {}, external id {:?})",
                hop.identity,
                hop.role_arn,
                hop.duration.as_secs(),
                hop.session_name,
                hop.external_id
            ));
        }
        let readable: Vec<&str> = plan
            .keys
            .iter()
            .map(|key| key.split_once('@').map_or(key.as_str(), |(name, _)| name))
            .collect();
        lines.push(format!("keys {}", readable.join(" → ")));
        lines.push(format!("region {}", plan.region));
        lines.join("\n")
    }

    fn ambient(user: &str, github_job: &str) -> Ambient {
        Ambient {
            user: user.into(),
            github_job: github_job.into(),
            endpoint_vars: BTreeMap::new(),
        }
    }

    fn plan_of(config: &Config, identity: &str, ambient: &Ambient) -> (String, Vec<String>) {
        let plan = Plan::new(config, config.identity(identity).unwrap(), ambient);
        (describe(&plan), plan.keys)
    }

    #[test]
    fn chains_sources_hops_keys_and_regions() {
        let cases: [(&str, &str); 11] = [
            (
                "dev",
                "permission set Admin in Id(AccountId(\"222222222222\")) from https://x.awsapps.com/start
keys eu-west-1|https://x.awsapps.com/start|222222222222|Admin
region eu-west-1",
            ),
            (
                "named",
                "permission set ReadOnlyAccess in Name(\"plat-dev\") from https://x.awsapps.com/start
keys eu-west-1|https://x.awsapps.com/start|plat-dev|ReadOnlyAccess
region us-west-2",
            ),
            (
                "chained",
                "permission set Admin in Id(AccountId(\"222222222222\")) from https://x.awsapps.com/start
hop chained arn:aws:iam::222222222222:role/x (3600s, session atmos-auth-alice, external id None)
keys eu-west-1|https://x.awsapps.com/start|222222222222|Admin → chained
region eu-west-1",
            ),
            (
                "deep",
                "permission set Admin in Id(AccountId(\"222222222222\")) from https://x.awsapps.com/start
hop chained arn:aws:iam::222222222222:role/x (3600s, session atmos-auth-alice, external id None)
hop deep arn:aws:iam::333333333333:role/y (3600s, session ci-deploy, external id Some(\"ext-1\"))
keys eu-west-1|https://x.awsapps.com/start|222222222222|Admin → chained → deep
region ap-south-1",
            ),
            (
                "below-deep",
                "permission set Admin in Id(AccountId(\"222222222222\")) from https://x.awsapps.com/start
hop chained arn:aws:iam::222222222222:role/x (3600s, session atmos-auth-alice, external id None)
hop deep arn:aws:iam::333333333333:role/y (3600s, session ci-deploy, external id Some(\"ext-1\"))
hop below-deep arn:aws:iam::333333333333:role/z (3600s, session atmos-auth-alice, external id None)
keys eu-west-1|https://x.awsapps.com/start|222222222222|Admin → chained → deep → below-deep
region ap-south-1",
            ),
            (
                "ci",
                "web identity arn:aws:iam::444444444444:role/ci (7200s, session atmos-auth-alice) for sts.example.com
keys web-identity|arn:aws:iam::444444444444:role/ci|sts.example.com
region eu-central-1",
            ),
            (
                "ci-hop",
                "web identity arn:aws:iam::444444444444:role/ci (7200s, session atmos-auth-alice) for sts.example.com
hop ci-hop arn:aws:iam::444444444444:role/z (3600s, session atmos-auth-alice, external id None)
keys web-identity|arn:aws:iam::444444444444:role/ci|sts.example.com → ci-hop
region eu-central-1",
            ),
            (
                "me",
                "user me keys .|me mfa Some(\"arn:aws:iam::555555555555:mfa/alice\") (129600s)
keys user|.|me|arn:aws:iam::555555555555:mfa/alice
region us-east-1",
            ),
            (
                "me-hop",
                "user me keys .|me mfa Some(\"arn:aws:iam::555555555555:mfa/alice\") (129600s)
hop me-hop arn:aws:iam::555555555555:role/z (7200s, session atmos-auth-alice, external id None)
keys user|.|me|arn:aws:iam::555555555555:mfa/alice → me-hop
region us-east-1",
            ),
            (
                "helper",
                "process Args([\"my-helper\", \"--profile\", \"dev\"]) (120s)
keys process
region us-east-2",
            ),
            (
                "helper-hop",
                "process Args([\"my-helper\", \"--profile\", \"dev\"]) (120s)
hop helper-hop arn:aws:iam::666666666666:role/z (7200s, session atmos-auth-alice, external id None)
keys process → helper-hop
region us-east-2",
            ),
        ];
        let config = config(CHAINS);
        let alice = ambient("alice", "");
        let mut every_key = BTreeMap::new();
        let mismatches: Vec<String> = cases
            .iter()
            .filter_map(|(identity, expected)| {
                let (actual, keys) = plan_of(&config, identity, &alice);
                // Two links share a key only when they are the same link at the same depth of
                // chains that call the same STS endpoint (`deep` and `below-deep`, both in
                // ap-south-1); otherwise every link's key is its own.
                for (link, key) in keys.iter().enumerate() {
                    let owner = format!("{identity}#{link}");
                    if let Some(first) = every_key.insert(key.clone(), owner.clone()) {
                        let shared = first.split('#').nth(1) == Some(&link.to_string());
                        assert!(shared, "{owner} and {first} share the key {key}");
                    }
                }
                (actual != *expected)
                    .then(|| format!("{identity}:\n--- expected\n{expected}\n--- actual\n{actual}"))
            })
            .collect();
        assert!(mismatches.is_empty(), "{}", mismatches.join("\n\n"));
        // 5 sources, and 7 hops: `chained` twice, since a chain's STS calls are made in the
        // region of its last link, and its keys are bound to that endpoint.
        assert_eq!(every_key.len(), 12, "{every_key:#?}");
        let (_, chained) = plan_of(&config, "chained", &alice);
        let (_, deep) = plan_of(&config, "deep", &alice);
        assert_eq!(chained[0], deep[0], "the portal credentials are shared");
        assert_ne!(chained[1], deep[1], "sts.eu-west-1 and sts.ap-south-1");
    }

    #[test]
    fn keys_change_with_what_the_credentials_depend_on() {
        let config = config(CHAINS);
        let alice = ambient("alice", "");
        // Another user's default session name changes each hop without one of its own, and
        // every hop above it; the source does not depend on the user.
        let (_, mine) = plan_of(&config, "below-deep", &alice);
        let (_, theirs) = plan_of(&config, "below-deep", &ambient("bob", ""));
        assert_eq!(mine[0], theirs[0]);
        assert!(mine[1..].iter().zip(&theirs[1..]).all(|(a, b)| a != b));
        // Web-identity credentials belong to one workflow job.
        let (_, job1) = plan_of(&config, "ci-hop", &ambient("alice", "org/repo|1|1|build|u"));
        let (_, job2) = plan_of(&config, "ci-hop", &ambient("alice", "org/repo|2|1|build|u"));
        assert_ne!(job1[0], job2[0]);
        assert_ne!(job1[1], job2[1]);
        // Neither a user session nor a process depends on the job.
        for identity in ["me-hop", "helper-hop"] {
            let (_, job1) = plan_of(&config, identity, &ambient("alice", "a"));
            let (_, job2) = plan_of(&config, identity, &ambient("alice", "b"));
            assert_eq!(job1, job2, "{identity}");
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
