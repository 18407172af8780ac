//! `atmos-auth list`: the profile's providers and identities, how each identity is reached, and
//! which sessions and credentials are cached until when. Reads the store; never the network,
//! never a secret.

use std::time::SystemTime;

use super::{Context, print};
use super::{Error, exit};
use crate::config::{AccountRef, IdentityKind, ProviderKind, Via as ConfigVia};
use crate::identity::provision;
use crate::output::list::{
    self, CredentialStatus, Format, IdentityView, ListView, ProviderView, SessionStatus, Via,
};
use crate::provider::ProviderError;
use crate::provider::sdk::Clients;
use crate::provider::sso::{LoginPolicy, Portal, SsoSession};

/// Fetch the assignments of every auto-provisioning provider again (`list --refresh`).
pub fn refresh(context: &Context) -> Result<(), Error> {
    let runtime = crate::provider::sdk::runtime().map_err(ProviderError::Runtime)?;
    for provider in context.config.auth.providers.values() {
        let ProviderKind::IdentityCenter(sso) = &provider.kind else {
            continue;
        };
        if !sso.auto_provision_identities {
            continue;
        }
        runtime.block_on(async {
            let clients = Clients::new(&sso.region)?;
            let session = SsoSession::new(sso, &context.store);
            let token = session
                .access_token(&clients, LoginPolicy::Never, SystemTime::now())
                .await?;
            let portal = Portal::new(clients.sso_portal(session.endpoints()));
            provision::refresh(sso, &portal, &token).await
        })?;
    }
    Ok(())
}

/// Lists the providers and the identities carrying all of `tags` (every identity when empty).
pub fn run(context: &Context, format: Format, tags: &[String]) -> Result<i32, Error> {
    let now = SystemTime::now();
    let config = &context.config;
    let mut providers = Vec::new();
    for provider in config.auth.providers.values() {
        let (detail, session) = match &provider.kind {
            ProviderKind::IdentityCenter(sso) => {
                let session = match SsoSession::new(sso, &context.store).cached()? {
                    Some(token) if token.valid(now) => SessionStatus::LoggedIn {
                        until: token.expiration(),
                    },
                    Some(_) => SessionStatus::Expired,
                    None => SessionStatus::LoggedOut,
                };
                (format!("{} ({})", sso.start_url, sso.region), session)
            }
            ProviderKind::GithubOidc(github) => (
                format!("audience {}", github.audience),
                SessionStatus::NotApplicable,
            ),
        };
        providers.push(ProviderView {
            name: provider.name.clone(),
            kind: provider.kind.name().into(),
            detail,
            session,
        });
    }
    let resolver = context.resolver();
    let mut identities = Vec::new();
    for identity in config.auth.identities.values() {
        if !config.has_tags(identity, tags) {
            continue;
        }
        let credentials = match resolver.stored(identity)? {
            Some(c) if c.usable(std::time::Duration::ZERO, now) => CredentialStatus::Valid {
                until: c.expiration(),
            },
            Some(_) => CredentialStatus::Expired,
            None => CredentialStatus::None,
        };
        let (via, target) = match &identity.kind {
            IdentityKind::PermissionSet {
                provider,
                permission_set,
                account,
            } => {
                let account = match account {
                    // Names are resolved to ids at load; show the name again where the map has it.
                    AccountRef::Id(id) => {
                        match config.accounts.iter().find(|(_, known)| *known == id) {
                            Some((name, _)) => format!("{name} ({id})"),
                            None => id.to_string(),
                        }
                    }
                    AccountRef::Name(name) => name.clone(),
                };
                (
                    Some(Via::Provider(provider.clone())),
                    format!("{permission_set} @ {account}"),
                )
            }
            IdentityKind::AssumeRole { via, role_arn, .. } => {
                let via = match via {
                    ConfigVia::Provider(name) => Via::Provider(name.clone()),
                    ConfigVia::Identity(name) => Via::Identity(name.clone()),
                };
                (Some(via), role_arn.clone())
            }
            IdentityKind::User { .. } => (None, "IAM user".into()),
            // Only the program: a command line may carry arguments nobody should see listed.
            IdentityKind::CredentialProcess { command, .. } => (None, command.program().to_owned()),
        };
        identities.push(IdentityView {
            name: identity.name.clone(),
            kind: identity.kind.name().into(),
            via,
            target,
            default: identity.default,
            alias: identity.alias.clone(),
            credentials,
            provisioned: context.provisioned.contains(&identity.name),
            tags: config.tags_of(identity).into_iter().collect(),
        });
    }
    let view = ListView {
        profile: config.profile.clone(),
        realm: crate::store::realm::current().map(str::to_owned),
        providers,
        identities,
    };
    let text = list::render(&view, format, now);
    print(text.as_bytes())?;
    Ok(exit::SUCCESS)
}
