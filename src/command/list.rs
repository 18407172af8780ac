//! `atmos-auth list`: the profile's providers and identities, how each identity is reached, and
//! which sessions and credentials are cached until when. Reads the store; never the network,
//! never a secret. Without a readable store it still shows the configuration, with the cached
//! state unknown and why.

use std::collections::HashSet;
use std::time::SystemTime;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use super::print;
use super::{Error, exit};
use crate::config::{AccountRef, Config, Identity, IdentityKind, ProviderKind, Via as ConfigVia};
use crate::identity::{Resolver, provisioned};
use crate::output::list::{
    self, CredentialStatus, Format, IdentityView, ListView, ProviderView, SessionStatus, Via,
};
use crate::provider::ProviderError;
use crate::provider::sdk::Clients;
use crate::provider::sso::{LoginPolicy, Portal, SsoSession};
use crate::store::CredentialStore;

/// The `PATTERN` globs of `list`: an identity is shown when its name or alias matches one,
/// ignoring case. No pattern shows every identity.
pub struct Patterns {
    globs: Option<GlobSet>,
}

impl Patterns {
    pub fn new(patterns: &[String]) -> Result<Self, Error> {
        if patterns.is_empty() {
            return Ok(Self { globs: None });
        }
        let mut set = GlobSetBuilder::new();
        for pattern in patterns {
            let glob = GlobBuilder::new(pattern)
                .case_insensitive(true)
                .literal_separator(false)
                .build()
                .map_err(|error| Error::InvalidPattern {
                    pattern: crate::text::printable(pattern),
                    problem: error.kind().to_string(),
                })?;
            set.add(glob);
        }
        let globs = set.build().map_err(|error| Error::InvalidPattern {
            pattern: crate::text::printable(&patterns.join(" ")),
            problem: error.to_string(),
        })?;
        Ok(Self { globs: Some(globs) })
    }

    fn matches(&self, identity: &Identity) -> bool {
        let Some(globs) = &self.globs else {
            return true;
        };
        globs.is_match(&identity.name)
            || identity
                .alias
                .as_deref()
                .is_some_and(|alias| globs.is_match(alias))
    }
}

/// Which identities `list` shows, and which of them were provisioned.
pub struct Shown<'a> {
    pub tags: &'a [String],
    pub patterns: &'a Patterns,
    pub provisioned: &'a [String],
}

/// Fetch the assignments of every auto-provisioning provider again (`list --refresh`).
pub fn refresh(config: &Config, store: &CredentialStore) -> Result<(), Error> {
    let runtime = crate::provider::sdk::runtime().map_err(ProviderError::Runtime)?;
    for provider in config.auth.providers.values() {
        let ProviderKind::IdentityCenter(sso) = &provider.kind else {
            continue;
        };
        if !sso.auto_provision_identities {
            continue;
        }
        runtime.block_on(async {
            let clients = Clients::new(&sso.region)?;
            let session = SsoSession::new(sso, store);
            let token = session
                .access_token(&clients, LoginPolicy::Never, SystemTime::now())
                .await?;
            let portal = Portal::new(clients.sso_portal(session.endpoints()));
            provisioned::refresh(sso, &portal, &token).await
        })?;
    }
    Ok(())
}

/// What the store says about sessions and credentials, or why it cannot say.
struct Cached<'a> {
    store: Option<&'a CredentialStore>,
    /// The entries the store holds, listed once: an identity without one has no credentials,
    /// and is not read (10,000 identities are 10,000 reads otherwise).
    entries: HashSet<crate::store::EntryKey>,
    error: Option<String>,
}

impl<'a> Cached<'a> {
    fn new(store: Result<&'a CredentialStore, &Error>) -> Self {
        let (store, error) = match store {
            Ok(store) => (Some(store), None),
            Err(error) => (None, Some(error.to_string())),
        };
        let mut cached = Self {
            store,
            entries: HashSet::new(),
            error,
        };
        if let Some(store) = cached.store {
            match store.entries() {
                Ok(entries) => cached.entries = entries.into_iter().collect(),
                Err(error) => cached.fail(error),
            }
        }
        cached
    }

    /// Stop reading the store after its first failure, and keep the reason to show.
    fn fail(&mut self, error: impl std::fmt::Display) {
        tracing::debug!(%error, "credential store unreadable: cached state unknown");
        self.store = None;
        self.error.get_or_insert_with(|| error.to_string());
    }
}

/// Lists the providers and the identities `shown` selects.
pub fn run(
    config: &Config,
    store: Result<&CredentialStore, &Error>,
    format: Format,
    shown: &Shown<'_>,
) -> Result<i32, Error> {
    let now = SystemTime::now();
    let mut cached = Cached::new(store);
    let mut providers = Vec::new();
    for provider in config.auth.providers.values() {
        let (detail, session) = match &provider.kind {
            ProviderKind::IdentityCenter(sso) => {
                let token = match cached.store {
                    Some(store) => SsoSession::new(sso, store).cached(),
                    None => Ok(None),
                };
                let session = match token {
                    _ if cached.store.is_none() => SessionStatus::Unknown,
                    Ok(Some(token)) if token.valid(now) => SessionStatus::LoggedIn {
                        until: token.expiration(),
                    },
                    Ok(Some(_)) => SessionStatus::Expired,
                    Ok(None) => SessionStatus::LoggedOut,
                    Err(error) => {
                        cached.fail(error);
                        SessionStatus::Unknown
                    }
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
    // Sessions a failure after them left shown as read are unknown too: one store, one state.
    if cached.store.is_none() {
        for provider in &mut providers {
            if provider.session != SessionStatus::NotApplicable {
                provider.session = SessionStatus::Unknown;
            }
        }
    }
    let provisioned: HashSet<&str> = shown.provisioned.iter().map(String::as_str).collect();
    let mut identities = Vec::new();
    for identity in config.auth.identities.values() {
        if !shown.patterns.matches(identity) || !config.has_tags(identity, shown.tags) {
            continue;
        }
        let credentials = credential_status(config, identity, &mut cached, now);
        identities.push(identity_view(
            config,
            identity,
            credentials,
            provisioned.contains(identity.name.as_str()),
        ));
    }
    // A failure part-way leaves no row claiming to know.
    if cached.store.is_none() {
        for identity in &mut identities {
            identity.credentials = CredentialStatus::Unknown;
        }
    }
    let view = ListView {
        profile: config.profile.clone(),
        realm: crate::realm::current().map(str::to_owned),
        providers,
        identities,
        store_error: cached.error,
    };
    let text = list::render(&view, format, now);
    print(text.as_bytes())?;
    Ok(exit::SUCCESS)
}

/// The state of the identity's cached credentials, read only when the store lists its entry.
fn credential_status(
    config: &Config,
    identity: &Identity,
    cached: &mut Cached<'_>,
    now: SystemTime,
) -> CredentialStatus {
    let Some(store) = cached.store else {
        return CredentialStatus::Unknown;
    };
    let resolver = Resolver::new(config, store);
    if !cached.entries.contains(&resolver.stored_key(identity)) {
        return CredentialStatus::None;
    }
    match resolver.stored(identity) {
        Ok(Some(c)) if c.usable(std::time::Duration::ZERO, now) => CredentialStatus::Valid {
            until: c.expiration(),
        },
        Ok(Some(_)) => CredentialStatus::Expired,
        Ok(None) => CredentialStatus::None,
        Err(error) => {
            cached.fail(error);
            CredentialStatus::Unknown
        }
    }
}

/// One identity's row.
fn identity_view(
    config: &Config,
    identity: &Identity,
    credentials: CredentialStatus,
    provisioned: bool,
) -> IdentityView {
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
    IdentityView {
        name: identity.name.clone(),
        kind: identity.kind.name().into(),
        via,
        target,
        default: identity.default,
        alias: identity.alias.clone(),
        credentials,
        provisioned,
        tags: config.tags_of(identity).into_iter().collect(),
    }
}
